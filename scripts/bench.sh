#!/usr/bin/env bash
# `make bench`: every jobs-bench scenario, then Sidekiq through ../shared/bench/peers on the same
# machine, and one table of ours against Sidekiq with the ratio per row in docs/benchmarks.md.
#   RUNS=3 N=50000 scripts/bench.sh          (RUNS runs of each; medians are reported)
#   SKIP_PEERS=1 scripts/bench.sh            (ours only; the table then has no ratios)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
N=${N:-50000}
PEERS_DIR=${PEERS_DIR:-../shared/bench/peers}
OUT=${OUT:-$(mktemp -d /tmp/jobs-bench.XXXXXX)}
mkdir -p "$OUT"
BENCH=Benchmarks/.build/release/jobs-bench

scripts/build-dependent.sh Benchmarks/.build release swift build -c release --package-path Benchmarks >&2
: >"$OUT/ours.jsonl"
for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS: BackgroundJobs ($(date +%T))" >&2
    scripts/with-redis.sh bash -c "
        set -e
        $BENCH enqueue-bulk --runs 1 --jobs $N
        $BENCH enqueue-single --runs 1 --jobs $N --tasks 50
        $BENCH enqueue-single --runs 1 --jobs $((N / 5)) --tasks 1
        $BENCH process --runs 1 --jobs $N --concurrency 10
        $BENCH process --runs 1 --jobs $N --concurrency 50
        $BENCH process --runs 1 --jobs $N --concurrency 10 --processes 2
        $BENCH process --runs 1 --jobs $N --concurrency 10 --handlers queue-threads
        $BENCH process --runs 1 --jobs $N --concurrency 10 --processes 2 --handlers queue-threads
        $BENCH latency --runs 1
        $BENCH delayed --runs 1
        $BENCH memory --runs 1 --jobs $N
        $BENCH depth --runs 1
    " | grep '^{' >>"$OUT/ours.jsonl"
done

if [ -z "${SKIP_PEERS:-}" ]; then
    scripts/install-deps.sh ruby-sidekiq redis-tools python3-redis >&2
    PEERS="redis sidekiq" RUNS=$RUNS N=$N OUT="$OUT/peers" "$PEERS_DIR/run.sh" >&2
fi
# The report keeps the hand-written part of the old file (from its "## Reading the figures" on).
python3 scripts/bench_report.py "$OUT/ours.jsonl" "$OUT/peers/results.tsv" "$OUT/peers/env.txt" docs/benchmarks.md \
    >"$OUT/benchmarks.md"
mv "$OUT/benchmarks.md" docs/benchmarks.md
echo "wrote docs/benchmarks.md (raw results in $OUT)" >&2
