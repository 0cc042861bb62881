#!/usr/bin/env bash
# Usage: scripts/build-dependent.sh PACKAGE_DIR CONFIGURATION BUILD_COMMAND...
#   e.g. scripts/build-dependent.sh Benchmarks release swift build -c release --package-path Benchmarks
# Builds a package that depends on this library by path (Benchmarks, Examples/BackgroundJobs), clean when
# the library's file list changed since that package's last build. SwiftPM's incremental build of such a
# package has missed source files added to the library, and then linked binaries that crashed on their
# first run (a jobs-bench that corrupted its heap, a demo server that crashed copying a JobSystem; seen on
# 2026-12-02). The build products for CONFIGURATION are removed then (the dependency checkouts stay); the
# file list is recorded once the build succeeds.
set -euo pipefail
cd "$(dirname "$0")/.."
package=$1 configuration=$2
shift 2
files=$(find Sources -name '*.swift' | sort | sha1sum | cut -d' ' -f1)
stamp="$package/.build/sources-$configuration.sha1"
if [ -d "$package/.build" ] && [ "$(cat "$stamp" 2>/dev/null)" != "$files" ]; then
    rm -rf "$package/.build/$configuration" "$package/.build/$configuration.yaml" "$package/.build/build.db" \
        "$package"/.build/*-unknown-linux-gnu/"$configuration"
fi
"$@"
mkdir -p "$package/.build"
echo "$files" >"$stamp"
