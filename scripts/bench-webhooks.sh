#!/usr/bin/env bash
# Webhook acknowledgement benchmark (issue 10): a fresh database, the release agency-api on
# 127.0.0.1 with Twilio and Resend webhook secrets, and the `webhook_load` client sending
# signed Twilio inbound SMS and Resend delivery events (each with its own id) from 50
# concurrent senders over loopback. Prints acknowledgements/s and p50/p99/max, then checks
# that every acknowledged event is stored once with its processing job (the client exits
# non-zero otherwise). Then the CPU milliseconds per event of the API and of PostgreSQL, and
# how busy the machine was and how much of its time the host took (steal).
#
# Usage: scripts/bench-webhooks.sh [events, default 20000] [senders, default 50]
# (env RATE: an offered rate in events/s for an open-loop run, latency counted from when each
# event was due; unset, each sender sends as soon as it is answered (closed loop);
# env API_BIN: another agency-api binary to measure, e.g. an earlier build side by side;
# JOB_NOTIFY=row: apalis's per-row job notification trigger instead of ours, ADR-009;
# BENCH_SETUP_SQL: SQL run on the fresh database before the API starts, for diagnostic runs;
# LATENCY_LOG: a file for every event's send time and latency, to see when the slow ones came)
# Needs: PostgreSQL at 127.0.0.1:5432 (trust, user postgres), Redis at 127.0.0.1:6379.
set -euo pipefail

cd "$(dirname "$0")/.."
EVENTS="${1:-20000}"
SENDERS="${2:-50}"
PORT="${BENCH_PORT:-18081}"
DB="agency_bench_webhooks"
PG="postgres://postgres@127.0.0.1:5432"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}" SQLX_OFFLINE=true
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export PUBLIC_BASE_URL="https://hooks.bench.example"
export TWILIO_AUTH_TOKEN="bench-twilio-token"
export RESEND_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

echo "== building release binaries"
cargo build --release -q -p agency-api -p agencyctl --bins --example webhook_load
BIN="$CARGO_TARGET_DIR/release"

echo "== fresh database $DB"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
DATABASE_URL="$PG/$DB" "$BIN/agencyctl" migrate run >/dev/null
if [ -n "${BENCH_SETUP_SQL:-}" ]; then
  psql "$PG/$DB" -q -v ON_ERROR_STOP=1 -c "$BENCH_SETUP_SQL"
fi
if [ "${JOB_NOTIFY:-}" = row ]; then
  # Side by side: apalis's own trigger, one notification per job row (ADR-009 replaced it).
  psql "$PG/$DB" -q <<'SQL'
DROP TRIGGER notify_workers ON apalis.jobs;
CREATE FUNCTION apalis.notify_new_jobs_per_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.run_at <= now() THEN
        PERFORM pg_notify('apalis::job::insert',
            json_build_object('job_type', NEW.job_type, 'id', NEW.id, 'run_at', NEW.run_at)::text);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER notify_workers AFTER INSERT ON apalis.jobs
    FOR EACH ROW EXECUTE FUNCTION apalis.notify_new_jobs_per_row();
SQL
fi

echo "== starting agency-api on 127.0.0.1:$PORT (WEBHOOK_GROUP_COMMIT=${WEBHOOK_GROUP_COMMIT:-true})"
DATABASE_URL="$PG/$DB" SUPABASE_JWT_SECRET="bench-secret-not-for-production-0123456789" \
  RATE_LIMIT_PER_MINUTE=0 HOST=127.0.0.1 PORT="$PORT" RUST_LOG="${RUST_LOG:-warn}" \
  "${API_BIN:-$BIN/agency-api}" >/tmp/bench-webhooks-api.log 2>&1 &
API_PID=$!
cleanup() {
  kill "$API_PID" 2>/dev/null || true
  wait "$API_PID" 2>/dev/null || true
  [ -n "${KEEP_BENCH_DB:-}" ] || psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then break; fi
  sleep 0.2
done

echo "== machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# CPU of the API and of PostgreSQL (every process of user postgres) over the run, from /proc,
# and the machine's busy and stolen shares (a VM whose host takes its cores back shows steal).
ticks() { local t=0; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
snap() { echo "$(ticks "$API_PID") $(ticks $(pgrep -u postgres)) $(awk '/^cpu /{print $2+$3+$4+$6+$7+$8, $5, $9}' /proc/stat)"; }
read -r a0 p0 b0 i0 s0 <<<"$(snap)"
API_URL="http://127.0.0.1:$PORT" DATABASE_URL="$PG/$DB" EVENTS="$EVENTS" SENDERS="$SENDERS" \
  "$BIN/examples/webhook_load"
read -r a1 p1 b1 i1 s1 <<<"$(snap)"
awk -v n="$EVENTS" -v a=$((a1 - a0)) -v p=$((p1 - p0)) -v b=$((b1 - b0)) -v i=$((i1 - i0)) -v s=$((s1 - s0)) 'BEGIN {
  printf "CPU ms per event: api %.3f, postgres %.3f | machine busy %.0f%%, stolen %.0f%%\n",
    a * 10 / n, p * 10 / n, 100 * b / (b + i + s), 100 * s / (b + i + s) }'
