if [ -e /usr/local/bin/consul ]; then :; else
  ( tar -xzf /tmp/consul.tgz -C /usr/local/bin
  ) || return $?
  _changed
  [ -e /usr/local/bin/consul ] || { _err 'command ran but did not create /usr/local/bin/consul'; return 1; }
fi
