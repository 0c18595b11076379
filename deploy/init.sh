#!/usr/bin/env bash
# One-off set-up of the deployment (docker-compose.yaml's airflow-init service): migrate the
# metadata database, write the admin password, define the connections.
set -euo pipefail
here=$(dirname "$0")
airflow db migrate
mkdir -p "$(dirname "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")"
echo '{"admin": "admin"}' > "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
chown -R 50000:0 "$(dirname "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")"
airflow connections import --overwrite "$here/connections.json"
