#!/usr/bin/env bash
# `make demo`: the demo server with a throwaway redis-server (scripts/with-redis.sh) and, unless
# JOBS_SMTP_HOST names a mail server, a local SMTP sink (scripts/smtp-sink.py) that keeps every message
# as JSON, so the email job type works out of the box. Both are stopped when the server stops.
set -euo pipefail
cd "$(dirname "$0")/.."

mail=""
sink=""
cleanup() {
    if [ -n "$sink" ] && kill -0 "$sink" 2>/dev/null; then kill "$sink" 2>/dev/null || true; fi
    [ -n "$mail" ] && rm -rf "$mail"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${JOBS_SMTP_HOST:-}" ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    mail=$(mktemp -d "${TMPDIR:-/tmp}/backgroundjobs-mail.XXXXXX")
    for attempt in $(seq 1 20); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
        # A session of its own: Ctrl-C reaches the server, which finishes its jobs before the sink goes.
        setsid /usr/bin/python3 scripts/smtp-sink.py --port "$port" --dir "$mail" >/dev/null 2>&1 &
        sink=$!
        for _ in $(seq 1 100); do
            [ -f "$mail/ready" ] && break
            kill -0 "$sink" 2>/dev/null || break
            sleep 0.05
        done
        [ -f "$mail/ready" ] && break
        kill "$sink" 2>/dev/null || true
        sink=""
    done
    if [ -n "$sink" ]; then
        export JOBS_SMTP_HOST=127.0.0.1 JOBS_SMTP_PORT=$port JOBS_SMTP_SECURITY=none
        echo "Email jobs go to a local SMTP sink on port $port; each message is kept as JSON in $mail" >&2
    else
        echo "Could not start the local SMTP sink; email jobs will fail until JOBS_SMTP_HOST names a server" >&2
    fi
fi

scripts/with-redis.sh "$@"
