#!/bin/sh
# The compose service `superset`: migrate its metadata database, create the admin, import the
# bundle (idempotent), then serve.  Every secret comes from the environment.
set -eu
: "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD}"
python /opt/d06/bi/superset_admin.py metadata-db
superset db upgrade
superset fab create-admin --username admin --firstname "Quản trị" --lastname D06 \
  --email admin@d06.example --password "$SUPERSET_ADMIN_PASSWORD"
superset init
python /opt/d06/bi/superset_admin.py import
exec gunicorn --bind=0.0.0.0:8088 --workers=2 --worker-class=gthread --threads=4 --timeout=120 \
  'superset.app:create_app()'
