#!/usr/bin/env bash
# Debian's chromium for the e2e tests. Installed with apt when we are root (CI and the
# project's machines); elsewhere say how, and the browser tests skip (they fail under CI=true).
set -u
if command -v chromium >/dev/null 2>&1 || [ -n "${STOREOPS_CHROMIUM:-}" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
  echo "could not install chromium with apt-get" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "note: no chromium found; install Debian's 'chromium' package (or set STOREOPS_CHROMIUM) to run the browser tests" >&2
exit 0
