_put /etc/sudoers.d/consul-template 5477c824f99aed549189ebea0568650cf838440b0dd6e55c1f84b04cca655ea7 /etc/sudoers.d/.provision-n0nce.consul-template mode=440 owner=root group=root 'validate=/usr/sbin/visudo -cf /etc/sudoers.d/.provision-n0nce.consul-template' 'text=consul ALL=(root) NOPASSWD: /bin/systemctl reload haproxy.service
' || return 1
