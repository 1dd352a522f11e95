_g=$(getent group consul)
if [ -z "$_g" ]; then
  groupadd --system consul || return 1
  _changed
fi
