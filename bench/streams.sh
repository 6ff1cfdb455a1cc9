#!/usr/bin/env bash
# Server memory per open queue stream (docs/benchmarks.md): COUNT waiting
# buyers each hold GET /api/v1/queue/stream open, over several loopback
# source addresses, on the embedded default, one Redis and a Redis Cluster.
#
#   bench/streams.sh                       # 20,000 streams on each backend
#   COUNT=5000 BACKENDS=embedded bench/streams.sh
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-20000}
BACKENDS=${BACKENDS:-"embedded mysql cluster"}
PORT=18093
BASE=http://127.0.0.1:$PORT
KEY=bench-admin-key
OUT=target/streams
# Each stream is one socket on each side: the server and the load generator
# both need COUNT file descriptors and more (this sandbox caps them at 20,000).
ulimit -n "$(ulimit -Hn)"
cargo build --release -q -p frontrow -p frontrow-loadtest
mkdir -p "$OUT"
for backend in $BACKENDS; do
  dir=$OUT/$backend; rm -rf "$dir" && mkdir -p "$dir"
  args=(serve --listen 127.0.0.1:$PORT --admin-key $KEY --jwt-secret bench-jwt-secret)
  if [ "$backend" = embedded ]; then
    env -i PATH="$PATH" RUST_LOG=warn target/release/frontrow "${args[@]}" --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
  else
    mysql -uroot -e "DROP DATABASE IF EXISTS frontrow_streams; CREATE DATABASE frontrow_streams"
    redis=redis://127.0.0.1:6379 cluster=false ports=6379
    if [ "$backend" = cluster ]; then redis=$(deploy/redis-cluster.sh start); cluster=true; ports="17001 17002 17003"; fi
    for p in $ports; do
      redis-cli -p "$p" --scan --pattern 'frontrow-streams:*' | sed 's/^/DEL /' | redis-cli -p "$p" >/dev/null
    done
    env -i PATH="$PATH" RUST_LOG=warn DATABASE_URL=mysql://root@127.0.0.1:3306/frontrow_streams \
      REDIS_URL="$redis" FRONTROW_REDIS_CLUSTER=$cluster FRONTROW_REDIS_PREFIX=frontrow-streams: \
      target/release/frontrow "${args[@]}" >"$dir/server.log" 2>&1 &
  fi
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
  echo "== $backend"
  target/release/frontrow-loadtest --base-url $BASE --admin-key $KEY streams \
    --count "$COUNT" --hold-seconds 40 --server-pid "$SERVER" | tee "$dir/report.txt"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
done
