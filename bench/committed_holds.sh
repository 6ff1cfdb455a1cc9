#!/usr/bin/env bash
# Committed holds/s on the embedded backend, as bench/run.sh's "committed" row:
#   bench/committed_holds.sh BIN LOADTEST OUT   (e.g. target/release/frontrow target/release/frontrow-loadtest target/bench/holds)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1 LOADTEST=$2 OUT=$3
PORT=${PORT_:-18397} BASE=http://127.0.0.1:${PORT_:-18397} KEY=bench-admin-key
ACTIVE=${ACTIVE:-16000} SECONDS_=${SECONDS_:-3} CONNECTIONS=${CONNECTIONS:-64}
rm -rf "$OUT" && mkdir -p "$OUT"
# Every limit off, the household limit too: the buyers sign up from
# 127.0.0.1 within the hour and hold on one schedule.
env -i PATH="$PATH" RUST_LOG=warn FRONTROW_RATE_LIMITS_SCALE=0 FRONTROW_HOUSEHOLD_SEATS=0 "$BIN" serve --listen 127.0.0.1:$PORT --admin-key $KEY --jwt-secret bench-jwt-secret --hold-seconds 300 --data-dir "$OUT/data" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
"$LOADTEST" --base-url $BASE --admin-key $KEY prepare --active "$ACTIVE" --fresh 10 --rushes 1 --out "$OUT" >"$OUT/prepare.txt" 2>&1
source "$OUT/meta.env"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_}s" --latency -s bench/wrk/rotate.lua "$BASE" -- hold "$OUT/active.txt" "$HOLD_SCHEDULE" >"$OUT/hold.txt" 2>&1
cat "$OUT/hold.txt"
curl -sf "$BASE/metrics" | grep -E "db_write_group_size_(sum|count)" || true
