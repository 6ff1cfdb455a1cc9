#!/usr/bin/env bash
# Outbox relay throughput and lag: wrk charges points as fast as it can for
# 5 s (each charge commits one points.charged event) while the relay
# publishes to Kafka; /metrics is sampled every second until the backlog is 0.
# Needs MariaDB, and a Kafka-protocol broker at 127.0.0.1:9092 (tansu).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench/relay
PORT=18092
BASE=http://127.0.0.1:$PORT
cargo build --release -q -p frontrow
rm -rf "$OUT" && mkdir -p "$OUT"
mysql -uroot -e "DROP DATABASE IF EXISTS frontrow_relay; CREATE DATABASE frontrow_relay"
env -i PATH="$PATH" RUST_LOG=warn DATABASE_URL=mysql://root@127.0.0.1:3306/frontrow_relay KAFKA_BROKERS=127.0.0.1:9092 \
  FRONTROW_KAFKA_TOPIC="frontrow.relay-bench.$$" target/release/frontrow serve --listen 127.0.0.1:$PORT \
  --admin-key k --jwt-secret s >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -X POST "$BASE/api/v1/users" -H 'content-type: application/json' -d '{"name":"relay"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
cat >"$OUT/charge.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"amount":1}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
metric() { curl -sf "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wrk -t2 -c32 -d5s -s "$OUT/charge.lua" "$BASE/api/v1/points/charge" >"$OUT/wrk.txt" 2>&1 &
WRK=$!
start=$(date +%s.%N)
while kill -0 $WRK 2>/dev/null || [ "$(metric frontrow_outbox_unpublished)" != "0" ]; do
  printf '%5.1f s  unpublished %6s  oldest %6s s  published %7s  lag %s s\n' "$(echo "$(date +%s.%N) - $start" | bc)" \
    "$(metric frontrow_outbox_unpublished)" "$(metric frontrow_outbox_oldest_unpublished_seconds)" \
    "$(metric frontrow_outbox_published_total)" "$(metric frontrow_outbox_publish_lag_seconds)"
  sleep 1
done
end=$(date +%s.%N)
published=$(metric frontrow_outbox_published_total)
echo "charges: $(awk '/requests in/ {print $1}' "$OUT/wrk.txt") in 5 s; published $published events in $(echo "$end - $start" | bc | cut -c1-5) s"
