#!/usr/bin/env bash
# The production topology on this machine: three frontrow instances on the
# local MariaDB and Redis, behind nginx.
#
#   deploy/local.sh          # start; the service is then at http://127.0.0.1:8088/
#   deploy/local.sh stop     # stop everything it started
#
# Needs MariaDB (root, no password) at 127.0.0.1:3306 and Redis at
# 127.0.0.1:6379; installs nginx from Debian if it is missing. The load
# test's crowd comes from few addresses, so the rate limits are off unless
# FRONTROW_RATE_LIMITS_SCALE says otherwise (1: the shipped limits).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=$PWD/target/deploy-local
LISTEN=${LISTEN:-127.0.0.1:8088}
PORTS=${PORTS:-"18081 18082 18083"}
DATABASE=${DATABASE:-frontrow_local}

stop() {
  [ -f "$RUN/nginx.pid" ] && nginx -p "$RUN" -c "$RUN/nginx.conf" -s quit 2>/dev/null || true
  for pidfile in "$RUN"/frontrow-*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  echo "stopped"
}

if [ "${1:-start}" = stop ]; then stop; exit 0; fi

command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
cargo build --release -q -p frontrow
mkdir -p "$RUN"
mysql -uroot -e "CREATE DATABASE IF NOT EXISTS $DATABASE"
upstreams=""
for port in $PORTS; do
  DATABASE_URL=mysql://root@127.0.0.1:3306/$DATABASE REDIS_URL=redis://127.0.0.1:6379 \
    FRONTROW_REDIS_PREFIX=frontrow-local: FRONTROW_ADMIN_KEY=local-admin-key FRONTROW_JWT_SECRET=local-jwt-secret \
    FRONTROW_TRUSTED_PROXIES=127.0.0.1 FRONTROW_RATE_LIMITS_SCALE="${FRONTROW_RATE_LIMITS_SCALE:-0}" \
    nohup target/release/frontrow serve --listen 127.0.0.1:"$port" >"$RUN/frontrow-$port.log" 2>&1 &
  echo $! >"$RUN/frontrow-$port.pid"
  upstreams="$upstreams        server 127.0.0.1:$port max_fails=2 fail_timeout=2s;\n"
done
sed -e "s|@LISTEN@|$LISTEN|" -e "s|@RUN@|$RUN|g" -e "s|@UPSTREAMS@|$upstreams|" \
  deploy/nginx.conf.template >"$RUN/nginx.conf"
for port in $PORTS; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
done
nginx -p "$RUN" -c "$RUN/nginx.conf"
echo "three instances behind nginx at http://$LISTEN/ (admin key: local-admin-key); stop with: deploy/local.sh stop"
