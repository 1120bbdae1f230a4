#!/usr/bin/env bash
# The metrics test has Debian's prometheus scrape the hub once; install it when missing, fail
# loudly if we can't. Only the binary is used (the test runs it with its own config and data
# directory); the package's service is not needed.
set -uo pipefail
command -v prometheus >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-prometheus: FAILED: prometheus is missing and cannot be installed (need root and apt-get)" >&2
  exit 1
fi
echo "ensure-prometheus: installing Debian's prometheus" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } \
  || { echo "ensure-prometheus: FAILED: apt-get could not install prometheus" >&2; exit 1; }
command -v prometheus >/dev/null 2>&1 || { echo "ensure-prometheus: FAILED: prometheus not on PATH" >&2; exit 1; }
