_daemon_reload || return 1
if ! systemctl is-enabled --quiet -- haproxy.service 2>/dev/null; then systemctl enable --quiet -- haproxy.service || return 1; _changed; fi
if ! systemctl is-active --quiet -- haproxy.service; then
  if ! _unit start haproxy.service; then _err 'haproxy.service failed to start:'; systemctl status --no-pager -l -n 20 -- haproxy.service >&2; return 1; fi
  _changed
fi
