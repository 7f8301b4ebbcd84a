#!/usr/bin/env bash
# Job-queue throughput side by side (issue 14): our `queue_bench` (release build, the real
# worker Runner over apalis.jobs) alternating with the peers of ../shared/bench/queue-peers
# (graphile-worker in its published fast configuration, a naive SKIP LOCKED queue), in one
# run on this machine, each on a fresh database with the same number of no-op jobs. Prints one
# table: system | config | enqueue jobs/s | complete jobs/s | load average at the start.
#
# Usage: scripts/bench-queue-peers.sh [jobs, default 100000] [rounds, default 2]
# Env: QUEUE_PEERS (the peers' folder, default ../shared/bench/queue-peers, copied to a
# writable place first), GRAPHILE_RUNS (default "fast:10 fast:24:2"), NAIVE_CONNS (default 8),
# OUR_TASKS (ours: tasks per core, default "4", i.e. 8 tasks on 2 cores).
# Needs: PostgreSQL at 127.0.0.1:5432 (trust, user postgres), psql, pgbench, Node and npm,
# Python 3 (the peers' run.sh installs its packages on first use).
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="${1:-100000}"
ROUNDS="${2:-2}"
PEERS_SRC="${QUEUE_PEERS:-../shared/bench/queue-peers}"
PEERS=/tmp/agency-queue-peers
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/agency-os-target}" SQLX_OFFLINE=true
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
TABLE=$(mktemp)
trap 'rm -f "$TABLE"' EXIT

[ -d "$PEERS_SRC" ] || { echo "peers not found at $PEERS_SRC (set QUEUE_PEERS)" >&2; exit 1; }
if [ ! -d "$PEERS" ]; then
  cp -r "$PEERS_SRC" "$PEERS"
  chmod -R u+w "$PEERS"
fi

echo "== building queue_bench (release)"
cargo build --release -q -p agency-worker --example queue_bench
OURS="$CARGO_TARGET_DIR/release/examples/queue_bench"

load() { cut -d' ' -f1 /proc/loadavg; }

ours() {
  local l out
  l=$(load)
  # Only the task counts asked for (BENCH_TASKS); keep the commit-rate probe short.
  out=$(BENCH_JOBS="$JOBS" BENCH_SECONDS=1 BENCH_TASKS="$(echo "${OUR_TASKS:-4}" | tr " " ",")" "$OURS" 2>/dev/null)
  for t in ${OUR_TASKS:-4}; do
    echo "$out" | awk -v t="$t" -v l="$l" '
      $0 ~ "^" t " task\\(s\\)/core" {
        for (i = 1; i <= NF; i++) { if ($i == "enqueue") e = $(i+1); if ($i == "complete") c = $(i+1) }
        printf "agency-os queue_bench\t%d tasks\t%s\t%s\tload %s\n", t * 2, e, c, l }'
  done >> "$TABLE"
}

runs() { find "$PEERS/results" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort; }

peers() {
  local before latest
  before=$(runs | wc -l)
  STEPS="graphile naive" GRAPHILE_RUNS="${GRAPHILE_RUNS:-fast:10 fast:24:2}" \
    NAIVE_CONNS="${NAIVE_CONNS:-8}" "$PEERS/run.sh" "$JOBS" > /dev/null 2>&1 || true
  latest=$(runs | tail -1)
  if [ "$(runs | wc -l)" -gt "$before" ] && [ -f "$latest/results.tsv" ]; then
    cat "$latest/results.tsv" >> "$TABLE"
  else
    echo "the peers' run produced no results (see $PEERS/results)" >&2
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: ours"
  ours
  echo "== round $round: peers"
  peers
done

echo
{ printf 'system\tconfig\tenqueue jobs/s\tcomplete jobs/s\tnotes\n'; cat "$TABLE"; } |
  column -t -s $'\t' -o ' | '
