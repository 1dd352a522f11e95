_dir /srv/data 750 consul ''
