#!/usr/bin/env bash
# Ensures a local PostgreSQL (127.0.0.1:5432, trust auth for postgres) and Redis
# (127.0.0.1:6379) are running, installing them with apt-get when absent. Exits non-zero when a
# service cannot be brought up: tests must never be skipped for want of one.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "$@"
}

if ! pg_up; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "services: installing PostgreSQL"
    apt_install postgresql postgresql-contrib
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
      $SUDO pg_createcluster "$(ls /usr/lib/postgresql | sort -n | tail -1)" main
    fi
    ver="$(ls /etc/postgresql | sort -n | tail -1)"
    conf="/etc/postgresql/$ver/main/pg_hba.conf"
    # Local trust auth for the test users (a throwaway CI database).
    if ! grep -q "agency-os-ci" "$conf" 2>/dev/null; then
      $SUDO sed -i '1i # agency-os-ci\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf"
    fi
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || $SUDO pg_ctlcluster "$ver" main start
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "services: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
# The root role exists on the CI machines; make sure the postgres role can create databases.
psql -h 127.0.0.1 -U postgres -d postgres -qtAc "SELECT 1" >/dev/null \
  || { echo "services: cannot log in to PostgreSQL as postgres with trust auth" >&2; exit 1; }

if ! redis_up; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "services: installing Redis"
    apt_install redis-server
  fi
  mkdir -p /tmp/agency-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/agency-redis
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
redis_up || { echo "services: Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
echo "services: PostgreSQL and Redis are up"
