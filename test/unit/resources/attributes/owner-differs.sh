if [ ! -e /var/lib/haproxy ]; then _err '/var/lib/haproxy does not exist (attributes manage an existing path)'; return 1; fi
_attrs /var/lib/haproxy 755 haproxy ''
