#!/bin/bash
# Backup and restore hooks of the database, run inside the db container by backupbot (and by
# ccci-controller's backup and restore tiers): `backup` dumps the database atomically next to
# its data, `restore` imports that dump into the freshly initialised database.
set -euo pipefail

dump=/var/lib/postgresql/data/backup.sql
PGPASSWORD=$(cat /run/secrets/db_password)
export PGPASSWORD
connect=(-h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB")

case "${1:-}" in
backup)
  pg_dump "${connect[@]}" >"$dump.tmp"
  mv "$dump.tmp" "$dump"
  ;;
restore)
  psql -v ON_ERROR_STOP=1 -q "${connect[@]}" <"$dump"
  rm -f "$dump"
  ;;
*)
  echo "usage: $0 backup|restore" >&2
  exit 2
  ;;
esac
