_absent /etc/app/old.conf
