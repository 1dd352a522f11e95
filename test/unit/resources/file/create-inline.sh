_put /etc/app/app.conf 644 '' '' 8ac56ba2b165fcd437ca405ef420a36ccbda0f41ce603a07db42752ff00335a2 0 '' /etc/app/.provision-n0nce.app.conf 0 <<'_P_n0nce' || return 1
cG9ydD04MAo=
_P_n0nce

