#!/usr/bin/env bash
# API load benchmark (issues 3 and 14): seeds a tenant with 100,000 leads in a dedicated
# database, starts agency-api in release mode on 127.0.0.1 and runs wrk against
# GET /api/v1/clients/{client}/leads?page_size=50 at 50 and 500 concurrent connections.
# Then, unless PEER=0: the FastAPI peer (../shared/bench/api-peer, the same route, queries and
# bytes) side by side with ours, alternating, at 50 and 500 connections (its run.sh, 2 uvicorn
# workers); CPU milliseconds per request of our server, PostgreSQL and Redis, and of the
# peer's; and p99 at a fixed offered rate (oha, open loop: 1,000 requests/s over 500
# connections). Finally a 100,000-row CSV import. Loopback only, bounded in time.
#
# Usage: scripts/bench-api.sh [seconds per run, default 15]
#   KEEP_BENCH_DB=1 keeps the database; PEER=0 skips the peer; PEER_DIR (default
#   ../shared/bench/api-peer); ROUNDS (peer comparison rounds, default 2); RATE (1000) and
#   RATE_CONNS (500) for the open-loop run; API_BIN to measure another build of agency-api.
# Needs: PostgreSQL at 127.0.0.1:5432 (trust, user postgres), Redis at 127.0.0.1:6379, wrk
# (installed with apt-get when missing), python3 for the peer, oha (cargo install when missing).
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION="${1:-15}"
PORT="${BENCH_PORT:-18080}"
DB="agency_bench"
PG="postgres://postgres@127.0.0.1:5432"
SECRET="bench-secret-not-for-production-0123456789"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}" SQLX_OFFLINE=true
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

if ! command -v wrk >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi

echo "== building release binaries"
cargo build --release -q -p agency-api -p agencyctl
BIN="$CARGO_TARGET_DIR/release"
API_BIN="${API_BIN:-$BIN/agency-api}"

echo "== fresh database $DB with 100,000 leads"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
DATABASE_URL="$PG/$DB" "$BIN/agencyctl" migrate run >/dev/null
USER_ID="$(cat /proc/sys/kernel/random/uuid)"
CLIENT_ID="$(psql "$PG/$DB" -Atq -v ON_ERROR_STOP=1 <<SQL
INSERT INTO users (id, email) VALUES ('$USER_ID', 'bench@example.com');
WITH c AS (INSERT INTO clients (name) VALUES ('Bench tenant') RETURNING id),
     m AS (INSERT INTO memberships (client_id, user_id, role, accepted_at)
           SELECT id, '$USER_ID', 'owner', now() FROM c RETURNING client_id),
     k AS (INSERT INTO campaigns (client_id, name) SELECT client_id, 'Bench' FROM m RETURNING id, client_id),
     l AS (INSERT INTO leads (client_id, campaign_id, email, first_name, last_name, company, title, status,
                              als_score, als_tier, created_at)
           SELECT k.client_id, k.id, 'lead' || g || '@bench-example.com', 'First' || g, 'Last' || g,
                  'Company ' || (g % 997), 'Director', 'new', g % 101,
                  CASE WHEN g % 101 >= 85 THEN 'hot' WHEN g % 101 >= 60 THEN 'warm' WHEN g % 101 >= 35 THEN 'cool'
                       WHEN g % 101 >= 20 THEN 'cold' ELSE 'dead' END,
                  now() - make_interval(secs => g)
             FROM k, generate_series(1, 100000) g RETURNING 1)
SELECT client_id FROM k, (SELECT count(*) FROM l) n;
SQL
)"
psql "$PG/$DB" -qc "VACUUM ANALYZE"
TOKEN="$("$BIN/agencyctl" token --user-id "$USER_ID" --email bench@example.com --hours 2 --jwt-secret "$SECRET")"

echo "== starting agency-api on 127.0.0.1:$PORT"
DATABASE_URL="$PG/$DB" SUPABASE_JWT_SECRET="$SECRET" RATE_LIMIT_PER_MINUTE=0 HOST=127.0.0.1 PORT="$PORT" \
  RUST_LOG="${RUST_LOG:-warn}" "$API_BIN" >/tmp/bench-api.log 2>&1 &
API_PID=$!
PEER_PID=""
cleanup() {
  [ -z "$PEER_PID" ] || kill "$PEER_PID" 2>/dev/null || true
  kill "$API_PID" 2>/dev/null || true
  wait "$API_PID" 2>/dev/null || true
  rm -f /tmp/bench-import.csv /tmp/bench-import.json
  [ -n "${KEEP_BENCH_DB:-}" ] || psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT
URL="http://127.0.0.1:$PORT/api/v1/clients/$CLIENT_ID/leads?page_size=50"
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL" 2>/dev/null; then break; fi
  sleep 0.2
done
curl -fsS -o /tmp/bench-api-first.json -H "Authorization: Bearer $TOKEN" "$URL"
head -c 200 /tmp/bench-api-first.json; echo

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for CONNS in 50 500; do
  echo "== wrk: $CONNS connections, ${DURATION}s, GET leads page_size=50 (100k-lead tenant); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency -H "Authorization: Bearer $TOKEN" "$URL"
done

if [ "${PEER:-1}" != 0 ]; then
  PEER_SRC="${PEER_DIR:-$(cd .. && pwd)/shared/bench/api-peer}"
  PEER_WORK="$(mktemp -d /tmp/api-peer.XXXXXX)"
  cp -r "$PEER_SRC/." "$PEER_WORK/" && chmod -R u+rwX "$PEER_WORK"
  echo "== side by side with the FastAPI peer ($PEER_SRC), alternating"
  RUST_URL="http://127.0.0.1:$PORT" DATABASE_URL="$PG/$DB" CLIENT_ID="$CLIENT_ID" TOKEN="$TOKEN" \
    SUPABASE_JWT_SECRET="$SECRET" PEER_WORKERS=2 CONNS="50 500" DURATION="$DURATION" \
    ROUNDS="${ROUNDS:-2}" bash "$PEER_WORK/run.sh"

  echo "== CPU per request at 50 connections (ours, then the peer with 2 workers)"
  TOKEN="$TOKEN" bash "$PEER_WORK/cpu_per_request.sh" rust "$URL" 50 "$DURATION" "$API_PID"
  PEER_PORT=$((PORT + 1))
  (cd "$PEER_WORK" && DATABASE_URL="$PG/$DB" SUPABASE_JWT_SECRET="$SECRET" exec /tmp/api-peer-venv/bin/uvicorn \
     app:app --host 127.0.0.1 --port "$PEER_PORT" --workers 2 --loop uvloop --http httptools \
     --no-access-log --log-level warning) >/tmp/bench-api-peer.log 2>&1 &
  PEER_PID=$!
  PEER_URL="http://127.0.0.1:$PEER_PORT/api/v1/clients/$CLIENT_ID/leads?page_size=50"
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$PEER_URL" 2>/dev/null; then break; fi
    sleep 0.2
  done
  wrk -t2 -c50 -d3s -H "Authorization: Bearer $TOKEN" "$PEER_URL" >/dev/null
  TOKEN="$TOKEN" bash "$PEER_WORK/cpu_per_request.sh" "peer (2w)" "$PEER_URL" 50 "$DURATION" "$PEER_PID"
  kill "$PEER_PID" 2>/dev/null || true
  wait "$PEER_PID" 2>/dev/null || true
  PEER_PID=""
fi

RATE="${RATE:-1000}"
RATE_CONNS="${RATE_CONNS:-500}"
if ! command -v oha >/dev/null 2>&1; then
  echo "== installing oha (open-loop load tool)"
  cargo install --locked -q oha
fi
echo "== open loop: $RATE requests/s offered over $RATE_CONNS connections, ${DURATION}s (oha, latency corrected); load average $(cut -d' ' -f1-3 /proc/loadavg)"
oha --no-tui -q "$RATE" --latency-correction -c "$RATE_CONNS" -z "${DURATION}s" \
  -H "Authorization: Bearer $TOKEN" "$URL" | sed -n '/Summary/,$p'

echo "== CSV import of 100,000 rows into a second campaign (release build, one transaction; after the load runs)"
CAMPAIGN2="$(psql "$PG/$DB" -Atq -c "INSERT INTO campaigns (client_id, name) VALUES ('$CLIENT_ID', 'Import') RETURNING id")"
CSV=/tmp/bench-import.csv
{ echo "Email,First Name,Surname,Mobile,Company Name"
  seq 1 100000 | awk '{printf "import%d@bench-import.com,First%d,Last%d,04%08d,Company %d\n", $1, $1, $1, $1 % 100000000, $1 % 997}'
} > "$CSV"
curl -sS -o /tmp/bench-import.json -w "import: HTTP %{http_code}, %{size_upload} bytes up, %{time_total}s\n" \
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: text/csv" --data-binary "@$CSV" \
  "http://127.0.0.1:$PORT/api/v1/clients/$CLIENT_ID/campaigns/$CAMPAIGN2/leads/import"
head -c 120 /tmp/bench-import.json; echo

