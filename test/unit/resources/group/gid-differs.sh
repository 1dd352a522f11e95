_g=$(getent group consul)
if [ -z "$_g" ]; then
  groupadd --gid 990 consul || return 1
  _changed
else
  _g=${_g#*:}; _g=${_g#*:}; _g=${_g%%:*}
  if [ "$_g" != 990 ]; then groupmod --gid 990 consul || return 1; _changed; fi
fi
