if [ ! -d /etc/systemd/system/haproxy.service.d ]; then mkdir -p -- /etc/systemd/system/haproxy.service.d || return 1; fi
_C0=${_C:-0}; _C=0
_put /etc/systemd/system/haproxy.service.d/10-master.conf 644 root root 387dcf353bcb594a716917c6ca924a81728f77ba716ea92bc7b979ad5186df53 0 '' /etc/systemd/system/haproxy.service.d/.provision-n0nce.10-master.conf 0 <<'_P_n0nce' || return 1
W1NlcnZpY2VdCkVudmlyb25tZW50PVg9MQo=
_P_n0nce
_rc=$?
if [ "$_C" = 1 ]; then _DR=1; fi
[ "$_C0" = 1 ] && _C=1
return "$_rc"
