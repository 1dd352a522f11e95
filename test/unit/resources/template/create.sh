_put /etc/app/app.conf 640 root adm 8d265882d34359e36114f97b7b8cea1ee6c57ca46caa95ee5175475568df0b03 0 '' /etc/app/.provision-n0nce.app.conf 0 <<'_P_n0nce' || return 1
bGlzdGVuIDAuMC4wLjA6ODAK
_P_n0nce

