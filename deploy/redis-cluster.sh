#!/usr/bin/env bash
# A local 3-master Redis Cluster on ports 17001-17003 (the one the tests and
# benchmarks use), from Debian's redis-server and redis-cli. Idempotent.
#
#   deploy/redis-cluster.sh start    # prints the seed URLs for --redis-url
#   deploy/redis-cluster.sh stop
set -euo pipefail
PORTS=(17001 17002 17003)
DIR=${FRONTROW_CLUSTER_DIR:-/tmp/frontrow-test-cluster}

ok() { for p in "${PORTS[@]}"; do redis-cli -p "$p" cluster info 2>/dev/null | grep -q cluster_state:ok || return 1; done; }

case "${1:-start}" in
  start)
    if ! ok; then
      for p in "${PORTS[@]}"; do
        mkdir -p "$DIR/$p"
        redis-cli -p "$p" ping >/dev/null 2>&1 || redis-server --port "$p" --bind 127.0.0.1 \
          --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" --cluster-node-timeout 2000 \
          --save "" --appendonly no --dir "$DIR/$p" --pidfile "$DIR/$p/redis.pid" \
          --daemonize yes --logfile "$DIR/$p/redis.log"
      done
      for p in "${PORTS[@]}"; do until redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.1; done; done
      if ! redis-cli -p "${PORTS[0]}" cluster info | grep -q cluster_known_nodes:3; then
        redis-cli --cluster create "${PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
      fi
      for _ in $(seq 1 300); do ok && break; sleep 0.1; done
      ok || { echo "the cluster did not come up; see $DIR/*/redis.log" >&2; exit 1; }
    fi
    printf 'redis://127.0.0.1:%s,' "${PORTS[@]}" | sed 's/,$/\n/'
    ;;
  stop)
    for p in "${PORTS[@]}"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
