#!/usr/bin/env bash
# Schemathesis over every operation of /openapi.json (examples, coverage,
# fuzzing and stateful phases, every check) against a fresh frontrow,
# as issue 23's probe ran it.
#   bench/schemathesis.sh                     # embedded (SQLite, in-process queue)
#   BACKEND=mysql bench/schemathesis.sh       # the local MariaDB (a fresh database) and Redis
#   MAX_EXAMPLES=200 MAX_TIME=600 bench/schemathesis.sh
# Prints schemathesis's summary; its JUnit and NDJSON reports land in
# target/bench/schemathesis-$BACKEND/. Schemathesis comes from PyPI, pinned,
# into target/bench/schemathesis-venv (once), unless `st` is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-embedded}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
MAX_TIME=${MAX_TIME:-300}
PORT=${PORT:-18093}
BASE=http://127.0.0.1:$PORT
KEY=schemathesis-admin-key
OUT=$PWD/target/bench/schemathesis-$BACKEND
VENV=$PWD/target/bench/schemathesis-venv
ST_VERSION=4.32.5

rm -rf "$OUT" && mkdir -p "$OUT"
if command -v st >/dev/null; then
  ST=$(command -v st)
else
  if [ ! -x "$VENV/bin/st" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==$ST_VERSION"
  fi
  ST=$VENV/bin/st
fi
cargo build -q -p frontrow

stores=()
cleanup() { :; }
if [ "$BACKEND" = mysql ]; then
  db="frontrow_st_$(date +%s)"
  mariadb -uroot -h127.0.0.1 -e "CREATE DATABASE $db"
  stores=(--database-url "mysql://root@127.0.0.1:3306/$db" --redis-url "redis://127.0.0.1:6379"
    --redis-prefix "schemathesis-$db:")
  # The shared MariaDB and Redis keep nothing of the run.
  cleanup() {
    mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $db" || true
    redis-cli -h 127.0.0.1 --scan --pattern "schemathesis-$db:*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null || true
  }
fi
env -i PATH="$PATH" RUST_LOG=warn target/debug/frontrow serve --demo --listen "127.0.0.1:$PORT" \
  --admin-key "$KEY" --jwt-secret schemathesis-jwt-secret --data-dir "$OUT/data" "${stores[@]}" \
  >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done

# One buyer with points, whose token every request carries (with the admin
# key), so the generated requests get past authentication.
TOKEN=$(curl -sf "$BASE/api/v1/users" -H 'content-type: application/json' -d '{"name":"fuzz"}' | jq -r .accessToken)
curl -sf "$BASE/api/v1/points/charge" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"amount":100000}' >/dev/null

status=0
# The streams answer at once and then stay open: a request gives up after
# 3 s, which is schemathesis's "timeout", not a failure of the API. It runs
# in $OUT, where it keeps its caches (.hypothesis, .schemathesis).
cd "$OUT"
"$ST" run "$BASE/openapi.json" \
  --phases examples,coverage,fuzzing,stateful --checks all \
  --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --workers 2 \
  --request-timeout 3 \
  -H "Authorization: Bearer $TOKEN" -H "X-Admin-Key: $KEY" \
  --report junit,ndjson --report-dir . --no-color \
  >summary.txt 2>&1 || status=$?
cat summary.txt
# A 5xx fails schemathesis's not_a_server_error check; a panic would also
# show in the log.
if grep -q 'panicked' server.log; then
  echo "the server panicked: $OUT/server.log"
  status=1
fi
exit $status
