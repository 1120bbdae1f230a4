#!/usr/bin/env bash
# The PgBouncer test runs the partner API through Debian's pgbouncer (transaction pooling);
# install it when missing, fail loudly if we can't. Only the binary is used (the test runs it
# with its own config in a temporary directory); the package's service is not needed.
set -uo pipefail
PGBOUNCER=/usr/sbin/pgbouncer
found() { command -v pgbouncer >/dev/null 2>&1 || [ -x "$PGBOUNCER" ]; }
found && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-pgbouncer: FAILED: pgbouncer is missing and cannot be installed (need root and apt-get)" >&2
  exit 1
fi
echo "ensure-pgbouncer: installing Debian's pgbouncer" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null \
  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null; } \
  || { echo "ensure-pgbouncer: FAILED: apt-get could not install pgbouncer" >&2; exit 1; }
# The package starts its own service on 6432 with its own config; the tests never use it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pgbouncer 2>/dev/null; then
  systemctl stop pgbouncer >/dev/null 2>&1 || true
fi
found || { echo "ensure-pgbouncer: FAILED: pgbouncer not installed at $PGBOUNCER" >&2; exit 1; }
