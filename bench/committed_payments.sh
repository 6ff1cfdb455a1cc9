#!/usr/bin/env bash
# Committed payments/s on MySQL + Redis, as bench/run.sh's "POST
# /api/v1/payments" row: holds first (its "committed" row, which the
# payments then pay), then one payment per live hold.
#   bench/committed_payments.sh BIN LOADTEST OUT   (e.g. target/release/frontrow target/release/frontrow-loadtest target/bench/payments)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1 LOADTEST=$2 OUT=$3
PORT=${PORT_:-18398} BASE=http://127.0.0.1:${PORT_:-18398} KEY=bench-admin-key
ACTIVE=${ACTIVE:-8000} SECONDS_=${SECONDS_:-3} CONNECTIONS=${CONNECTIONS:-64}
DB=${DB:-frontrow_paybench} PREFIX=${PREFIX:-frontrow-paybench:}
DATABASE="mysql://root@127.0.0.1:3306/$DB"
rm -rf "$OUT" && mkdir -p "$OUT"
mysql -uroot -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
redis-cli --scan --pattern "${PREFIX}*" | sed 's/^/DEL /' | redis-cli >/dev/null
env -i PATH="$PATH" RUST_LOG=warn FRONTROW_RATE_LIMITS_SCALE=0 FRONTROW_HOUSEHOLD_SEATS=0 DATABASE_URL="$DATABASE" REDIS_URL=redis://127.0.0.1:6379 \
  FRONTROW_REDIS_PREFIX="$PREFIX" "$BIN" serve --listen 127.0.0.1:$PORT --admin-key $KEY --jwt-secret bench-jwt-secret \
  --hold-seconds 300 >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
"$LOADTEST" --base-url $BASE --admin-key $KEY prepare --active "$ACTIVE" --fresh 10 --rushes 1 --out "$OUT" >"$OUT/prepare.txt" 2>&1
source "$OUT/meta.env"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_}s" --latency -s bench/wrk/rotate.lua "$BASE" -- hold "$OUT/active.txt" "$HOLD_SCHEDULE" >"$OUT/hold.txt" 2>&1
"$LOADTEST" --database-url "$DATABASE" payment-lines --dir "$OUT" --schedule "$HOLD_SCHEDULE"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_}s" --latency -s bench/wrk/rotate.lua "$BASE" -- pay "$OUT/payments.txt" >"$OUT/pay.txt" 2>&1
echo "holds:"; grep -E "Requests/sec|^created|Non-2xx|99%" "$OUT/hold.txt"
echo "payments ($(wc -l <"$OUT/payments.txt") live holds to pay):"; grep -E "Requests/sec|^created|Non-2xx|50%|99%" "$OUT/pay.txt"
mysql -uroot -N -e "SELECT 'payments committed', COUNT(*) FROM $DB.payments"
