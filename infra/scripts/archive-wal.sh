#!/usr/bin/env bash
# PostgreSQL's archive_command for point-in-time recovery: copy one finished WAL segment into the
# archive directory, so that a base backup plus the archive can rebuild the database as of any
# moment after the backup. In postgresql.conf (as the server's user can run it):
#   archive_mode = on
#   archive_command = '/path/to/infra/scripts/archive-wal.sh %p %f /var/backups/pointsnet/wal'
# Exit 0 only once the segment is safely in the archive; PostgreSQL keeps the segment and tries
# again on any other exit. The copy lands under a temporary name and is renamed when complete
# and flushed, so a crash never leaves a half segment under the real name. A segment already
# archived with the same content is fine (PostgreSQL may ask twice after a crash); a different
# one under the same name is refused: two clusters must not share one archive directory.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: archive-wal.sh %p %f ARCHIVE_DIR" >&2; exit 2
fi
source_path=$1 name=$2 archive=$3
target="$archive/$name"
if [ -e "$target" ]; then
  if cmp -s "$source_path" "$target"; then exit 0; fi
  echo "archive-wal: $target exists with other content; is another cluster archiving here?" >&2
  exit 1
fi
partial="$archive/.$name.partial"
cp "$source_path" "$partial"
sync "$partial"
mv "$partial" "$target"
sync "$archive"
