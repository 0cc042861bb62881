#!/usr/bin/env bash
# Usage: scripts/clean-if-sources-changed.sh PACKAGE_DIR CONFIGURATION   (e.g. Benchmarks release)
# SwiftPM's incremental build of a package that depends on this one by path has missed source files added to
# the library, and then linked binaries that crashed on their first run (a jobs-bench that corrupted its heap,
# a demo server that crashed copying a JobSystem; seen on 2026-12-02). When the library's file list changed
# since that package's last build, its build products for CONFIGURATION are removed, so the next build starts
# clean (the dependency checkouts stay). Run the build, then this script again with --stamp to record the list.
set -euo pipefail
cd "$(dirname "$0")/.."
package=$1 configuration=$2
files=$(find Sources -name '*.swift' | sort | sha1sum | cut -d' ' -f1)
stamp="$package/.build/sources-$configuration.sha1"
if [ "${3:-}" = --stamp ]; then
    mkdir -p "$package/.build"
    echo "$files" >"$stamp"
    exit 0
fi
if [ -d "$package/.build" ] && [ "$(cat "$stamp" 2>/dev/null)" != "$files" ]; then
    rm -rf "$package/.build/$configuration" "$package/.build/$configuration.yaml" "$package/.build/build.db" \
        "$package"/.build/*-unknown-linux-gnu/"$configuration"
fi
