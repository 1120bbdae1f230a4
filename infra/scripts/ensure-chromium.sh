#!/usr/bin/env bash
# The browser tests drive Debian's chromium headless; install it when missing, fail loudly if we can't.
set -uo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: FAILED: chromium is missing and cannot be installed (need root and apt-get)" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq chromium fonts-noto-core fonts-dejavu-core >/dev/null \
  || { echo "ensure-chromium: FAILED: apt-get could not install chromium" >&2; exit 1; }
command -v chromium >/dev/null 2>&1 || { echo "ensure-chromium: FAILED: chromium not on PATH" >&2; exit 1; }
