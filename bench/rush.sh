#!/usr/bin/env bash
# The rush of docs/benchmarks.md: `frontrow-loadtest ticket-open` with 20,000
# buyers joining within 10 s, 2 schedules x 1,000 seats, capacity 1,000, admit
# 500/s, on a fresh server per run, as a new user would start it (default log
# level). Prints each run's report (client and server side per endpoint) and,
# during the sale, the CPU share of the server, MariaDB, Redis and the load
# generator.
#
# The buyers come from ADDRESSES loopback addresses (500 each by default), as
# a crowd behind carrier NATs arrives, so the server's per-address limits see
# what they would in production. The limits are sized for 10 people per
# address, so they are raised by the buyers per address over 10
# (RATE_LIMITS_SCALE, docs/operations.md); every buyer signs up before the
# sale (a crowd's accounts exist long before it), so the sign-up limits are
# lifted for the run, and so is the household limit (FRONTROW_HOUSEHOLD_SEATS=0):
# 500 buyers per address signed up within one hour would be one household
# of 500 accounts sharing 8 seats, where a real crowd's accounts were made
# over months.
#
#   bench/rush.sh                        # 3 runs on each backend
#   RUNS=1 USERS=50000 BACKENDS=embedded bench/rush.sh
#   ADDRESSES=0 bench/rush.sh            # every buyer from 127.0.0.1
#   RATE_LIMITS_SCALE=0 bench/rush.sh    # every limit off
#   SEATS=5000 RUNS=1 bench/rush.sh      # a 10,000-seat hall (2 x 5,000)
#   FRONTROW_HOLD_BUDGET_MS=0 bench/rush.sh   # the admission controller off
#   BIN=path/frontrow LOADTEST=path/frontrow-loadtest bench/rush.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
USERS=${USERS:-20000}
SEATS=${SEATS:-1000}
SCHEDULES=${SCHEDULES:-2}
ADDRESSES=${ADDRESSES:-$(( (USERS + 499) / 500 ))}
BACKENDS=${BACKENDS:-"embedded mysql"}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=target/rush
PORT=${PORT:-18097}
BASE=http://127.0.0.1:$PORT
# BIN and LOADTEST run binaries built elsewhere (another profile) instead.
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p frontrow -p frontrow-loadtest
  BIN=$TARGET/release/frontrow
  LOADTEST=$TARGET/release/frontrow-loadtest
fi
mkdir -p "$OUT"
# A buyer whose request is in flight holds a connection, so when the
# server falls behind, the load generator and the server hold up to one
# per buyer: 50,000 buyers may need more descriptors than 20,000 (the load
# generator failed to connect with EMFILE) and more connections than the
# server's default 20,000. Raised where the hard limit allows (on the
# machine of docs/benchmarks.md it is 20,000 and cannot be raised).
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
export FRONTROW_MAX_CONNECTIONS=${FRONTROW_MAX_CONNECTIONS:-$(( USERS + 1000 > 20000 ? USERS + 1000 : 20000 ))}
PER_ADDRESS=$(( ADDRESSES > 0 ? (USERS + ADDRESSES - 1) / ADDRESSES : USERS ))
export FRONTROW_RATE_LIMITS_SCALE=${RATE_LIMITS_SCALE:-$(( PER_ADDRESS > 10 ? (PER_ADDRESS + 9) / 10 : 1 ))}
export FRONTROW_LIMIT_SIGN_UP_PER_ADDRESS=0/1 FRONTROW_LIMIT_SIGN_UP_PER_NETWORK=0/1
export FRONTROW_HOUSEHOLD_SEATS=0

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# cpu_during DIR SECONDS: each process's share of one core over the first
# SECONDS of the sale (from the first join in the server log).
cpu_during() {
  local dir=$1 seconds=$2 pids=() names=() before=() p
  until grep -q "queue/tokens" "$dir/server.log" 2>/dev/null; do sleep 0.2; done
  for p in "$SERVER" $(pgrep -x mariadbd || true) $(pgrep -x redis-server || true) $(pgrep -f "frontrow-loadtest.*ticket-open" || true); do
    pids+=("$p"); names+=("$(awk '{print $2}' "/proc/$p/stat")"); before+=("$(ticks "$p")")
  done
  sleep "$seconds"
  for i in "${!pids[@]}"; do
    echo "${names[$i]} $(( ($(ticks "${pids[$i]}") - ${before[$i]}) * 100 / (seconds * 100) ))% of one core" 
  done >"$dir/cpu.txt"
}

for backend in $BACKENDS; do
  for run in $(seq 1 "$RUNS"); do
    dir=$OUT/$backend-$run
    rm -rf "$dir" && mkdir -p "$dir"
    if [ "$backend" = embedded ]; then
      "$BIN" serve --listen 127.0.0.1:$PORT --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
      SERVER=$!
      database="sqlite://$dir/data/frontrow.db"
    else
      mysql -uroot -e "DROP DATABASE IF EXISTS frontrow_rush; CREATE DATABASE frontrow_rush"
      redis-cli --scan --pattern 'frontrow-rush:*' | xargs -r redis-cli del >/dev/null
      database="mysql://root@127.0.0.1:3306/frontrow_rush"
      DATABASE_URL=$database REDIS_URL=redis://127.0.0.1:6379 FRONTROW_REDIS_PREFIX=frontrow-rush: \
        "$BIN" serve --listen 127.0.0.1:$PORT --admin-key rush-key --jwt-secret rush-secret >"$dir/server.log" 2>&1 &
      SERVER=$!
    fi
    for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
    key=rush-key
    [ "$backend" = embedded ] && key=$(cat "$dir/data/admin-key")
    cpu_during "$dir" 8 &
    watcher=$!
    timeout 600 "$LOADTEST" --base-url "$BASE" --admin-key "$key" --database-url "$database" ticket-open \
      --users "$USERS" --seats "$SEATS" --schedules "$SCHEDULES" --capacity 1000 --admit-per-second 500 \
      --addresses "$ADDRESSES" >"$dir/report.txt" 2>&1 || true
    wait "$watcher" || true
    curl -s "$BASE/metrics" >"$dir/metrics.txt" || true
    grep '^frontrow_seat' "$dir/metrics.txt" >>"$dir/report.txt" || true
    grep -E 'VmHWM' "/proc/$SERVER/status" >>"$dir/report.txt" || true
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
    echo "== $backend run $run"
    grep -v '^buyer failed' "$dir/report.txt"
    cat "$dir/cpu.txt"
  done
done
