_put /etc/app/app.conf 8ac56ba2b165fcd437ca405ef420a36ccbda0f41ce603a07db42752ff00335a2 /etc/app/.provision-n0nce.app.conf mode=644 'text=port=80
' || return 1
