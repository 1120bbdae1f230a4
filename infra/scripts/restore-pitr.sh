#!/usr/bin/env bash
# Point-in-time recovery: a new data directory from a base backup (backup-base.sh) that, once
# started, replays the WAL archive (archive-wal.sh) up to the target and then opens for writes.
#   infra/scripts/restore-pitr.sh BASE_BACKUP WAL_ARCHIVE NEW_DATA_DIR TARGET
# TARGET is one of
#   --name NAME     a restore point made with  SELECT pg_create_restore_point('NAME')
#   --time TIME     a timestamp with time zone, e.g. '2026-12-07 10:15:00+00'
#   --latest        everything the archive holds
# Then start it (as the server's user) on a port of its own, e.g.
#   pg_ctl -D NEW_DATA_DIR -o '-p 5433' -l restore.log start
# Recovery stops at the target, includes transactions committed up to it, and promotes (wait for
# `SELECT pg_is_in_recovery()` to say f); if the archive ends before the target is reached the
# server shuts down (its log says so) rather than open for writes a database that misses what
# you asked for. The restored server does not
# archive (archive_mode off) until you turn archiving on again with an archive of its own.
set -euo pipefail
usage() { echo "usage: restore-pitr.sh BASE_BACKUP WAL_ARCHIVE NEW_DATA_DIR --name NAME | --time TIME | --latest" >&2; exit 2; }
[ $# -ge 4 ] || usage
base=$1 archive=$2 data=$3 kind=$4 value=${5:-}
case "$kind" in
  --name) [ -n "$value" ] || usage; target="recovery_target_name = '$value'" ;;
  --time) [ -n "$value" ] || usage; target="recovery_target_time = '$value'" ;;
  --latest) target="recovery_target_timeline = 'latest'" ;;
  *) usage ;;
esac
for text in "$archive" "$value"; do
  case "$text" in *"'"*) echo "restore-pitr: no single quotes in paths or targets" >&2; exit 2 ;; esac
done
[ -f "$base/backup_label" ] || { echo "restore-pitr: $base is not a base backup (no backup_label)" >&2; exit 1; }
[ -d "$archive" ] || { echo "restore-pitr: no WAL archive at $archive" >&2; exit 1; }
[ -e "$data" ] && { echo "restore-pitr: $data exists; restore into a new directory" >&2; exit 1; }
archive=$(cd "$archive" && pwd)
cp -a "$base" "$data"
chmod 700 "$data"
rm -f "$data/standby.signal" "$data/backup_manifest"
cat >> "$data/postgresql.auto.conf" <<CONF
# restore-pitr.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)
restore_command = 'cp "$archive/%f" "%p"'
$target
recovery_target_action = 'promote'
archive_mode = 'off'
synchronous_standby_names = ''
CONF
touch "$data/recovery.signal"
if [ ! -f "$data/postgresql.conf" ]; then
  echo "restore-pitr: the backup has no postgresql.conf (Debian keeps it in /etc/postgresql);" \
       "copy postgresql.conf, pg_hba.conf and pg_ident.conf into $data before starting" >&2
fi
echo "$data"
