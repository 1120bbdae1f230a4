#!/usr/bin/env bash
# A base backup of the hub's PostgreSQL cluster, taken online while the hub runs:
#   infra/scripts/backup-base.sh BACKUP_DIR [pg_basebackup connection options]
# e.g.  sudo -u postgres infra/scripts/backup-base.sh /var/backups/pointsnet -h db-1 -p 5432
# Writes BACKUP_DIR/base-<UTC time>/ (a plain copy of the data directory with the WAL needed to
# make it consistent, -X stream), checks it against its manifest (pg_verifybackup) and prints
# its path. With the WAL archive (archive-wal.sh) it is the start of a point-in-time recovery
# (restore-pitr.sh); alone it restores the moment the backup ended. The connection comes from
# the options or libpq's PGHOST/PGPORT/PGUSER; the user needs the REPLICATION attribute.
set -euo pipefail
bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ $# -lt 1 ]; then
  echo "usage: backup-base.sh BACKUP_DIR [pg_basebackup connection options]" >&2; exit 2
fi
backups=$1; shift
mkdir -p "$backups"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$backups/base-$stamp"
partial="$target.partial"
[ -e "$target" ] && { echo "backup-base: $target exists" >&2; exit 1; }
# --checkpoint=fast: start now rather than at the next scheduled checkpoint.
"$bin/pg_basebackup" -D "$partial" -Fp -X stream --checkpoint=fast \
  --label "pointsnet base $stamp" "$@"
"$bin/pg_verifybackup" --quiet "$partial"
mv "$partial" "$target"
echo "$target"
