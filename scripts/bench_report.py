#!/usr/bin/env python3
"""jobs-bench JSON lines + the peer harness's results.tsv -> docs/benchmarks.md (medians, ratios, targets)."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

ours_path, peers_path, env_path = sys.argv[1], sys.argv[2], sys.argv[3]
previous_path = sys.argv[4] if len(sys.argv) > 4 else None
KEPT_HEADING = "## Reading the figures"
RAW_HEADING = "## Raw results"

ours = {}
for line in open(ours_path):
    row = json.loads(line)
    key = row["scenario"]
    if key == "process":
        key += f" p={row.get('processes', 1)} c={row.get('concurrency')}"
        if row.get("handlers", "global-executor") != "global-executor":
            key += f" {row['handlers']}"
    if key == "enqueue-single":
        key += f" tasks={row.get('tasks')}"
    ours.setdefault(key, []).append(row)

peers = {}
if os.path.exists(peers_path):
    for line in open(peers_path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 4:
            try:
                peers.setdefault((parts[1], parts[2]), []).append(float(parts[3]))
            except ValueError:
                pass


class Measured(float):
    """A median that remembers the lowest and highest run, so the table shows how noisy it was."""

    def __new__(cls, values):
        measured = super().__new__(cls, statistics.median(values))
        measured.low, measured.high = min(values), max(values)
        return measured


def mine(key, field):
    rows = ours.get(key, [])
    values = [r[field] for r in rows if r.get(field) is not None]
    return Measured(values) if values else None


def peer(label_start, metric):
    for (label, name), values in peers.items():
        if label.startswith(label_start) and name == metric:
            return statistics.median(values)
    return None


def fmt(value, unit=""):
    if value is None:
        return "—"
    return (f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}") + unit


rows = []


def row(name, ours_value, sidekiq_value, target_text, met, unit="", higher_better=True):
    ratio = None
    if ours_value and sidekiq_value:
        ratio = ours_value / sidekiq_value if higher_better else sidekiq_value / ours_value
    verdict = "—" if met is None else ("met" if met else "**not met**")
    runs = "—" if not isinstance(ours_value, Measured) else f"{fmt(ours_value.low)}–{fmt(ours_value.high)}"
    rows.append(f"| {name} | {fmt(ours_value, unit)} | {runs} | {fmt(sidekiq_value, unit)} | "
                f"{'—' if ratio is None else f'{ratio:.2f}×'} | {target_text} | {verdict} |")


def at_least(ours_value, sidekiq_value, factor):
    if ours_value is None or sidekiq_value is None:
        return None
    return ours_value >= factor * sidekiq_value


p1 = mine("process p=1 c=10", "jobs_per_s")
s1 = peer("sidekiq c=10", "process jobs/s")
row("process, 1 process (c=10), jobs/s", p1, s1, "≥ 3× Sidekiq c=10", at_least(p1, s1, 3))
p50c = mine("process p=1 c=50", "jobs_per_s")
row("process, 1 process (c=50), jobs/s", p50c, s1, "(beside Sidekiq c=10)", None)
p2 = mine("process p=2 c=10", "jobs_per_s")
s2 = peer("sidekiq 2 procs", "process jobs/s")
row("process, 2 processes (c=10), jobs/s", p2, s2, "≥ 2× Sidekiq 2 processes", at_least(p2, s2, 2))
q1 = mine("process p=1 c=10 queue-threads", "jobs_per_s")
row("process, 1 process (c=10), `handler_placement: queue_threads`, jobs/s", q1, s1, "≥ 3× Sidekiq c=10", at_least(q1, s1, 3))
q2 = mine("process p=2 c=10 queue-threads", "jobs_per_s")
row("process, 2 processes (c=10), `handler_placement: queue_threads`, jobs/s", q2, s2, "≥ 2× Sidekiq 2 processes",
    at_least(q2, s2, 2))

def peer_cpu_per_job(label_start, metric):
    """A peer's CPU per processed job in µs, from its CPU share over the steady window and its rate."""
    share, rate = peer(label_start, metric), peer(label_start, "process jobs/s")
    return None if share is None or not rate else share / 100 / rate * 1e6


row("Redis CPU per processed job (1 process, c=10)", mine("process p=1 c=10", "redis_cpu_us_per_job"),
    peer_cpu_per_job("sidekiq c=10", "redis CPU %"), "(beside the rows above)", None, " µs", higher_better=False)
row("worker CPU per processed job (1 process, c=10)", mine("process p=1 c=10", "worker_cpu_us_per_job"),
    peer_cpu_per_job("sidekiq c=10", "worker CPU %"), "(beside the rows above)", None, " µs", higher_better=False)
eb = mine("enqueue-bulk", "jobs_per_s")
sb = peer("sidekiq", "enqueue bulk jobs/s")
row("enqueue-bulk, jobs/s", eb, sb, "≥ 1.25× `push_bulk`", at_least(eb, sb, 1.25))
es = mine("enqueue-single tasks=50", "jobs_per_s")
ss = peer("sidekiq", "enqueue single jobs/s")
row("enqueue-single, 50 tasks, jobs/s", es, ss, "≥ 5× `perform_async`", at_least(es, ss, 5))
es1 = mine("enqueue-single tasks=1", "jobs_per_s")
row("enqueue-single, 1 task, jobs/s", es1, ss, "(beside `perform_async`)", None)
l50 = mine("latency", "p50_ms")
sl50 = peer("sidekiq c=10", "latency p50 ms")
row("latency at 500/s, p50", l50, sl50, "≤ 0.3 ms", None if l50 is None else l50 <= 0.3, " ms", higher_better=False)
l99 = mine("latency", "p99_ms")
sl99 = peer("sidekiq c=10", "latency p99 ms")
row("latency at 500/s, p99", l99, sl99, "≤ Sidekiq's p99", None if l99 is None or sl99 is None else l99 <= sl99, " ms",
    higher_better=False)
d99 = mine("delayed", "p99_ms")
row("delayed lateness, p99", d99, None, "≤ 20 ms", None if d99 is None else d99 <= 20, " ms", higher_better=False)
mem = mine("memory", "bytes_per_job")
smem = peer("sidekiq", "redis bytes/queued job")
row("Redis memory per queued job", mem, smem, "≤ 250 B, status kept", None if mem is None else mem <= 250, " B",
    higher_better=False)
depth = mine("depth", "ratio")
row("per-job cost, 1,000,000 queued vs 10,000", depth, None, "≤ 1.2×", None if depth is None else depth <= 1.2, "×",
    higher_better=False)
lost = sum(r.get("lost", 0) for rs in ours.values() for r in rs)
dup = sum(r.get("duplicated", 0) for rs in ours.values() for r in rs)
rows.append(f"| lost / duplicated, all scenarios and runs | {lost} / {dup} | — | — | — | 0 / 0 | {'met' if lost == 0 and dup == 0 else '**not met**'} |")

swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
runs = max((len(v) for v in ours.values()), default=0)
print("# Benchmarks: BackgroundJobs beside Sidekiq\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} CPUs ({platform.machine()}), {runs} runs each, medians; "
      "ours and Sidekiq in one `make bench` run against throwaway redis-servers on the same machine. "
      "Every job does one `INCR`, as in the peer harness. Crash-safe delivery stays on in every scenario.\n")
if swift:
    print(f"Swift: `{swift[0]}`\n")
if os.path.exists(env_path):
    print("Peer harness environment:\n\n```\n" + open(env_path).read().strip() + "\n```\n")
print("| metric | BackgroundJobs (median) | ours, lowest–highest run | Sidekiq (median) | ratio | target | |")
print("|---|---:|---:|---:|---:|---|---|")
print("\n".join(rows))
print("\nRe-run with `make bench` (`RUNS=3 N=50000` by default; `SKIP_PEERS=1` for ours alone).")
if previous_path and os.path.exists(previous_path):
    previous = open(previous_path).read()
    if KEPT_HEADING in previous:
        kept = previous[previous.index(KEPT_HEADING):]
        print("\n" + kept.split(RAW_HEADING)[0].rstrip())
print(f"\n{RAW_HEADING}\n\nThe JSON lines of every run:\n\n```")
for line in open(ours_path):
    print(line.rstrip())
print("```")
