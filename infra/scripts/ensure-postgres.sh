#!/usr/bin/env bash
# Find PostgreSQL for the tests, or start it, or install it; fail loudly when none can be had.
# The tests connect to $POINTSNET_TEST_PG_URL (default postgres@127.0.0.1:5432, no password).
set -uo pipefail
url="${POINTSNET_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
libpq="${url/postgresql+psycopg:/postgresql:}"

reachable() { psql "$libpq" -Atqc 'select 1' >/dev/null 2>&1; }
say() { echo "ensure-postgres: $*" >&2; }

command -v psql >/dev/null 2>&1 && reachable && exit 0

if [ -n "${POINTSNET_TEST_PG_URL:-}" ]; then
  say "FAILED: POINTSNET_TEST_PG_URL=$url is set but not reachable"; exit 1
fi

start_clusters() {
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do reachable && return 0; sleep 1; done
  return 1
}

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  say "PostgreSQL is installed but not answering; starting it"
  start_clusters && exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /etc/postgresql ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "FAILED: no PostgreSQL at $url and cannot install one (need root and apt-get)."
    say "Start one, or set POINTSNET_TEST_PG_URL."; exit 1
  fi
  say "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql postgresql-client >/dev/null || {
    say "FAILED: apt-get could not install postgresql"; exit 1; }
fi

# A cluster we installed ourselves: let the local test user in without a password.
for hba in /etc/postgresql/*/main/pg_hba.conf; do
  [ -f "$hba" ] || continue
  grep -q "pointsnet-tests" "$hba" || sed -i '1i host all all 127.0.0.1/32 trust # pointsnet-tests\nhost all all ::1/128 trust # pointsnet-tests' "$hba"
done
start_clusters || true
for version in $(ls /etc/postgresql 2>/dev/null); do
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
done
sleep 1
reachable && exit 0
say "FAILED: PostgreSQL still not reachable at $url"
exit 1
