_link /etc/nginx/sites-enabled/app ../sites-available/app /etc/nginx/sites-enabled/.provision-n0nce.app '' ''
