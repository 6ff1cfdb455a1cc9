#!/usr/bin/env bash
# Server memory with N users waiting in one paused waiting room (embedded
# default, in-process queue; with Redis the line lives in Redis instead).
#   bench/memory.sh            # N=100000
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
OUT=target/bench/memory
PORT=18091
BASE=http://127.0.0.1:$PORT
KEY=bench-admin-key
cargo build --release -q -p frontrow -p frontrow-loadtest
rm -rf "$OUT" && mkdir -p "$OUT"
env -i PATH="$PATH" RUST_LOG=warn target/release/frontrow serve --listen 127.0.0.1:$PORT --admin-key $KEY \
  --jwt-secret bench-jwt-secret --data-dir "$OUT/data" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
target/release/frontrow-loadtest --base-url $BASE --admin-key $KEY prepare --active 1 --fresh "$N" --out "$OUT"
# shellcheck disable=SC1091
source "$OUT/meta.env"
curl -sf -X PUT "$BASE/api/v1/admin/concerts/$CONCERT/queue" -H "X-Admin-Key: $KEY" -H 'content-type: application/json' \
  -d '{"capacity":1,"admitPerSecond":1,"paused":true}' >/dev/null
before=$(ps -o rss= -p $SERVER)
wrk -t2 -c64 -d60s -s bench/wrk/join.lua "$BASE" -- "$OUT/fresh.txt" "$CONCERT" >"$OUT/join.txt" 2>&1 &
WRK=$!
until [ "$(curl -sf "$BASE/api/v1/admin/concerts/$CONCERT/queue" -H "X-Admin-Key: $KEY" | sed 's/.*"waiting":\([0-9]*\).*/\1/')" -ge "$N" ]; do sleep 1; done
kill $WRK 2>/dev/null || true
waiting=$(curl -sf "$BASE/api/v1/admin/concerts/$CONCERT/queue" -H "X-Admin-Key: $KEY")
after=$(ps -o rss= -p $SERVER)
echo "queue: $waiting"
echo "server RSS: $((before / 1024)) MB before the rush, $((after / 1024)) MB with $N users waiting"
