#!/usr/bin/env bash
# Part of `make test`: starts the demo server and Debian's Prometheus with configs/prometheus.yml (pointed
# at the server's port, scraping every second), submits jobs, and checks through Prometheus's own HTTP API
# that the target is up and background_jobs_processed_total is above zero. Needs REDIS_URL (make test sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${REDIS_URL:?run it through scripts/with-redis.sh, as make test does}"
SERVER=.build/debug/BackgroundJobsDemo
[ -x "$SERVER" ] || { echo "build the demo first: swift build --package-path Examples/BackgroundJobs --scratch-path .build" >&2; exit 1; }
command -v prometheus >/dev/null || { echo "prometheus is missing: apt-get install prometheus (make test does)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
APP_PORT=$(free_port)
PROM_PORT=$(free_port)
PREFIX="promcheck-$$"
DIR=$(mktemp -d)
SERVER_PID=""
PROM_PID=""
cleanup() {
    [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    redis-cli -u "$REDIS_URL" --scan --pattern "$PREFIX:*" | xargs -r redis-cli -u "$REDIS_URL" DEL >/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT

JOBS_KEY_PREFIX=$PREFIX JOBS_METRICS_INTERVAL=1s "$SERVER" --port "$APP_PORT" --config configs/jobs.yaml >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
sed -e "s/127.0.0.1:8080/127.0.0.1:$APP_PORT/" -e "s/scrape_interval: 15s/scrape_interval: 1s/" configs/prometheus.yml >"$DIR/prometheus.yml"
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$DIR/prometheus.log" 2>&1 &
PROM_PID=$!

for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$APP_PORT/health/jobs" >/dev/null && break; sleep 0.1; done
for text in one two three; do
    curl -sf -X POST "http://127.0.0.1:$APP_PORT/jobs" -H 'content-type: application/json' \
        -d "{\"type\": \"reverse_string\", \"payload\": {\"text\": \"$text\"}}" >/dev/null
done

query() { # prints the first sample's value of a PromQL query, or nothing
    curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
for _ in $(seq 1 60); do
    up=$(query 'up{job="background-jobs"}')
    processed=$(query 'sum(background_jobs_processed_total{status="completed"})')
    if [ "$up" = "1" ] && [ -n "$processed" ] && [ "${processed%.*}" -ge 3 ]; then
        echo "prometheus-check: target up, background_jobs_processed_total{status=\"completed\"} = $processed (through Prometheus's API)"
        exit 0
    fi
    sleep 0.5
done
echo "prometheus-check failed: up=$up processed=$processed" >&2
tail -5 "$DIR/prometheus.log" "$DIR/server.log" >&2
exit 1
