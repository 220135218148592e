#!/usr/bin/env bash
# Airflow's one-off initialisation, shared by docker-compose.yml (service airflow-init) and
# make test-deploy (scripts/test_deploy.py), so that both run the same steps:
#   1. migrate the metadata database (Airflow's tables and the FAB auth manager's);
#   2. the pool that bounds concurrent loads and dbt builds against the warehouse
#      (ingest.orchestration.WAREHOUSE_POOL; D06_WAREHOUSE_POOL_SLOTS, default 2);
#   3. the admin login of the FAB auth manager, created or its password reset, from
#      AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD (FAB stores a scrypt hash; nothing is printed).
# Idempotent: it runs on every `docker compose up`.
set -euo pipefail

: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD}"
user="${AIRFLOW_ADMIN_USER:-admin}"
pool="d06_warehouse"
slots="${D06_WAREHOUSE_POOL_SLOTS:-2}"

airflow db migrate
airflow pools set "$pool" "$slots" "Concurrent loads and dbt builds against the warehouse" >/dev/null
if airflow users list --output plain 2>/dev/null | awk 'NR > 1 {print $2}' | grep -qxF "$user"; then
    airflow users reset-password --username "$user" --password "$AIRFLOW_ADMIN_PASSWORD" >/dev/null
    echo "airflow-init: metadata migrated, pool $pool ($slots slots), admin login $user updated"
else
    airflow users create --role Admin --username "$user" --password "$AIRFLOW_ADMIN_PASSWORD" \
        --firstname "Đề án 06" --lastname "Admin" --email "${AIRFLOW_ADMIN_EMAIL:-$user@d06.example}" >/dev/null
    echo "airflow-init: metadata migrated, pool $pool ($slots slots), admin login $user created"
fi
