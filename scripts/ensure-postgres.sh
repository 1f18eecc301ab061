#!/usr/bin/env bash
# Make sure a PostgreSQL server answers for the integration tests.
# STOREOPS_TEST_POSTGRES_URL wins; else 127.0.0.1:5432; else start the machine's installed cluster.
set -u
if [ -n "${STOREOPS_TEST_POSTGRES_URL:-}" ]; then exit 0; fi
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    echo "starting PostgreSQL $version cluster 'main'"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
fi
if [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is needed for the integration tests and none answers on 127.0.0.1:5432" >&2
  echo "(set STOREOPS_TEST_POSTGRES_URL, or install the postgresql package)" >&2
  exit 1
fi
echo "note: no PostgreSQL found; its tests will be skipped (they are required under CI=true)" >&2
exit 0
