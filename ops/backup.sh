#!/usr/bin/env bash
# Back up CXHub's PostgreSQL database to one file, or restore such a file into an empty database.
#
#   ops/backup.sh dump    DATABASE_URL FILE   # pg_dump, custom format (compressed, restorable in parallel)
#   ops/backup.sh restore DATABASE_URL FILE   # into an empty database (create it first: createdb)
#
# Everything CXHub knows lives in PostgreSQL (Redis holds only queued work and caches, which
# the workers rebuild), so this one file is the whole backup. See docs/operations.md.
set -euo pipefail

usage() { echo "usage: $0 dump|restore DATABASE_URL FILE" >&2; exit 2; }
[ $# -eq 3 ] || usage
command="$1" url="$2" file="$3"

case "$command" in
  dump)
    # --no-owner/--no-acl: restorable by whichever role runs the restore.
    pg_dump --format=custom --compress=6 --no-owner --no-acl --file="$file" --dbname="$url"
    echo "Backed up to $file ($(du -h "$file" | cut -f1))"
    ;;
  restore)
    [ -s "$file" ] || { echo "No backup at $file" >&2; exit 1; }
    tables=$(psql --dbname="$url" -tAc \
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    if [ "$tables" != "0" ]; then
      echo "Refusing to restore into a database that already has $tables tables; create an empty one." >&2
      exit 1
    fi
    pg_restore --no-owner --no-acl --exit-on-error --jobs=2 --dbname="$url" "$file"
    echo "Restored $file"
    ;;
  *) usage ;;
esac
