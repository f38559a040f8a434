#!/bin/sh
# Initialise the cluster on first start (empty volume), then run postgres in the foreground.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  chown -R postgres:postgres "$PGDATA"
  pwfile=$(mktemp) && echo "$POSTGRES_PASSWORD" >"$pwfile" && chown postgres "$pwfile"
  su postgres -c "initdb -D '$PGDATA' -U '$POSTGRES_USER' --pwfile='$pwfile' --auth-host=scram-sha-256 --auth-local=trust -E UTF8" >/dev/null
  rm -f "$pwfile"
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
  su postgres -c "pg_ctl -D '$PGDATA' -o '-c listen_addresses=' -w start" >/dev/null
  su postgres -c "psql -U '$POSTGRES_USER' -d postgres -qc 'CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"'"
  su postgres -c "pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null
  echo "entrypoint: initialised $PGDATA"
fi
exec su postgres -c "exec postgres -D '$PGDATA' -c listen_addresses='*' -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
