#!/usr/bin/env bash
# Usage: scripts/build-dependent.sh SCRATCH_DIR CONFIGURATION BUILD_COMMAND...
#   e.g. scripts/build-dependent.sh Benchmarks/.build release swift build -c release --package-path Benchmarks
# Builds a package that depends on this library by path (Benchmarks, Examples/BackgroundJobs) into
# SCRATCH_DIR, clean when the library's file list changed since that package's last build there. SwiftPM's
# incremental build of such a package has missed source files added to the library, and then linked
# binaries that crashed on their first run (a jobs-bench that corrupted its heap, a demo server that
# crashed copying a JobSystem; seen on 2026-12-02). The build products for CONFIGURATION are removed then
# (the dependency checkouts stay); the file list is recorded once the build succeeds.
#
# The demo builds into the library's own .build, so the library and the dependencies the two share compile
# once: in a fresh clone the demo's build took 571 s in a folder of its own and 80 s after the library's.
# A clean there removes the library's build too, so a build of the library goes after this one.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$1 configuration=$2
shift 2
files=$(find Sources -name '*.swift' | sort | sha1sum | cut -d' ' -f1)
stamp="$scratch/sources-$configuration.sha1"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$files" ]; then
    echo "build-dependent: the library's file list changed since the last build in $scratch; building $configuration clean" >&2
    rm -rf "$scratch/$configuration" "$scratch/$configuration.yaml" "$scratch/build.db" \
        "$scratch"/*-unknown-linux-gnu/"$configuration"
fi
"$@"
mkdir -p "$scratch"
echo "$files" >"$stamp"
