#!/usr/bin/env bash
# The bot-farm scenario of issue 25 (docs/benchmarks.md): `frontrow-loadtest
# botfarm`, 200 people (each from a loopback address of their own) wanting 2
# seats each for 200 seats, against a farm attempting 2,000 accounts, a room
# of 50 admitting 50/s, on a fresh server per run with its shipped defaults
# (every limit and the door's challenge as an operator gets them). Each run
# first lets the same people buy alone, for their latency without the farm.
#
# Modes: empty (the farm's accounts have no points, 2 addresses), points
# (it charges each account first; charging is free here), spread (it
# charges and spreads over 200 addresses, each in a /24 of its own).
#
# The door's challenges are off by default (every level 0): turn them on
# with the server's variables, which this script passes through, or with
# DOOR_LEVEL (the concerts' own level, through the admin API).
#
#   bench/botfarm.sh                               # every mode, 3 runs, both backends
#   RUNS=1 MODES=empty BACKENDS=embedded bench/botfarm.sh
#   FRONTROW_CHALLENGE_YOUNG_LEVEL=4 bench/botfarm.sh   # young accounts pay at the door
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
MODES=${MODES:-"empty points spread"}
BACKENDS=${BACKENDS:-"embedded mysql"}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=target/botfarm
PORT=${PORT:-18098}
BASE=http://127.0.0.1:$PORT
cargo build --release -q -p frontrow -p frontrow-loadtest
BIN=$TARGET/release/frontrow
LOADTEST=$TARGET/release/frontrow-loadtest
mkdir -p "$OUT"

for backend in $BACKENDS; do
  for mode in $MODES; do
    case $mode in
      empty) farm=(--farm-addresses 2) ;;
      points) farm=(--farm-addresses 2 --farm-points) ;;
      spread) farm=(--farm-addresses 200 --farm-points) ;;
      *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
    for run in $(seq 1 "$RUNS"); do
      dir=$OUT/$backend-$mode-$run
      rm -rf "$dir" && mkdir -p "$dir"
      if [ "$backend" = embedded ]; then
        "$BIN" serve --listen 127.0.0.1:$PORT --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
      else
        mysql -uroot -e "DROP DATABASE IF EXISTS frontrow_botfarm; CREATE DATABASE frontrow_botfarm"
        redis-cli --scan --pattern 'frontrow-botfarm:*' | xargs -r redis-cli del >/dev/null
        DATABASE_URL=mysql://root@127.0.0.1:3306/frontrow_botfarm REDIS_URL=redis://127.0.0.1:6379 \
          FRONTROW_REDIS_PREFIX=frontrow-botfarm: \
          "$BIN" serve --listen 127.0.0.1:$PORT --admin-key botfarm-key --jwt-secret botfarm-secret >"$dir/server.log" 2>&1 &
      fi
      SERVER=$!
      for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
      key=botfarm-key
      [ "$backend" = embedded ] && key=$(cat "$dir/data/admin-key")
      door=(); [ -n "${DOOR_LEVEL:-}" ] && door=(--door-level "$DOOR_LEVEL")
      timeout 900 "$LOADTEST" --base-url "$BASE" --admin-key "$key" botfarm "${farm[@]}" "${door[@]}" >"$dir/report.txt" 2>&1 || true
      kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
      echo "== $backend, farm $mode, run $run"
      grep -v '^a person failed' "$dir/report.txt"
    done
  done
done
