#!/usr/bin/env bash
# The data-safety tests make throwaway PostgreSQL clusters of their own (initdb, pg_ctl,
# pg_basebackup, pg_dump, pg_restore from Debian's postgresql package). Install the package when
# the binaries are missing; fail loudly when that cannot be done. Prints the bin directory.
set -uo pipefail
version="${POINTSNET_PG_VERSION:-15}"
bin="/usr/lib/postgresql/$version/bin"
say() { echo "ensure-pg-binaries: $*" >&2; }

have() { for tool in initdb pg_ctl pg_basebackup pg_dump pg_restore; do
  [ -x "$bin/$tool" ] || return 1; done; }

if ! have; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "FAILED: PostgreSQL $version binaries missing in $bin and cannot install them (need root and apt-get)"
    exit 1
  fi
  say "installing Debian's postgresql-$version"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "postgresql-$version" postgresql-client >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq "postgresql-$version" postgresql-client >/dev/null; } \
    || { say "FAILED: apt-get could not install postgresql-$version"; exit 1; }
  have || { say "FAILED: $bin still lacks initdb/pg_ctl/pg_basebackup/pg_dump/pg_restore"; exit 1; }
fi
echo "$bin"
