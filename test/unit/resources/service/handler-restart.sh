_daemon_reload || return 1
if ! _unit restart consul.service; then _err 'systemctl restart consul.service failed:'; systemctl status --no-pager -l -n 0 -- consul.service >&2; journalctl -u consul.service -n 20 --no-pager >&2; return 1; fi
_RS_consul_service=1
_changed
