[ -e /etc/haproxy/conf.d ] || { _err '/etc/haproxy/conf.d does not exist'; return 1; }
_acl=$(getfacl -p -- /etc/haproxy/conf.d | sed 's/[[:space:]]*#.*$//') || return 1
_acl="
$_acl
"
_s=''; _sm=''
case "$_acl" in *"
"user:consul:rwx"
"*) ;; *) _s="$_s,"user:consul:rwx ;; esac
case "$_acl" in *"
"default:user:consul:rw-"
"*) ;; *) _s="$_s,"default:user:consul:rw- ;; esac
if [ -n "$_s" ]; then _s="$_s"; else _s="$_sm"; fi
if [ -n "$_s" ]; then setfacl -m "${_s#,}" -- /etc/haproxy/conf.d || return 1; _changed; fi
