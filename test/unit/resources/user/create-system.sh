_pw=$(getent passwd consul)
if [ -z "$_pw" ]; then
if getent group consul >/dev/null; then set -- --gid consul; else set -- --user-group; fi
useradd "$@" --system --home-dir /etc/consul.d --shell /bin/false --comment 'Consul'\''s agent' consul || return 1
_changed
else
IFS=: read -r _n _x _uid _gid _gecos _home _shell <<_U_EOF
$_pw
_U_EOF
set --
[ "$_home" = /etc/consul.d ] || set -- "$@" --home /etc/consul.d
[ "$_shell" = /bin/false ] || set -- "$@" --shell /bin/false
[ "$_gecos" = 'Consul'\''s agent' ] || set -- "$@" --comment 'Consul'\''s agent'
if [ $# -gt 0 ]; then usermod "$@" consul || return 1; _changed; fi
fi
