_line /etc/default/haproxy present 0 /etc/default/.provision-n0nce.haproxy '^EXTRAOPTS=' 'EXTRAOPTS="-S /run/haproxy-master.sock"' '' || return 1
