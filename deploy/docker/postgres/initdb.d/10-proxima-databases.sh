#!/bin/sh
# Run once by the official postgres image on an empty data directory
# (/docker-entrypoint-initdb.d). Creates one role and one database per service, each
# database owned by its own role and closed to every other role.
#
# Passwords come from the environment of the postgres container (LEDGER_DB_PASSWORD, ...,
# see .env.example); they are passed to psql as variables, never spliced into SQL text.
set -eu

for service in ledger funding diagnostics gateway; do
    var="$(echo "${service}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "${var}" || true)"
    if [ -z "${password}" ]; then
        echo "initdb: ${var} is not set (copy .env.example to .env)" >&2
        exit 1
    fi
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres \
        -v role="${service}" -v db="proxima_${service}" -v password="${password}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
SQL
    echo "initdb: created role ${service} and database proxima_${service}"
done
