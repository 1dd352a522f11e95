if [ ! -d /etc/systemd/system/haproxy.service.d ]; then mkdir -p -- /etc/systemd/system/haproxy.service.d || return 1; fi
_C0=${_C:-0}; _C=0
_put /etc/systemd/system/haproxy.service.d/10-master.conf 387dcf353bcb594a716917c6ca924a81728f77ba716ea92bc7b979ad5186df53 /etc/systemd/system/haproxy.service.d/.provision-n0nce.10-master.conf mode=644 owner=root group=root 'text=[Service]
Environment=X=1
' || return 1
_rc=$?
if [ "$_C" = 1 ]; then _DR=1; fi
[ "$_C0" = 1 ] && _C=1
return "$_rc"
