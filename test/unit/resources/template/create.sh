_put /etc/app/app.conf 8d265882d34359e36114f97b7b8cea1ee6c57ca46caa95ee5175475568df0b03 /etc/app/.provision-n0nce.app.conf mode=640 owner=root group=adm 'text=listen 0.0.0.0:80
' || return 1
