#!/usr/bin/env bash
# The seat-map rows of bench/run.sh (same server flags, wrk settings and
# churn), without the join, hold, payment and rush parts: /health/live, the
# seat map (500 seats, one ACTIVE buyer), /health/live, the same map while
# 200 changes/s land, /health/live; then the followers' lag from /metrics.
# Ratios are to the mean of the adjacent /health/live runs.
#
#   cargo build --release -p frontrow -p frontrow-loadtest && bench/seatmap.sh
#   BACKENDS=mysql bench/seatmap.sh
set -euo pipefail
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cd "$(dirname "$0")/.."
READ_SECONDS=${READ_SECONDS:-8}; CONNECTIONS=${CONNECTIONS:-64}
BACKENDS=${BACKENDS:-"embedded mysql"}
BIN=${BIN:-target/release/frontrow}; LOADTEST=${LOADTEST:-target/release/frontrow-loadtest}
OUT=target/bench-seatmap; PORT=18097; BASE=http://127.0.0.1:$PORT; KEY=bench-admin-key
mkdir -p $OUT
start_server() {
  local backend=$1 dir=$OUT/$1
  rm -rf "$dir" && mkdir -p "$dir"
  # The household limit off: every prepared buyer signs up from 127.0.0.1
  # within the hour and holds on one schedule; this measures throughput,
  # not fairness (docs/operations.md, --household-seats).
  local common=(--listen 127.0.0.1:$PORT --admin-key $KEY --jwt-secret bench-jwt-secret --hold-seconds 300 --household-seats 0)
  if [ "$backend" = embedded ]; then
    env -i PATH="$PATH" RUST_LOG=warn "$BIN" serve "${common[@]}" --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
  else
    mysql -uroot -e "DROP DATABASE IF EXISTS frontrow_seatmaps_bench; CREATE DATABASE frontrow_seatmaps_bench"
    redis-cli --scan --pattern 'frontrow-seatmaps-bench:*' | sed 's/^/DEL /' | redis-cli >/dev/null
    env -i PATH="$PATH" RUST_LOG=warn DATABASE_URL="mysql://root@127.0.0.1:3306/frontrow_seatmaps_bench" REDIS_URL=redis://127.0.0.1:6379 \
      FRONTROW_REDIS_PREFIX=frontrow-seatmaps-bench: "$BIN" serve "${common[@]}" >"$dir/server.log" 2>&1 &
  fi
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
rps() { wrk -t2 -c"$CONNECTIONS" -d"${READ_SECONDS}s" --latency "$@" > $OUT/last.txt 2>&1; awk '/^Requests\/sec/ {print $2}' $OUT/last.txt; }
for BACKEND in $BACKENDS; do
  start_server $BACKEND; DIR=$OUT/$BACKEND
  "$LOADTEST" --base-url $BASE --admin-key $KEY prepare --active "${ACTIVE:-1000}" --fresh 10 --rushes 1 --out "$DIR" >/dev/null
  source "$DIR/meta.env"
  AUTH="Authorization: Bearer $STATUS_ACCESS"; QT="X-Queue-Token: $STATUS_QUEUE"
  SEATS_URL="$BASE/api/v1/schedules/$SEATS_SCHEDULE/seats"
  for enc in identity gzip br; do
    printf '%s 500-seat body %s: ' "$BACKEND" "$enc"; curl -s -o /dev/null -w '%{size_download} B\n' -H "$AUTH" -H "$QT" -H "Accept-Encoding: $enc" "$SEATS_URL"
  done
  L0=$(rps "$BASE/health/live")
  SEATS=$(rps -H "$AUTH" -H "$QT" "$SEATS_URL")
  L1=$(rps "$BASE/health/live")
  "$LOADTEST" --base-url $BASE churn --dir "$DIR" --schedule "$SEATS_SCHEDULE" --rate 200 --seconds $((READ_SECONDS + 1)) >"$DIR/churn.txt" 2>&1 &
  CHURN=$!
  sleep 0.5
  CHURNED=$(rps -H "$AUTH" -H "$QT" "$SEATS_URL")
  CHURNED_P99=$(awk '$1 == "99%" {print $2}' $OUT/last.txt)
  curl -s $BASE/metrics | grep -E '^frontrow_seat_map_(lag|read_lag|loads|catch)|^frontrow_seat_maps_followed' > "$DIR/metrics.txt" || true
  wait $CHURN
  L2=$(rps "$BASE/health/live")
  echo "$BACKEND live $L0 $L1 $L2 | seats $SEATS ratio $(awk -v a=$SEATS -v b=$L0 -v c=$L1 'BEGIN{printf "%.2f", 2*a/(b+c)}') | churned $CHURNED (p99 $CHURNED_P99) ratio $(awk -v a=$CHURNED -v b=$L1 -v c=$L2 'BEGIN{printf "%.2f", 2*a/(b+c)}') | churn: $(cat $DIR/churn.txt | head -1)"
  cat "$DIR/metrics.txt"
  kill $SERVER; wait $SERVER 2>/dev/null || true
done
