#!/usr/bin/env bash
# The fault suite (docs/reliability.md): runs every scenario of scripts/chaos/chaos.py against the demo
# server, each with redis-servers and demo processes of its own, and prints one JSON line per scenario
# (also to FILE with --out FILE). --short runs the small versions that `make test` runs. Exits 1 when a
# scenario broke one of its promises; the others still run.
set -uo pipefail
cd "$(dirname "$0")/../.."
short=""
out=""
scenarios=()
while [ $# -gt 0 ]; do
    case "$1" in
        --short) short="--short" ;;
        --out) out="$2"; shift ;;
        -*) echo "usage: $0 [--short] [--out FILE] [scenario ...]" >&2; exit 2 ;;
        *) scenarios+=("$1") ;;
    esac
    shift
done
SERVER=${CHAOS_SERVER:-.build/debug/BackgroundJobsDemo}
[ -x "$SERVER" ] || { echo "build the demo first: swift build --package-path Examples/BackgroundJobs --scratch-path .build" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing: make deps installs it" >&2; exit 1; }
PYTHON=${PYTHON:-python3}
[ -n "$out" ] && : >"$out"
failed=0
[ ${#scenarios[@]} -gt 0 ] || read -r -a scenarios <<<"${CHAOS_SCENARIOS:-kill restart outage hang poison fuzz load}"
for scenario in "${scenarios[@]}"; do
    line=$("$PYTHON" scripts/chaos/chaos.py "$scenario" $short) || failed=1
    echo "$line"
    [ -n "$out" ] && echo "$line" >>"$out"
done
[ $failed -eq 0 ] && echo "fault suite${short:+ (short)}: every scenario kept its promises" >&2 || echo "fault suite: a scenario failed (\"ok\": false above)" >&2
exit $failed
