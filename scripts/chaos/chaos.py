#!/usr/bin/env python3
"""The fault suite (issue 9): drives the demo server (Examples/BackgroundJobs) and redis-servers of its own
through crashes, restarts, outages, hung and crashing handlers, malformed input and load.

    scripts/chaos/chaos.py <scenario> [--short]      scenarios: kill restart outage hang poison fuzz load

Each scenario starts its own redis-server(s) on free loopback ports in a temp dir and its own demo processes,
stops everything it started by PID (also when it fails), and prints one JSON line: jobs, completed, lost,
executed_twice, duration, notes, and ok. It exits 1 when a promise of the scenario is broken.

"executed_twice" is counted by the job body itself: the demo's chaos_* job types (`--chaos-jobs`) add one to
the job's field of the hash <prefix>:chaos:runs before doing anything else.

Python 3 standard library only.
"""

import argparse
import asyncio
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.environ.get("CHAOS_SERVER", os.path.join(ROOT, ".build/debug/BackgroundJobsDemo"))
PREFIX = "chaos"
QUEUE = "chaos"
VERBOSE = os.environ.get("CHAOS_VERBOSE") == "1"


def log(*parts):
    if VERBOSE:
        print("[chaos %.1f]" % time.monotonic(), *parts, file=sys.stderr, flush=True)


class Failure(Exception):
    pass


def wait_until(what, timeout, condition, every=0.05):
    """Polls `condition` until it returns a true value, which it returns; raises after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (OSError, RespError):
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure("timed out after %ss waiting until %s" % (timeout, what))
        time.sleep(every)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---------------------------------------------------------------------------------------------------------
# Redis: a server of our own, and a minimal RESP client with pipelining


class RespError(Exception):
    pass


class Resp:
    def __init__(self, port, timeout=10):
        self.port = port
        self.timeout = timeout
        self.sock = None
        self.buffer = b""

    def connect(self):
        self.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.buffer = b""

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            if isinstance(arg, str):
                arg = arg.encode()
            elif isinstance(arg, int):
                arg = str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(out)

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise OSError("Redis closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exact(self, count):
        while len(self.buffer) < count + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise OSError("Redis closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise OSError("bad RESP line %r" % line)

    def pipeline(self, commands, chunk=2000, retry=True):
        """Sends `commands` in pipelined chunks; after a restart of the server, once more on a new connection
        (the suite's reads are safe to repeat; its few writes happen while the server stays up)."""
        for attempt in range(2 if retry else 1):
            if self.sock is None:
                try:
                    self.connect()
                except OSError:
                    if attempt == 0 and retry:
                        time.sleep(0.2)
                        continue
                    raise
            replies = []
            try:
                for start in range(0, len(commands), chunk):
                    part = commands[start:start + chunk]
                    self.sock.sendall(b"".join(self.encode(c) for c in part))
                    replies.extend(self._reply() for _ in part)
                return replies
            except OSError:
                self.close()
                if attempt == 1 or not retry:
                    raise
        raise OSError("no connection to Redis")

    def call(self, *args):
        reply = self.pipeline([list(args)])[0]
        if isinstance(reply, RespError):
            raise reply
        return reply


class RedisServer:
    """A redis-server on a free loopback port with a data directory of its own; restartable on that port."""

    def __init__(self, workdir, name="redis", extra=()):
        self.port = free_port()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.extra = list(extra)
        self.process = None
        self.start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--logfile", "redis.log", "--daemonize", "no"] + self.extra
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        client = Resp(self.port, timeout=2)

        def ready():
            if self.process.poll() is not None:
                raise Failure("redis-server exited with %s; see %s/redis.log" % (self.process.returncode, self.dir))
            try:
                return client.call("PING") == "PONG"
            except (OSError, RespError):
                client.close()
                return False

        wait_until("redis-server on port %d answers PING (its data loaded)" % self.port, 60, ready, every=0.02)
        client.close()
        log("redis up", self.port, self.extra)

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        log("redis stopped", sig)

    def client(self):
        return Resp(self.port)


# ---------------------------------------------------------------------------------------------------------
# The demo server's processes


CONFIG = """jobs:
  redis:
    key_prefix: "{prefix}"
  worker_pool:
    worker_count: {concurrency}
    max_retries: 3
    retry_delay: "200ms"
    shutdown_timeout: "5s"
    queues: ["{queue}"]
    stall_limit: {stall_limit}
    heartbeat_interval: "{heartbeat_interval}"
    heartbeat_ttl: "{heartbeat_ttl}"
    reaper_interval: "{reaper_interval}"
    handler_placement: "{placement}"
  scheduler:
    enabled: false
  metrics:
    enabled: true
    collection_interval: "5s"
queues:
  {queue}:
    priority_levels: ["low", "normal", "high", "critical"]
"""


class Demo:
    """One demo server process (`--role api|worker|all --chaos-jobs`)."""

    def __init__(self, suite, role, port=None, env=None):
        self.suite = suite
        self.role = role
        self.port = port
        suite.started += 1
        self.log_path = os.path.join(suite.workdir, "%s-%d.log" % (role, suite.started))
        environment = dict(os.environ)
        environment.update({"REDIS_URL": suite.redis_url, "JOBS_KEY_PREFIX": PREFIX})
        environment.pop("JOBS_API_TOKEN", None)
        environment.update(env or {})
        args = [SERVER, "--role", role, "--config", suite.config_path, "--chaos-jobs"]
        if port:
            args += ["--port", str(port)]
        self.logfile = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=subprocess.STDOUT,
                                        env=environment, start_new_session=True)
        suite.processes.append(self)
        log("started", role, self.process.pid)

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            os.kill(self.pid, sig)
        self.process.wait()

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.logfile.close()
        return self.process.returncode

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""


class Api:
    """HTTP/1.1 with keep-alive to one demo API process."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        """Returns (status, parsed JSON or raw bytes, seconds); raises OSError when no answer came."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        all_headers = {"content-type": "application/json"}
        all_headers.update(headers or {})
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            started = time.monotonic()
            try:
                self.connection.request(method, path, body=body, headers=all_headers)
                response = self.connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = None
                # A request that got no answer on a reused connection may have hit a close; once more on a new one.
                if attempt == 1 or isinstance(error, socket.timeout):
                    raise OSError(str(error))
                continue
            elapsed = time.monotonic() - started
            if response.getheader("connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = data
            return response.status, parsed, elapsed
        raise OSError("unreachable")

    def wait_healthy(self, timeout=60):
        def healthy():
            try:
                return self.request("GET", "/health/jobs")[0] == 200
            except OSError:
                return False
        wait_until("the API on port %d is healthy" % self.port, timeout, healthy, every=0.1)


def message_of(parsed):
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return parsed["error"].get("message") or ""
    return ""


class Suite:
    """What one scenario started: its temp dir, Redis, config file and processes; cleans them all up."""

    def __init__(self, name, short, redis_args=(), concurrency=5, stall_limit=1, heartbeat=("5s", "15s", "5s"), placement="global_executor"):
        if not os.access(SERVER, os.X_OK):
            raise SystemExit("build the demo first: swift build --package-path Examples/BackgroundJobs --scratch-path .build (%s)" % SERVER)
        self.name = name
        self.short = short
        self.workdir = tempfile.mkdtemp(prefix="backgroundjobs-chaos-%s-" % name)
        self.processes = []
        self.started = 0
        self.redis = None
        self.redis = RedisServer(self.workdir, extra=redis_args)
        self.redis_url = self.redis.url
        self.db = self.redis.client()
        self.config_path = os.path.join(self.workdir, "jobs.yaml")
        with open(self.config_path, "w") as f:
            f.write(CONFIG.format(prefix=PREFIX, queue=QUEUE, concurrency=concurrency, stall_limit=stall_limit, placement=placement,
                                  heartbeat_interval=heartbeat[0], heartbeat_ttl=heartbeat[1], reaper_interval=heartbeat[2]))

    def api(self, env=None):
        port = free_port()
        process = Demo(self, "api", port=port, env=env)
        client = Api(port)
        try:
            client.wait_healthy()
        except Failure:
            raise Failure("the API did not come up: " + process.log_tail())
        return process, client

    def worker(self, env=None):
        return Demo(self, "worker", env=env)

    def cleanup(self, keep=False):
        for process in self.processes:
            if process.alive():
                process.kill(signal.SIGKILL)
            try:
                process.logfile.close()
            except Exception:
                pass
        if self.redis:
            self.redis.stop(signal.SIGKILL)
        self.db.close()
        if keep or os.environ.get("CHAOS_KEEP") == "1":
            print("[chaos] kept %s" % self.workdir, file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", self.workdir])

    # -- reading the outcome from Redis

    def key(self, *parts):
        return ":".join((PREFIX,) + parts)

    def statuses(self, ids):
        replies = self.db.pipeline([["HGET", self.key("data", i), "s"] for i in ids])
        return [r.decode() if isinstance(r, bytes) else r for r in replies]

    def fields(self, ids, *names):
        replies = self.db.pipeline([["HMGET", self.key("data", i)] + list(names) for i in ids])
        return [[v.decode(errors="replace") if isinstance(v, bytes) else v for v in r] for r in replies]

    def runs(self):
        flat = self.db.call("HGETALL", self.key("chaos", "runs")) or []
        return {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    def total_runs(self):
        values = self.db.call("HVALS", self.key("chaos", "runs")) or []
        return sum(int(v) for v in values)

    def worker_ids_by_pid(self):
        ids = [w.decode() for w in (self.db.call("SMEMBERS", self.key("workers")) or [])]
        pids = self.db.pipeline([["HGET", self.key("worker", w), "i"] for w in ids]) if ids else []
        return {int(p): w for w, p in zip(ids, pids) if p is not None}

    def processing_ids(self, worker):
        return [i.decode() for i in (self.db.call("LRANGE", self.key("processing", worker), 0, -1) or [])]

    def holdings(self):
        """(key, ids) of every ready list, processing list and the delayed set."""
        found = []
        cursor = b"0"
        while True:
            cursor, keys = self.db.call("SCAN", cursor, "MATCH", self.key("*"), "COUNT", 1000)
            for key in keys:
                name = key.decode()
                # By prefix: a unique key's name may contain ":queue:" too.
                if name.startswith(self.key("queue") + ":") or name.startswith(self.key("processing") + ":"):
                    found.append((name, [i.decode() for i in self.db.call("LRANGE", key, 0, -1)]))
            if cursor == b"0":
                break
        found.append((self.key("delayed"), [i.decode() for i in self.db.call("ZRANGE", self.key("delayed"), 0, -1)]))
        return found

    def whereabouts(self, ids):
        """For each id, its status, stalls, attempts and worker, and the lists that hold it: what a failed
        scenario reports about the jobs it found unfinished."""
        holders = {}
        for name, held in self.holdings():
            for i in held:
                holders.setdefault(i, []).append(name)
        alive = set(self.worker_ids_by_pid().values())
        out = []
        for i, (status, stalls, attempts, worker) in zip(ids, self.fields(ids, "s", "k", "a", "w")):
            out.append("%s s=%s k=%s a=%s w=%s%s in %s" % (i, status, stalls, attempts, worker,
                       "" if worker is None else (" (registered)" if worker in alive else " (not registered)"),
                       holders.get(i, ["no list"])))
        return out

    def leftovers(self):
        """Ids still in any processing list, ready list or the delayed set."""
        return [i for _, held in self.holdings() for i in held]


def submit_batches(api, jobs, batch=1000, on_error=None):
    """Submits `jobs` (dicts) through POST /jobs/batch; returns the acknowledged ids and the failed batches."""
    acknowledged, failed = [], []
    for start in range(0, len(jobs), batch):
        part = jobs[start:start + batch]
        try:
            status, body, _ = api.request("POST", "/jobs/batch", {"jobs": part})
        except OSError as error:
            status, body = None, str(error)
        if status == 201:
            for result in body["results"]:
                if result.get("status") != "submitted":
                    raise Failure("a batch item was refused: %s" % result)
                acknowledged.append(result["id"])
        else:
            failed.append((status, message_of(body) or str(body)[:200], len(part)))
            if on_error:
                on_error(status, body)
    return acknowledged, failed


def count_job(ms=0, **extra):
    job = {"type": "chaos_count", "payload": {"ms": ms}, "queue": QUEUE}
    job.update(extra)
    return job


def wait_all_finished(suite, ids, timeout, statuses=("completed",)):
    """Waits until every id has one of `statuses` (or the timeout); returns the last status per id."""
    deadline = time.monotonic() + timeout
    remaining = list(ids)
    last = {}
    while True:
        current = suite.statuses(remaining)
        pending = []
        for i, s in zip(remaining, current):
            last[i] = s
            if s not in statuses:
                pending.append(i)
        remaining = pending
        if not remaining or time.monotonic() >= deadline:
            return last, remaining
        time.sleep(0.25)


def outcome(name, jobs, completed, lost, twice, started, notes, ok, **extra):
    line = {"scenario": name, "jobs": jobs, "completed": completed, "lost": lost, "executed_twice": twice,
            "duration": round(time.monotonic() - started, 1), "notes": notes, "ok": bool(ok)}
    line.update(extra)
    return line


# ---------------------------------------------------------------------------------------------------------
# 1. kill -9 chaos


def scenario_kill(short):
    jobs = 3000 if short else 100_000
    period, length = (0.75, 4.5) if short else (2.0, 60.0)
    # Long enough that the jobs outlast the kills: 4 workers x 5 slots run at most 20 jobs per job time.
    job_ms = 30 if short else 15
    # The full run keeps the default stall limit (1). The short one kills six times in 4.5 s with a 2 s TTL,
    # so a job taken over once may sit alone on the next victim: a job dead by that policy would fail
    # make test by chance; 3 keeps the short run about loss, not about the policy.
    stall_limit = int(os.environ.get("CHAOS_STALL_LIMIT", "3" if short else "1"))
    heartbeat = ("500ms", "2s", "500ms") if short else ("5s", "15s", "5s")
    suite = Suite("kill", short, concurrency=5, stall_limit=stall_limit, heartbeat=heartbeat)
    started = time.monotonic()
    try:
        _, api = suite.api()
        workers = [suite.worker() for _ in range(4)]
        wait_until("4 workers registered", 30, lambda: len(suite.worker_ids_by_pid()) >= 4)
        ids, failed = submit_batches(api, [count_job(job_ms) for _ in range(jobs)])
        if failed:
            raise Failure("submissions failed: %s" % failed[:3])
        log("submitted", len(ids))
        in_flight = set()
        kills = 0
        kill_started = time.monotonic()
        next_kill = kill_started + period
        while time.monotonic() - kill_started < length:
            time.sleep(max(0, next_kill - time.monotonic()))
            next_kill += period
            known = suite.worker_ids_by_pid()
            candidates = [w for w in workers if w.alive() and w.pid in known]
            if not candidates:
                continue
            victim = random.choice(candidates)
            victim.kill(signal.SIGKILL)
            kills += 1
            # The process is gone: its processing list holds exactly what it had in flight.
            held = suite.processing_ids(known[victim.pid])
            in_flight.update(held)
            workers.remove(victim)
            workers.append(suite.worker())
            log("kill", kills, "held", len(held))
        chaos_end = time.monotonic()
        states, remaining = wait_all_finished(suite, ids, 60 if short else 240, statuses=("completed", "dead"))
        drained = time.monotonic() - chaos_end
        runs = suite.runs()
        completed = sum(1 for i in ids if states.get(i) == "completed")
        dead = [i for i in ids if states.get(i) == "dead"]
        lost = [i for i in ids if states.get(i) not in ("completed", "dead")]
        twice = [i for i in ids if runs.get(i, 0) > 1]
        never_ran = [i for i in ids if states.get(i) == "completed" and runs.get(i, 0) == 0]
        outside = [i for i in twice if i not in in_flight]
        completed_index = suite.db.call("ZCARD", suite.key("completed", QUEUE))
        leftovers = suite.leftovers()
        ok = (completed == jobs and not lost and not dead and len(twice) <= len(in_flight) and not outside and not never_ran
              and completed_index == jobs and not leftovers)
        notes = ("%d workers x concurrency 5, job body %d ms; %d SIGKILLs every %.0f s for %.0f s, each followed by a new worker; "
                 "%d jobs were in flight at the kills (the killed workers' processing lists); drained %.1f s after the last kill; "
                 "heartbeat TTL %s, stall limit %d" % (4, job_ms, kills, period, length, len(in_flight), drained, heartbeat[1], stall_limit))
        if dead:
            notes += "; %d dead: %s" % (len(dead), suite.fields(dead[:3], "e"))
        if outside:
            notes += "; %d ran twice without being in flight at a kill" % len(outside)
        if leftovers:
            notes += "; %d ids left in lists" % len(leftovers)
        return outcome("kill", jobs, completed, len(lost), len(twice), started, notes, ok, kills=kills, in_flight_at_kills=len(in_flight),
                       dead=len(dead), runs_max=max(runs.values()) if runs else 0)
    finally:
        suite.cleanup()


# ---------------------------------------------------------------------------------------------------------
# 2. Redis restarts with AOF


def scenario_restart(short):
    lines = []
    runs = [("always", signal.SIGTERM), ("always", signal.SIGKILL), ("everysec", signal.SIGKILL)]
    for fsync, sig in runs:
        lines.append(restart_run(short, fsync, sig))
    ok = all(line["ok"] for line in lines)
    total = lambda key: sum(line[key] for line in lines)
    notes = "; ".join("appendfsync %s, 2 x %s: %d acknowledged, %d lost, %d ran twice, %d batches refused, %s" % (
        line["fsync"], line["signal"], line["acknowledged"], line["lost"], line["executed_twice"], line["refused_batches"], line["notes"])
        for line in lines)
    return {"scenario": "restart", "jobs": total("jobs"), "completed": total("completed"), "lost": total("lost"),
            "executed_twice": total("executed_twice"), "duration": round(sum(line["duration"] for line in lines), 1), "notes": notes,
            "ok": ok, "runs": lines}


def restart_run(short, fsync, sig):
    jobs = 3000 if short else 50_000
    suite = Suite("restart", short, redis_args=["--appendonly", "yes", "--appendfsync", fsync], concurrency=10)
    started = time.monotonic()
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGKILL"
    try:
        api_process, api = suite.api()
        workers = [suite.worker() for _ in range(2)]
        wait_until("2 workers registered", 30, lambda: len(suite.worker_ids_by_pid()) >= 2)
        acknowledged, refused = [], []
        restarts_at = [jobs // 4, (jobs * 3) // 5]
        restart_done = []
        stop = threading.Event()

        def restarter():
            for threshold in restarts_at:
                while len(acknowledged) < threshold and not stop.is_set():
                    time.sleep(0.01)
                if stop.is_set():
                    return
                suite.redis.stop(sig)
                suite.redis.start()
                restart_done.append(time.monotonic())

        thread = threading.Thread(target=restarter, daemon=True)
        thread.start()
        batch = 100
        deadline = time.monotonic() + (120 if short else 600)

        def may_submit():
            # Submissions go on during a restart, but not past the next restart's threshold (or the last
            # job) until it is done: on a fast host the API stored every job while the first restart was
            # still under way, and the second never came.
            done = len(restart_done)
            if done >= len(restarts_at):
                return True
            limit = restarts_at[done + 1] if done + 1 < len(restarts_at) else jobs
            return len(acknowledged) + batch < limit

        while len(acknowledged) < jobs and time.monotonic() < deadline:
            if not may_submit():
                time.sleep(0.01)
                continue
            ids, failed = submit_batches(api, [count_job(0) for _ in range(min(batch, jobs - len(acknowledged)))], batch=batch)
            acknowledged += ids
            refused += failed
            if failed:
                time.sleep(0.05)
        stop.set()
        thread.join(60)
        if len(restart_done) < 2:
            raise Failure("only %d of 2 restarts happened" % len(restart_done))
        states, remaining = wait_all_finished(suite, acknowledged, 60 if short else 180)
        completed = sum(1 for i in acknowledged if states.get(i) == "completed")
        missing = [i for i in acknowledged if states.get(i) is None]
        stuck = [i for i in acknowledged if states.get(i) not in (None, "completed")]
        runs = suite.runs()
        twice = sum(1 for i in acknowledged if runs.get(i, 0) > 1)
        unacknowledged_stored = len(set(runs) - set(acknowledged))
        alive = api_process.alive() and all(w.alive() for w in workers)
        leftovers = suite.leftovers()
        ok = (not missing and not stuck and alive and completed == len(acknowledged) and len(acknowledged) == jobs and not leftovers
              and (fsync != "always" or not missing))
        strays = reconciled_strays(workers)
        notes = "%d stored though their batch got no 201; reconciles after a lost reply put back %d jobs %s" % (
            unacknowledged_stored, sum(strays), strays)
        if stuck:
            notes += "; stuck: %s" % dict(zip(stuck[:5], suite.statuses(stuck[:5])))
        if not alive:
            notes += "; a process died"
        if leftovers:
            notes += "; %d ids left in lists" % len(leftovers)
        return {"fsync": fsync, "signal": name, "jobs": jobs, "acknowledged": len(acknowledged), "completed": completed,
                "reconciled": sum(strays),
                "lost": len(missing), "stuck": len(stuck), "executed_twice": twice, "refused_batches": len(refused),
                "refused_messages": sorted({m for _, m, _ in refused})[:3], "duration": round(time.monotonic() - started, 1),
                "notes": notes, "ok": ok}
    finally:
        suite.cleanup()


def reconciled_strays(workers):
    """The jobs each worker's reconciles put back (held in its processing list, run by none of its slots:
    a fetch that ran in Redis while its reply was lost), read from the workers' logs."""
    import re
    counts = []
    for worker in workers:
        try:
            with open(worker.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if "put back jobs this worker held but did not run" in line:
                match = re.search(r"jobs=(\d+)", line)
                counts.append(int(match.group(1)) if match else 1)
    return counts


# ---------------------------------------------------------------------------------------------------------
# 3. Redis unreachable for 10 s


def scenario_outage(short):
    # Longer than the client's command timeout (5 s), which is how long a submission waits for Redis.
    outage = 6.0 if short else 10.0
    suite = Suite("outage", short, redis_args=["--appendonly", "yes", "--appendfsync", "always"], concurrency=5)
    started = time.monotonic()
    try:
        api_process, api = suite.api()
        workers = [suite.worker() for _ in range(2)]
        wait_until("2 workers registered", 30, lambda: len(suite.worker_ids_by_pid()) >= 2)
        # A backlog that outlasts the outage: 2 workers x 5 slots x 20 ms jobs.
        backlog = 1500 if short else 5000
        ids, failed = submit_batches(api, [count_job(20) for _ in range(backlog)])
        if failed:
            raise Failure("submissions failed before the outage: %s" % failed[:2])
        wait_until("jobs are running", 30, lambda: suite.total_runs() > 50)
        suite.redis.stop(signal.SIGTERM)
        down_at = time.monotonic()
        answers, health = [], []

        def submitter():
            # Clients of their own: an answer during the outage takes the client's command timeout (5 s).
            client = Api(api.port)
            while time.monotonic() - down_at < outage:
                try:
                    status, body, seconds = client.request("POST", "/jobs", count_job(0))
                    answers.append((status, message_of(body), seconds, time.monotonic(), body.get("id") if status == 201 else None))
                except OSError as error:
                    answers.append((None, str(error), 0, time.monotonic(), None))

        def prober():
            client = Api(api.port)
            while time.monotonic() - down_at < outage:
                try:
                    health.append((client.request("GET", "/health/jobs")[0], time.monotonic()))
                except OSError:
                    health.append((None, time.monotonic()))

        threads = [threading.Thread(target=submitter) for _ in range(4)] + [threading.Thread(target=prober) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(outage)
        up_during = api_process.alive() and all(w.alive() for w in workers)
        restart_at = time.monotonic()
        suite.redis.start()
        back_at = time.monotonic()
        runs_before = suite.total_runs()
        resumed_at = wait_until("jobs run again", 30, lambda: time.monotonic() if suite.total_runs() > runs_before else None, every=0.02)
        resume = resumed_at - back_at
        for thread in threads:
            thread.join()
        # A submission that waited into Redis's return may be stored (201): then it is tracked like the others.
        ids += [a[4] for a in answers if a[0] == 201]
        first_ack = None
        while first_ack is None and time.monotonic() - back_at < 30:
            try:
                status, body, _ = api.request("POST", "/jobs", count_job(0))
                if status == 201:
                    first_ack = time.monotonic() - back_at
                    ids.append(body["id"])
            except OSError:
                pass
        states, remaining = wait_all_finished(suite, ids, 120)
        completed = sum(1 for i in ids if states.get(i) == "completed")
        lost = [i for i in ids if states.get(i) != "completed"]
        runs = suite.runs()
        twice = sum(1 for i in ids if runs.get(i, 0) > 1)
        # Answers that came before Redis was started again must be 503s with the message; one that came while
        # it started (loading its data) may be a 503 too, or a 201 (tracked above), or a healthy 200.
        during = [a for a in answers if a[3] < restart_at]
        straddling = [a for a in answers if a[3] >= restart_at]
        all_503 = all(a[0] == 503 and "does not answer" in a[1] for a in during) and all(
            a[0] == 201 or (a[0] == 503 and "does not answer" in a[1]) for a in straddling)
        health_before = [h for h, at in health if at < restart_at]
        health_503 = all(h == 503 for h in health_before) and all(h in (200, 503) for h, at in health if at >= restart_at)
        health = health_before
        latencies = [a[2] for a in during if a[0] == 503]
        alive = api_process.alive() and all(w.alive() for w in workers)
        ok = up_during and alive and all_503 and health_503 and resume <= 2.0 and not lost and bool(during)
        notes = ("Redis stopped (SIGTERM) for %.0f s with a backlog of %d jobs: %d submissions during the outage, %s answered 503 "
                 "(%s), answer time median %.2f s, max %.2f s; /health/jobs 503 %d of %d times; processes up throughout: %s; "
                 "jobs ran again %.2f s after Redis answered; first 201 after %.2f s" % (
                     outage, backlog, len(during), "all" if all_503 else "NOT all", (during[0][1][:140] if during else ""),
                     percentile(latencies, 0.5) or 0, max(latencies or [0]), sum(1 for h in health if h == 503), len(health),
                     up_during and alive, resume, first_ack or -1))
        return outcome("outage", len(ids), completed, len(lost), twice, started, notes, ok, resume_seconds=round(resume, 2),
                       submissions_during_outage=len(during), answered_503=sum(1 for a in during if a[0] == 503))
    finally:
        suite.cleanup()


# ---------------------------------------------------------------------------------------------------------
# 4. A hung handler that ignores cancellation


def scenario_hang(short):
    # The default placement with a handler that awaits past its cancel; the same with one that blocks its
    # thread, which on Swift's global executor (as many threads as cores) stalls every other handler until
    # it returns: measured and reported, the known limit of that placement; and the blocking one again with
    # dedicated_threads, the placement for handlers that block. The first and the last must keep the promise.
    lines = [hang_run(short, False, "global_executor"), hang_run(short, True, "global_executor"), hang_run(short, True, "dedicated_threads")]
    ok = lines[0]["ok"] and lines[2]["ok"]
    return {"scenario": "hang", "jobs": sum(l["jobs"] for l in lines), "completed": sum(l["completed"] for l in lines),
            "lost": sum(l["lost"] for l in lines), "executed_twice": sum(l["executed_twice"] for l in lines),
            "duration": round(sum(l["duration"] for l in lines), 1), "notes": " | ".join(l["notes"] for l in lines), "ok": ok,
            "runs": lines}


def hang_run(short, block, placement):
    concurrency = 5
    suite = Suite("hang", short, concurrency=concurrency, placement=placement)
    started = time.monotonic()
    hung_count, normal = (6, 200) if short else (10, 2000)
    hang_ms = 8000 if short else 30000
    try:
        _, api = suite.api()
        worker = suite.worker()
        wait_until("the worker registered", 30, lambda: len(suite.worker_ids_by_pid()) >= 1)
        hung = [{"type": "chaos_hang", "payload": {"ms": hang_ms, "block": block}, "queue": QUEUE, "timeout": "1s", "max_retries": 1}
                for _ in range(hung_count)]
        hung_ids, failed = submit_batches(api, hung)
        normal_ids, failed2 = submit_batches(api, [count_job(5) for _ in range(normal)])
        if failed or failed2:
            raise Failure("submissions failed")
        states, remaining = wait_all_finished(suite, hung_ids + normal_ids, 120, statuses=("completed", "dead"))
        first_phase = time.monotonic() - started
        hung_states = [states.get(i) for i in hung_ids]
        reasons = [f[0] for f in suite.fields(hung_ids, "e")]
        attempts = [int(f[0] or 0) for f in suite.fields(hung_ids, "a")]
        normal_done = sum(1 for i in normal_ids if states.get(i) == "completed")
        # The slots are all still there: `concurrency` jobs of 1 s, submitted together, run side by side.
        probe_started = time.monotonic()
        probe_ids, _ = submit_batches(api, [count_job(1000) for _ in range(concurrency)])
        probe_states, _ = wait_all_finished(suite, probe_ids, 30)
        probe = time.monotonic() - probe_started
        runs = suite.runs()
        twice = sum(1 for i in normal_ids + probe_ids if runs.get(i, 0) > 1)
        status, workers_body, _ = api.request("GET", "/workers")
        ok = (all(s == "dead" for s in hung_states) and all("timed out" in (r or "") for r in reasons) and all(a == 2 for a in attempts)
              and normal_done == normal and all(probe_states.get(i) == "completed" for i in probe_ids) and probe < 2.5 and worker.alive()
              and twice == 0)
        notes = ("%s, %s: %d hung jobs (%d ms, timeout 1 s, max_retries 1) among %d normal ones on 1 worker x %d slots: hung ones %s after "
                 "%s attempts (%s), normal ones %d/%d completed in %.1f s; then %d jobs of 1 s together took %.2f s (all slots free)" % (
                     placement, "blocking its thread" if block else "awaiting past its cancel", hung_count, hang_ms, normal, concurrency,
                     sorted(set(hung_states)), sorted(set(attempts)), (reasons[0] or "")[:40], normal_done, normal, first_phase,
                     concurrency, probe))
        return {"block": block, "placement": placement, "jobs": hung_count + normal + concurrency, "completed": normal_done + len(probe_ids), "lost": 0,
                "executed_twice": twice, "duration": round(time.monotonic() - started, 1), "notes": notes, "ok": ok}
    finally:
        suite.cleanup()


# ---------------------------------------------------------------------------------------------------------
# 5. A poison pill: a job that crashes its process every time


def scenario_poison(short):
    stall_limit = 1
    heartbeat = ("500ms", "2s", "500ms") if short else ("5s", "15s", "5s")
    suite = Suite("poison", short, concurrency=5, stall_limit=stall_limit, heartbeat=heartbeat)
    started = time.monotonic()
    others = 300 if short else 2000
    ok = False
    try:
        _, api = suite.api()
        workers = [suite.worker() for _ in range(2)]
        wait_until("2 workers registered", 30, lambda: len(suite.worker_ids_by_pid()) >= 2)
        jobs = [count_job(20) for _ in range(others)]
        jobs.insert(others // 10, {"type": "chaos_crash", "payload": {}, "queue": QUEUE})
        ids, failed = submit_batches(api, jobs)
        if failed:
            raise Failure("submissions failed")
        poison = ids[others // 10]
        normal_ids = [i for i in ids if i != poison]
        crashes = 0
        deadline = time.monotonic() + (60 if short else 180)
        while time.monotonic() < deadline:
            for w in list(workers):
                if not w.alive():
                    crashes += 1
                    log("worker", w.pid, "died with", w.process.returncode, "crashes", crashes)
                    workers.remove(w)
                    workers.append(suite.worker())
            states = dict(zip(ids, suite.statuses(ids)))
            if states[poison] == "dead" and all(states[i] in ("completed", "dead") for i in normal_ids):
                break
            time.sleep(0.1)
        # A crashed Swift process prints its backtrace before it exits (about 2 s of a debug build), so the
        # last crash may still be under way: wait for as many exits as the pill counted runs.
        runs = suite.runs()
        def exited():
            nonlocal crashes
            for w in list(workers):
                if not w.alive():
                    crashes += 1
                    workers.remove(w)
            return crashes >= runs.get(poison, 0)
        try:
            wait_until("every worker that ran the poison pill has exited", 20, exited, every=0.1)
        except Failure:
            pass
        states = dict(zip(ids, suite.statuses(ids)))
        reason, stalls = suite.fields([poison], "e", "k")[0]
        completed = sum(1 for i in normal_ids if states[i] == "completed")
        dead_others = [i for i in normal_ids if states[i] == "dead"]
        runs = suite.runs()
        twice = sum(1 for i in normal_ids if runs.get(i, 0) > 1)
        ok = states[poison] == "dead" and completed == others and crashes == stall_limit + 1 and runs.get(poison, 0) == stall_limit + 1
        unfinished = [i for i in ids if states[i] not in ("completed", "dead")]
        notes = ("1 chaos_crash job among %d others (20 ms each) on 2 workers (restarted when they die), stall limit %d, heartbeat TTL "
                 "%s: the poison pill ended %s after %d crashes (%s); %d others completed, %d others dead%s%s" % (
                     others, stall_limit, heartbeat[1], states[poison], crashes, reason, completed, len(dead_others),
                     (" (%s)" % suite.fields(dead_others[:1], "e")[0][0]) if dead_others else "",
                     ("; unfinished: %s" % "; ".join(suite.whereabouts(unfinished[:5]))) if unfinished else ""))
        return outcome("poison", len(ids), completed, sum(1 for i in ids if states[i] not in ("completed", "dead")), twice, started, notes,
                       ok, crashes=crashes, poison_runs=runs.get(poison, 0), others_dead=len(dead_others))
    finally:
        # A failed run keeps its workers' logs: the fault is rare, and the logs are what explains it.
        suite.cleanup(keep=not ok)


# ---------------------------------------------------------------------------------------------------------
# 6. Fuzzed input: HTTP bodies, and raw entries written straight into Redis


def valid_body(rng):
    return {"type": rng.choice(["chaos_count", "reverse_string"]), "payload": {"ms": rng.randint(0, 5), "text": "x"}, "queue": QUEUE}


def bad_bodies(rng, count):
    """Bodies that are each wrong in one known way, as (kind, bytes)."""
    wrong_values = [
        ("type", 7), ("type", None), ("type", ["chaos_count"]), ("type", {}), ("type", ""), ("type", "has space"), ("type", "x" * 200),
        ("queue", 5), ("queue", ""), ("queue", "a:b"), ("queue", "q" * 65), ("priority", "urgent"), ("priority", 2),
        ("delay", -5), ("delay", "soon"), ("delay", True), ("delay", [1]), ("timeout", 0), ("timeout", "-1s"), ("timeout", "1x"),
        ("max_retries", -1), ("max_retries", 1.5), ("max_retries", "3"), ("max_retries", True), ("max_retries", 10 ** 6),
        ("max_retries", 10 ** 30), ("unique_key", ""), ("unique_key", 3), ("unique_key", "k" * 300), ("scheduled_at", "tomorrow"),
        ("scheduled_at", 1700000000), ("nonsense", 1),
    ]
    kinds = ["truncated", "wrong_type", "huge", "invalid_utf8", "unknown_name", "not_object", "random_bytes", "missing", "deep",
             "batch", "huge_payload", "empty"]
    out = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        body = valid_body(rng)
        if kind == "truncated":
            text = json.dumps(body).encode()
            data = text[:rng.randint(0, len(text) - 1)]
        elif kind == "wrong_type":
            field, value = rng.choice(wrong_values)
            body[field] = value
            if field == "delay" and value == -5:
                pass
            data = json.dumps(body).encode()
        elif kind == "huge":
            body["type"] = "t" * rng.choice([129, 5000, 700_000])
            data = json.dumps(body).encode()
        elif kind == "invalid_utf8":
            text = json.dumps(body).encode()
            at = rng.randint(1, len(text) - 2)
            data = text[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]) + text[at:]
        elif kind == "unknown_name":
            body["type"] = "no_such_job_%d" % rng.randint(0, 10 ** 9)
            data = json.dumps(body).encode()
        elif kind == "not_object":
            data = json.dumps(rng.choice([[body], 42, "text", None, True, [], 1.5e300])).encode()
        elif kind == "random_bytes":
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
            if data[:1] in (b"{", b"[", b'"') or data.strip()[:1].isdigit():
                data = b"\x00" + data
        elif kind == "missing":
            body.pop(rng.choice(["type", "payload"]))
            data = json.dumps(body).encode()
        elif kind == "deep":
            depth = rng.choice([600, 5000, 100_000])
            data = b'{"type": "chaos_count", "queue": "chaos", "payload": ' + b"[" * depth + b"]" * depth + b"}"
        elif kind == "batch":
            items = [valid_body(rng) for _ in range(rng.randint(1, 5))]
            choice = rng.randint(0, 3)
            if choice == 0:
                items[rng.randrange(len(items))]["type"] = "no_such_job"
                data = json.dumps({"jobs": items}).encode()
            elif choice == 1:
                data = json.dumps({"jobs": []}).encode()
            elif choice == 2:
                data = json.dumps({"jobs": [valid_body(rng)] * 1001}).encode()
            else:
                items[rng.randrange(len(items))]["priority"] = "urgent"
                data = json.dumps({"jobs": items}).encode()
            out.append((kind, "/jobs/batch", data))
            continue
        elif kind == "huge_payload":
            body["payload"] = {"text": "p" * (512 * 1024 + rng.randint(1, 4096))}
            data = json.dumps(body).encode()
        else:
            data = b""
        out.append((kind, "/jobs", data))
    return out


RAW_KINDS = ["truncated_payload", "wrong_payload_type", "bad_attempts", "bad_priority", "bad_status", "missing_fields", "huge_name",
             "huge_payload", "invalid_utf8_name", "invalid_utf8_payload", "unknown_name", "not_an_id", "hash_wrong_type", "no_hash",
             "bad_queue"]


def write_raw_entries(suite, rng, count):
    """Writes malformed jobs straight into the ready list; returns [(kind, id)]."""
    entries = []
    ready = suite.key("queue", QUEUE, "normal")
    now = int(time.time() * 1000)
    commands = []
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for n in range(count):
        kind = RAW_KINDS[n % len(RAW_KINDS)]
        job_id = "0" + "".join(rng.choice(alphabet) for _ in range(25))
        fields = {"n": "chaos_count", "q": QUEUE, "p": "normal", "s": "pending", "m": "0", "c": str(now), "d": '{"ms": 0}'}
        if kind == "truncated_payload":
            fields["d"] = '{"ms": 1'
        elif kind == "wrong_payload_type":
            fields["d"] = rng.choice(['{"ms": "five"}', "[1, 2]", '"text"', "null"])
        elif kind == "bad_attempts":
            fields["a"] = rng.choice(["abc", "1.5", "", "9" * 40])
        elif kind == "bad_priority":
            fields["p"] = "urgent"
        elif kind == "bad_status":
            fields["s"] = rng.choice(["bogus", "completed", ""])
        elif kind == "missing_fields":
            fields.pop(rng.choice(["n", "q", "c", "s"]))
        elif kind == "huge_name":
            fields["n"] = "n" * rng.choice([129, 100_000])
        elif kind == "huge_payload":
            # A huge string where the job type wants a number. (A payload that decodes as its type runs,
            # whatever its size or the bytes in fields the type ignores.)
            fields["d"] = '{"ms": "' + "j" * (2 * 1024 * 1024) + '"}'
        elif kind == "invalid_utf8_name":
            fields["n"] = b"chaos_\xff\xfe"
        elif kind == "invalid_utf8_payload":
            fields["d"] = b'{"ms": "\xff\xfe"}'
        elif kind == "unknown_name":
            fields["n"] = "no_such_job"
        elif kind == "bad_queue":
            fields["q"] = rng.choice(["", "has space", "x" * 100])
        if kind == "not_an_id":
            job_id = rng.choice(["not-an-id", "x" * 300, "id with spaces", "\xff", "0" * 26 + "extra"])
            commands.append(["HSET", suite.key("data", job_id)] + [v for kv in fields.items() for v in kv])
        elif kind == "hash_wrong_type":
            commands.append(["SET", suite.key("data", job_id), "a string where a hash belongs"])
        elif kind == "no_hash":
            pass
        else:
            commands.append(["HSET", suite.key("data", job_id)] + [v for kv in fields.items() for v in kv])
        commands.append(["LPUSH", ready, job_id])
        entries.append((kind, job_id))
    for reply in suite.db.pipeline(commands, retry=False):
        if isinstance(reply, RespError):
            raise Failure("writing a raw entry failed: %s" % reply)
    return entries


def scenario_fuzz(short):
    count = 600 if short else 10_000
    raw_count = 60 if short else 600
    suite = Suite("fuzz", short, concurrency=5)
    started = time.monotonic()
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "9")))
    try:
        api_process, api = suite.api()
        worker = suite.worker()
        wait_until("the worker registered", 30, lambda: len(suite.worker_ids_by_pid()) >= 1)
        answers = {}
        bad = []
        for kind, path, data in bad_bodies(rng, count):
            try:
                status, body, _ = api.request("POST", path, data)
            except OSError as error:
                status, body = None, str(error)
            answers.setdefault(kind, []).append(status)
            if not (status and 400 <= status < 500 and message_of(body)):
                bad.append((kind, status, (message_of(body) or str(body))[:120], data[:80]))
        stored = len(scan_keys(suite, suite.key("data", "*")))
        api_alive = api_process.alive()
        # Raw entries, with good jobs around them that must still complete.
        good_before, _ = submit_batches(api, [count_job(0) for _ in range(50)])
        entries = write_raw_entries(suite, rng, raw_count)
        good_after, _ = submit_batches(api, [count_job(0) for _ in range(50)])
        good = good_before + good_after
        good_states, _ = wait_all_finished(suite, good, 60)
        # Each raw entry ends dead with a reason (an entry without a hash is dropped: there is nothing to bury).
        def raw_done():
            leftover = set(suite.leftovers())
            return not any(e[1] in leftover for e in entries)
        try:
            wait_until("every raw entry left the ready list", 60, raw_done, every=0.25)
        except Failure:
            pass
        raw_results = {}
        raw_bad = []
        leftover = set(suite.leftovers())
        for kind, job_id in entries:
            key = suite.key("data", job_id)
            kind_of_key = suite.db.call("TYPE", key)
            status = reason = None
            if kind_of_key == "hash":
                status, reason = [v.decode(errors="replace") if isinstance(v, bytes) else v for v in suite.db.call("HMGET", key, "s", "e")]
            # Entries whose queue cannot be read are buried under the default queue.
            dead_indexed = any(suite.db.call("ZSCORE", suite.key("failed", q), job_id) is not None for q in (QUEUE, "default"))
            outcome_text = "dead" if status == "dead" and reason else ("gone" if kind == "no_hash" and job_id not in leftover else
                                                                        "%s/%s" % (kind_of_key, status))
            raw_results.setdefault(kind, {}).setdefault(outcome_text, 0)
            raw_results[kind][outcome_text] += 1
            if outcome_text not in ("dead", "gone") or (outcome_text == "dead" and not dead_indexed):
                raw_bad.append((kind, job_id[:30], outcome_text, (reason or "")[:80]))
        good_done = sum(1 for i in good if good_states.get(i) == "completed")
        alive = api_process.alive() and worker.alive()
        ok = not bad and stored == 0 and api_alive and alive and not raw_bad and good_done == len(good)
        notes = ("%d malformed POST bodies (%s): %d answered 4xx with a message, %d not (%s); %d jobs stored by them; %d raw entries "
                 "(%s) written into the ready list: %s; %d good jobs around them completed %d; API and worker alive: %s" % (
                     count, ", ".join(sorted(answers)), count - len(bad), len(bad), bad[:3], stored, raw_count, len(RAW_KINDS),
                     "all dead with a reason" if not raw_bad else "NOT all dead: %s" % raw_bad[:4], len(good), good_done, alive))
        return outcome("fuzz", count + raw_count, good_done, len(good) - good_done, 0, started, notes, ok,
                       http_statuses={k: sorted(set(v), key=str) for k, v in answers.items()}, raw=raw_results)
    finally:
        suite.cleanup()


def scan_keys(suite, pattern):
    found, cursor = [], b"0"
    while True:
        cursor, keys = suite.db.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
        found += keys
        if cursor == b"0":
            return found


# ---------------------------------------------------------------------------------------------------------
# 7. Load: 200 concurrent clients submitting


async def load_client(port, until, latencies, errors, body):
    request = (b"POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    reader = writer = None
    while time.monotonic() < until:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.monotonic()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            latencies.append(time.monotonic() - started)
            if status != 201:
                errors.append(status)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            errors.append(type(error).__name__)
            if writer:
                writer.close()
            reader = writer = None
    if writer:
        writer.close()


def scenario_load(short):
    clients = 200
    seconds = 5.0 if short else 60.0
    suite = Suite("load", short, concurrency=10)
    started = time.monotonic()
    try:
        api_process, api = suite.api()
        worker = suite.worker()
        latencies, errors = [], []
        body = json.dumps(count_job(0)).encode()

        async def run():
            until = time.monotonic() + seconds
            await asyncio.gather(*(load_client(api.port, until, latencies, errors, body) for _ in range(clients)))

        load_started = time.monotonic()
        asyncio.run(run())
        elapsed = time.monotonic() - load_started
        submitted = len(latencies) - sum(1 for e in errors if isinstance(e, int))
        wait_until("the worker drains the submitted jobs", 300 if not short else 60,
                   lambda: suite.db.call("LLEN", suite.key("queue", QUEUE, "normal")) == 0 and
                   (suite.total_runs() >= submitted), every=0.5)
        completed = suite.db.call("ZCARD", suite.key("completed", QUEUE))
        alive = api_process.alive() and worker.alive()
        p = lambda f: round(1000 * (percentile(latencies, f) or 0), 1)
        ok = not errors and alive and submitted > 0
        notes = ("%d clients (Python asyncio, keep-alive) for %.0f s against 1 API process, 1 worker process running the jobs: %d "
                 "submissions (%.0f/s), %d errors %s; submit latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; %d completed" % (
                     clients, seconds, len(latencies), len(latencies) / elapsed, len(errors), sorted(set(map(str, errors)))[:5], p(0.5),
                     p(0.9), p(0.99), round(1000 * max(latencies or [0]), 1), completed))
        return outcome("load", submitted, completed, submitted - completed, suite_twice(suite), started, notes, ok,
                       requests=len(latencies), errors=len(errors), rps=round(len(latencies) / elapsed), p50_ms=p(0.5), p99_ms=p(0.99))
    finally:
        suite.cleanup()


def suite_twice(suite):
    return sum(1 for v in suite.runs().values() if v > 1)


SCENARIOS = {"kill": scenario_kill, "restart": scenario_restart, "outage": scenario_outage, "hang": scenario_hang,
             "poison": scenario_poison, "fuzz": scenario_fuzz, "load": scenario_load}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--short", action="store_true", help="the small version that make test runs")
    arguments = parser.parse_args()
    started = time.monotonic()
    try:
        line = SCENARIOS[arguments.scenario](arguments.short)
    except Failure as error:
        line = outcome(arguments.scenario, 0, 0, 0, 0, started, "the scenario could not run to its end: %s" % error, False)
    print(json.dumps(line), flush=True)
    sys.exit(0 if line["ok"] else 1)


if __name__ == "__main__":
    main()
