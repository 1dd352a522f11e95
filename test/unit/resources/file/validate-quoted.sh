_put '/etc/app/it'\''s here.cfg' 73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac '/etc/app/.provision-n0nce.it'\''s here.cfg' 'validate=check --config '\''/etc/app/.provision-n0nce.it'\''\'\'''\''s here.cfg'\''' 'text=x
' || return 1
