#!/bin/sh
# First start on an empty data directory: initdb with the superuser's password, run the
# init scripts against a server listening on the socket only (as the official image does,
# so nobody connects before they are done), then serve on every address.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
export POSTGRES_USER="${POSTGRES_USER:-postgres}" PGHOST=/tmp
if [ ! -s "${PGDATA}/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD}" >"${pwfile}"
    initdb --username="${POSTGRES_USER}" --pwfile="${pwfile}" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 -D "${PGDATA}" >/dev/null
    rm -f "${pwfile}"
    echo "host all all all scram-sha-256" >>"${PGDATA}/pg_hba.conf"
    pg_ctl -D "${PGDATA}" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start >/dev/null
    for script in /docker-entrypoint-initdb.d/*.sh; do
        [ -e "${script}" ] && sh "${script}"
    done
    pg_ctl -D "${PGDATA}" -m fast -w stop >/dev/null
fi
exec postgres -D "${PGDATA}" -c listen_addresses='*' -c unix_socket_directories=/tmp
