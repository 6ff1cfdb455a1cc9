#!/usr/bin/env bash
# Reproduces docs/benchmarks.md: per-endpoint wrk runs reported as ratios to
# /health/live measured in the same run, then the ticket-open scenario, on the
# embedded default and on MariaDB + Redis. Server, load generator and stores
# share this machine's cores, so compare ratios, not absolute numbers.
#
#   bench/run.sh                 # both backends
#   BACKENDS=embedded bench/run.sh
#   BACKENDS="mysql cluster" bench/run.sh   # one Redis, then a 3-master Redis Cluster
set -euo pipefail
cd "$(dirname "$0")/.."
READ_SECONDS=${READ_SECONDS:-8}
WRITE_SECONDS=${WRITE_SECONDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
ACTIVE=${ACTIVE:-8000}
FRESH=${FRESH:-20000}
RUSHES=${RUSHES:-10}
BACKENDS=${BACKENDS:-"embedded mysql"}
OUT=target/bench
PORT=18090
BASE=http://127.0.0.1:$PORT
KEY=bench-admin-key

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p frontrow -p frontrow-loadtest
BIN=target/release/frontrow
LOADTEST=target/release/frontrow-loadtest
mkdir -p "$OUT"
RESULTS="$OUT/results.md"
: > "$RESULTS"

start_server() {
  local backend=$1 dir=$OUT/$1
  rm -rf "$dir" && mkdir -p "$dir"
  # The household limit off: every prepared buyer signs up from 127.0.0.1
  # within the hour and holds on one schedule; this measures throughput,
  # not fairness (docs/operations.md, --household-seats).
  local common=(--listen 127.0.0.1:$PORT --admin-key $KEY --jwt-secret bench-jwt-secret --hold-seconds 300 --household-seats 0)
  if [ "$backend" = embedded ]; then
    DATABASE="sqlite://$dir/data/frontrow.db"
    env -i PATH="$PATH" RUST_LOG=warn "$BIN" serve "${common[@]}" --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
  else
    DATABASE="mysql://root@127.0.0.1:3306/frontrow_bench"
    mysql -uroot -e "DROP DATABASE IF EXISTS frontrow_bench; CREATE DATABASE frontrow_bench"
    local redis=redis://127.0.0.1:6379 cluster=false ports=6379 p
    if [ "$backend" = cluster ]; then redis=$(deploy/redis-cluster.sh start); cluster=true; ports="17001 17002 17003"; fi
    # One DEL per key: on a cluster node, keys of different slots cannot share one.
    for p in $ports; do
      redis-cli -p "$p" --scan --pattern 'frontrow-bench:*' | sed 's/^/DEL /' | redis-cli -p "$p" >/dev/null
    done
    env -i PATH="$PATH" RUST_LOG=warn DATABASE_URL="$DATABASE" REDIS_URL="$redis" FRONTROW_REDIS_CLUSTER=$cluster \
      FRONTROW_REDIS_PREFIX=frontrow-bench: "$BIN" serve "${common[@]}" >"$dir/server.log" 2>&1 &
  fi
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && return; sleep 0.1; done
  echo "server did not start; see $dir/server.log" >&2; exit 1
}

# wrk_run NAME SECONDS [wrk args...]: prints "rps p50 p99 non2xx total created/s"
wrk_run() {
  local name=$1 seconds=$2; shift 2
  local file=$OUT/$BACKEND/$name.txt
  wrk -t2 -c"$CONNECTIONS" -d"${seconds}s" --latency "$@" >"$file" 2>&1
  local rps p50 p99 non2xx total
  rps=$(awk '/^Requests\/sec/ {print $2}' "$file")
  p50=$(awk '$1 == "50%" {print $2}' "$file")
  p99=$(awk '$1 == "99%" {print $2}' "$file")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$file"); non2xx=${non2xx:-0}
  total=$(awk '/requests in/ {print $1}' "$file")
  created=$(awk -v s="$seconds" '/^created/ {printf "%.0f", $2 / s}' "$file")
  echo "$rps $p50 $p99 $non2xx $total ${created:--}"
}

# Places (waiting + ACTIVE) in the rush rooms, from the admin API.
rush_places() {
  local c
  for c in ${RUSH_CONCERTS//,/ }; do
    curl -sf "$BASE/api/v1/admin/concerts/$c/queue" -H "X-Admin-Key: $KEY" | grep -oE '"(waiting|active)":[0-9]+'
  done | awk -F: '{n += $2} END {print n + 0}'
}

row() { # name result baseline note
  read -r rps p50 p99 non2xx total created <<<"$2"
  ratio=$(awk -v a="$rps" -v b="$3" 'BEGIN {printf "%.2f", a / b}')
  printf '| %s | %s | %.0f | %s | %s | %s | %s | %s of %s | %s |\n' "$BACKEND" "$1" "$rps" "$ratio" "$created" "$p50" "$p99" "$non2xx" "$total" "$4" >>"$RESULTS"
}

for BACKEND in $BACKENDS; do
  echo "== $BACKEND"
  start_server "$BACKEND"
  DIR=$OUT/$BACKEND
  "$LOADTEST" --base-url $BASE --admin-key $KEY prepare --active "$ACTIVE" --fresh "$FRESH" --rushes "$RUSHES" --out "$DIR"
  # shellcheck disable=SC1091
  source "$DIR/meta.env"
  AUTH="Authorization: Bearer $STATUS_ACCESS"
  QT="X-Queue-Token: $STATUS_QUEUE"
  ROTATE=bench/wrk/rotate.lua

  # The baseline drifts by 10 % or more within a minute here, so /health/live
  # runs between the endpoints and each endpoint's ratio is to the mean of
  # the runs just before and just after it.
  live() { wrk_run "live$1" "$READ_SECONDS" "$BASE/health/live"; }
  L0=$(live 0)
  STATUS=$(wrk_run status "$READ_SECONDS" -H "$AUTH" -H "$QT" "$BASE/api/v1/queue/status")
  L1=$(live 1)
  SEATS=$(wrk_run seats "$READ_SECONDS" -H "$AUTH" -H "$QT" "$BASE/api/v1/schedules/$SEATS_SCHEDULE/seats")
  L2=$(live 2)
  # The same seat map while a writer holds and cancels its seats at 200
  # changes/s: maps follow the change log, so the database serves no reads.
  loads() { curl -sf "$BASE/metrics" | awk '/^frontrow_seat_map_loads_total/ {print $2}'; }
  LOADS_BEFORE=$(loads)
  "$LOADTEST" --base-url $BASE churn --dir "$DIR" --schedule "$SEATS_SCHEDULE" --rate 200 --seconds $((READ_SECONDS + 1)) >"$DIR/churn.txt" 2>&1 &
  CHURN=$!
  CHURNED=$(wrk_run churned "$READ_SECONDS" -H "$AUTH" -H "$QT" "$BASE/api/v1/schedules/$SEATS_SCHEDULE/seats")
  wait $CHURN
  LOADS_DURING=$(( $(loads) - LOADS_BEFORE ))
  L2B=$(live 2b)
  before=$(rush_places)
  JOIN=$(wrk_run join "$WRITE_SECONDS" -s bench/wrk/join.lua "$BASE" -- "$DIR/fresh.txt" "$RUSH_CONCERTS")
  # join.lua has no response() (it would cost wrk more than the request), so
  # the places created are counted by the server.
  JOIN="${JOIN% *} $(( ($(rush_places) - before) / WRITE_SECONDS ))"
  L3=$(live 3)
  CONTEND=$(wrk_run contend "$READ_SECONDS" -s $ROTATE "$BASE" -- contend "$DIR/active.txt" "$CONTENDED_SCHEDULE" 10)
  L4=$(live 4)
  HOLD=$(wrk_run hold "$WRITE_SECONDS" -s $ROTATE "$BASE" -- hold "$DIR/active.txt" "$HOLD_SCHEDULE")
  "$LOADTEST" --database-url "$DATABASE" payment-lines --dir "$DIR" --schedule "$HOLD_SCHEDULE"
  PAY=$(wrk_run pay "$WRITE_SECONDS" -s $ROTATE "$BASE" -- pay "$DIR/payments.txt")
  mean() { echo "$1 $2" | awk '{printf "%.0f", ($1 + $7) / 2}'; }
  ALL=$(echo "$L0 $L1 $L2 $L2B $L3 $L4" | awk '{printf "%.0f", ($1 + $7 + $13 + $19 + $25 + $31) / 6}')
  for l in "$L0" "$L1" "$L2" "$L2B" "$L3" "$L4"; do
    row "GET /health/live" "$l" "$ALL" "baseline runs, in order, as a ratio to their mean"
  done
  row "GET /api/v1/queue/status" "$STATUS" "$(mean "$L0" "$L1")" "one ACTIVE buyer polling"
  row "GET /api/v1/schedules/{id}/seats" "$SEATS" "$(mean "$L1" "$L2")" "500 seats, cached; one ACTIVE buyer (read lease)"
  row "GET /api/v1/schedules/{id}/seats (200 changes/s)" "$CHURNED" "$(mean "$L2" "$L2B")" "the same map while $(cat "$DIR/churn.txt" | awk '{print $1}') holds and cancels land; whole-map database reads during the run: $LOADS_DURING"
  row "POST /api/v1/queue/tokens" "$JOIN" "$(mean "$L2B" "$L3")" "a new place each time: $FRESH buyers × $RUSHES rooms on the default policy"
  row "POST /api/v1/reservations (contended)" "$CONTEND" "$(mean "$L3" "$L4")" "$ACTIVE buyers, 10 seats: 409 is the expected answer"
  row "POST /api/v1/reservations (committed)" "$HOLD" "$ALL" "each a new buyer and seat (until $ACTIVE are used)"
  row "POST /api/v1/payments" "$PAY" "$ALL" "each a live hold (until they are used)"
  "$LOADTEST" --base-url $BASE --admin-key $KEY --database-url "$DATABASE" ticket-open >"$DIR/ticket-open.txt" 2>&1 || true
  ps -o rss= -p "$SERVER" | awk '{printf "server RSS after the run: %.0f MB\n", $1 / 1024}' >>"$DIR/ticket-open.txt"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
done

echo; echo "| backend | endpoint | req/s | ratio to /health/live (adjacent runs) | 201/s | p50 | p99 | non-2xx | note |"
echo "|---|---|---|---|---|---|---|---|---|"
cat "$RESULTS"
for BACKEND in $BACKENDS; do echo; echo "### ticket open, $BACKEND"; echo '```'; cat "$OUT/$BACKEND/ticket-open.txt"; echo '```'; done
