_hx() { printf '%s\n' "$1" | socat -t5 stdio UNIX-CONNECT:/run/haproxy/admin.sock; }
if [ -S /run/haproxy/admin.sock ] && _hx 'show info' 2>/dev/null | grep -q '^Pid: '; then
:
_hx 'show servers state' > /var/lib/haproxy/server-state.provision-tmp && [ "$(head -n1 /var/lib/haproxy/server-state.provision-tmp)" = 1 ] && mv -f -- /var/lib/haproxy/server-state.provision-tmp /var/lib/haproxy/server-state || { rm -f -- /var/lib/haproxy/server-state.provision-tmp; _err 'cannot save the server state'; return 1; }
_changed_live
else
:
if [ -f /var/lib/haproxy/server-state ]; then awk 'NR <= 2 || !(($2 == "bk_static" && $4 == "a"))' /var/lib/haproxy/server-state > /var/lib/haproxy/server-state.provision-tmp && mv -f -- /var/lib/haproxy/server-state.provision-tmp /var/lib/haproxy/server-state || { rm -f -- /var/lib/haproxy/server-state.provision-tmp; return 1; }; _changed_live; fi
fi
