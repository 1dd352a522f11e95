if [ "$_RS_haproxy_service" = 1 ]; then return 0; fi
_daemon_reload || return 1
if ! _unit try-reload-or-restart haproxy.service; then _err 'systemctl try-reload-or-restart haproxy.service failed:'; systemctl status --no-pager -l -n 0 -- haproxy.service >&2; journalctl -u haproxy.service -n 20 --no-pager >&2; return 1; fi
_changed
