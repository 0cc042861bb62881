#!/usr/bin/env bash
# Runs a command with REDIS_URL set. When REDIS_URL is already set, it is used as it is. Otherwise a
# throwaway redis-server (no persistence, its own temp dir) starts on a free loopback port and is
# stopped by its PID when the command ends, whether it passed or failed.
set -euo pipefail

if [ -n "${REDIS_URL:-}" ]; then
    exec "$@"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/backgroundjobs-redis.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for attempt in $(seq 1 20); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
    port_in_use "$port" && continue
    # A session of its own: Ctrl-C in the terminal reaches the command, which stops with Redis still up;
    # the server is stopped after it, by the trap.
    setsid redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
        --daemonize no --logfile "$dir/redis.log" &
    pid=$!
    for _ in $(seq 1 100); do
        if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    # Another run may have taken the port first: use the server only if it is ours.
    if redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$pid"; then
        export REDIS_URL="redis://127.0.0.1:$port"
        echo "Started a throwaway redis-server (pid $pid) at $REDIS_URL" >&2
        status=0
        "$@" || status=$?
        exit $status
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
done
echo "Could not start redis-server on a free port. Its last log lines:" >&2
tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
exit 1
