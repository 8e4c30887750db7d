"""Webhook delivery under load: publish through the API, time each delivery to its 2xx.

    .venv/bin/python bench/publishing_load.py [--outlets 1,10,50] [--articles 20]
        [--one-at-a-time 10] [--rounds 1] [--pool threads] [--concurrency 4] [--worker-processes 1]
        [--check-delays-ms 200,50,10] [--check-slots 2] [--check-outlets 10]
        [--check-articles 10] [--publishers 2] [--drain]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--redis-url redis://127.0.0.1:6379/9] [--data ../shared/data] [--keep-logs]

Needs PostgreSQL and Redis on loopback. It creates a scratch database (dropped at the
end), flushes the Redis database used as the broker, and starts the real stack: the API
under gunicorn (sync, 2 workers), ONE Celery worker (``--pool``/``--concurrency``), beat
(for the delivery sweeper) and a webhook receiver in its own process
(``bench/webhook_sink.py``: asyncio, verifies signatures, deduplicates by
Idempotency-Key, records the wall-clock time of each 2xx). Three users (writer, editor,
admin) keep the four-eyes rule on: the writer creates and submits, the editor approves
and publishes.

For each outlet count K (K enabled webhook outlets, all pointing at the receiver):

- burst: ``--articles`` approved articles are published through the API by two client
  threads as fast as the API answers; each publish creates K deliveries in its
  transaction. Throughput = deliveries / (first publish request's start -> last 2xx at
  the receiver), for the one worker. Latency per delivery = its 2xx time - the start of
  the publish request that created it (queueing behind the burst included).
- one at a time: ``--one-at-a-time`` articles published one after another, each only when
  the previous one's K deliveries have all arrived: the latency of a publish on an
  otherwise idle system (the issue's p95 < 1 s target).

With ``--drain`` each burst is published while the workers are stopped (SIGSTOP), then they
are resumed: throughput = deliveries / (resume -> last 2xx), the workers' own rate with the
publishing out of the way (on 2 cores the publishes otherwise share the CPU with them, and
a burst of 20 publishes bounds the rate at 20 x outlets / its publishing time); the burst
latencies then include the pause and are not reported.

Receiver-bound check: the burst is repeated with ``--check-outlets`` outlets while the
receiver holds every request ``delay`` ms in one of ``--check-slots`` slots, so its
capacity is exactly slots / delay. Throughput that matches that capacity means the worker
keeps the receiver saturated (the receiver is the bound); throughput below it means the
worker side is.

Where the time goes, around every burst: CPU seconds per delivery of the worker,
gunicorn, the PostgreSQL backends of the scratch database, Redis, beat, the receiver and
this client (from /proc), the machine's busy share, and what the PostgreSQL backends are
doing (pg_stat_activity every 20 ms: running, waiting for a row lock and for whom, waiting
for the commit's WAL flush, idle in transaction). ``--py-spy PATH`` also records the
worker with py-spy during each burst (--gil: the samples where a thread holds the GIL, so
Python CPU; raw collapsed stacks, kept with the logs).

The default worker is ``--pool threads --concurrency 4``: a delivery is mostly waits on
PostgreSQL and on the receiver (threads release the GIL there), one process keeps to the
engine's pool of 5 connections, and on 2 cores it cost about 13-14 ms of worker CPU per
delivery against 17-22 ms for ``--pool prefork --concurrency 4`` (whose parent alone spent
about 2.4 ms per task relaying it to a child), for about twice the throughput.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.http_overhead import load_articles  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from bench.webhook_sink import Sink  # noqa: E402

SECRET = "whsec_bench_secret_0123456789"
TICK = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--outlets", default="1,10,50", help="outlet counts, comma-separated")
    parser.add_argument("--articles", type=int, default=20, help="articles per burst")
    parser.add_argument("--one-at-a-time", type=int, default=10,
                        help="articles published one at a time, per outlet count (0: skip)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pool", default="threads", choices=["prefork", "threads", "solo"])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--worker-processes", type=int, default=1,
                        help="Celery worker processes, each --pool/--concurrency")
    parser.add_argument("--publishers", type=int, default=2, help="client threads publishing a burst")
    parser.add_argument("--drain", action="store_true",
                        help="publish each burst with the workers stopped, time them draining it")
    parser.add_argument("--check-delays-ms", default="200,50,10",
                        help="receiver delays for the receiver-bound check ('' to skip)")
    parser.add_argument("--check-articles", type=int, default=10, help="articles per check burst")
    parser.add_argument("--check-slots", type=int, default=2, help="receiver concurrency in the check")
    parser.add_argument("--check-outlets", type=int, default=10)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--keep-logs", action="store_true", help="keep the worker/gunicorn logs")
    parser.add_argument("--py-spy", type=Path, help="py-spy binary: profile the worker (all pool "
                        "processes) during each burst; collapsed stacks are kept with the logs")
    args = parser.parse_args()
    args.outlet_counts = [int(n) for n in args.outlets.split(",") if n]
    args.check_delays = [float(n) for n in args.check_delays_ms.split(",") if n]
    redis.Redis.from_url(args.redis_url).flushdb()
    with scratch_database(args.database_url) as url:
        Bench(args, url).run()


class Bench:
    def __init__(self, args, url: str) -> None:
        self.args, self.url = args, url
        self.workdir = Path(tempfile.mkdtemp(prefix="masthead-publishing-"))
        self.env = {**os.environ, "MASTHEAD_INSTANCE_DIR": str(self.workdir), "DATABASE_URL": url,
                    "CELERY_BROKER_URL": self.args.redis_url, "LOG_LEVEL": "INFO",
                    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8", "FOUR_EYES_REQUIRED": "true",
                    "WEBHOOK_TIMEOUT_SECONDS": "10",
                    # It measures the workers: every slot may serve one outlet (the default,
                    # 1 per outlet, is for isolating slow outlets, not for throughput).
                    "OUTLET_MAX_IN_FLIGHT": str(self.args.concurrency * self.args.worker_processes)}
        self.env.pop("TEST_DATABASE_URL", None)
        self.processes: dict[str, subprocess.Popen] = {}
        self.corpus = load_articles(args.data)
        self.serial, self.lock = 0, threading.Lock()

    # -- the stack ---------------------------------------------------------------------------

    def run(self) -> None:
        tokens = self.prepare_database()
        self.writer, self.editor, self.admin = (
            {"Authorization": f"Bearer {tokens[role]}", "Content-Type": "application/json"}
            for role in ("writer", "editor", "admin"))
        try:
            with Sink(SECRET) as sink:
                self.sink = sink
                self.start_stack()
                self.outlets = [self.add_outlet(n) for n in range(max(
                    [*self.args.outlet_counts, self.args.check_outlets, 4]))]
                self.warm_up()
                results = self.measure()
                states = self.delivery_states()
                if states["states"].get("sending"):  # the last results are being recorded
                    time.sleep(2)
                    states = self.delivery_states()
                self.report(results, states, sink.stats())
        finally:
            self.stop_stack()
            if self.args.keep_logs:
                print(f"\nlogs: {self.workdir}")
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def prepare_database(self) -> dict[str, str]:
        """Migrate the scratch database and create a writer, an editor and an admin."""
        os.environ.update({k: self.env[k] for k in ("MASTHEAD_INSTANCE_DIR", "DATABASE_URL",
                                                    "CELERY_BROKER_URL", "LOG_LEVEL")})
        from app import create_app, migrate
        from app.models import Role
        from app.platform import users

        migrate.upgrade(self.url)
        self.app = create_app()
        with self.app.app_context():
            return {role: users.issue_token(users.create_user(f"{role}@bench.example", Role(role)),
                                            name="bench").secret
                    for role in ("writer", "editor", "admin")}

    def start_stack(self) -> None:
        port = free_port()
        self.api = port
        self.spawn("gunicorn", [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                "wsgi:app"])
        for n in range(self.args.worker_processes):  # "worker", "worker-2", ...: one log
            self.spawn("worker" + (f"-{n + 1}" if n else ""), [
                str(BIN / "celery"), "-A", "tasks.worker", "worker", "--pool", self.args.pool,
                "--concurrency", str(self.args.concurrency), "--loglevel", "INFO", "--without-gossip",
                "--without-mingle", "--hostname", f"bench{n + 1}@%h"], log="worker")
        self.spawn("beat", [str(BIN / "celery"), "-A", "tasks.worker", "beat", "--loglevel", "INFO",
                            "-s", str(self.workdir / "schedule")])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start: {(self.workdir / 'gunicorn.log').read_text()[-2000:]}")

    def spawn(self, name: str, argv: list[str], log: str | None = None) -> None:
        with (self.workdir / f"{log or name}.log").open("a") as out:
            self.processes[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def stop_stack(self) -> None:
        """SIGTERM to each main process: a warm shutdown that lets running tasks finish."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    # -- API helpers -----------------------------------------------------------------------

    def call(self, method: str, path: str, headers: dict, body: dict | None = None, ok=(200, 201)) -> dict:
        status, payload = request(self.api, method, path, headers, body)
        if status not in ok:
            raise SystemExit(f"{method} {path}: {status} {payload}")
        return payload

    def add_outlet(self, n: int) -> str:
        created = self.call("POST", "/v1/outlets", self.admin, {
            "name": f"Partner {n}", "kind": "webhook", "url": f"{self.sink.url}/{n}", "secret": SECRET})
        self.call("PATCH", f"/v1/outlets/{created['id']}", self.admin, {"enabled": False})
        return created["id"]

    def enable(self, count: int) -> None:
        for n, outlet_id in enumerate(self.outlets):
            self.call("PATCH", f"/v1/outlets/{outlet_id}", self.admin, {"enabled": n < count})

    def approved_articles(self, count: int) -> list[str]:
        """``count`` articles taken to approved: written and submitted by the writer,
        approved by the editor (two client threads; not timed)."""
        def one(_) -> str:
            with self.lock:
                self.serial += 1
                serial = self.serial
            source = self.corpus[serial % len(self.corpus)]
            created = self.call("POST", "/v1/articles", self.writer, {
                "language": "ar", "headline": f"{source['title']} ({serial})", "body": source["content"]})
            path = f"/v1/articles/{created['id']}/transitions"
            self.call("POST", path, {**self.writer, "If-Match": "*"}, {"action": "submit"})
            self.call("POST", path, {**self.editor, "If-Match": "*"}, {"action": "approve"})
            return created["id"]
        return parallel(one, range(count), 2)

    def publish(self, article_id: str) -> tuple[str, float, float]:
        """Publish; returns (article, wall time the request started, seconds it took)."""
        started, clock = time.time(), time.perf_counter()
        self.call("POST", f"/v1/articles/{article_id}/transitions", {**self.editor, "If-Match": "*"},
                  {"action": "publish"})
        return article_id, started, time.perf_counter() - clock

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sink.count() >= count:
                return True
            time.sleep(0.01)
        return False

    # -- measurements ----------------------------------------------------------------------

    def warm_up(self) -> None:
        """Every pool process gets its DB connection and HTTP session before timing."""
        self.enable(4)
        articles = self.approved_articles(3)
        for article_id in articles:
            self.publish(article_id)
        if not self.wait_for(12, 60):
            raise SystemExit(f"warm-up deliveries did not arrive: {self.sink.count()}/12; "
                             f"{(self.workdir / 'worker.log').read_text()[-3000:]}")
        self.sink.take()

    def measure(self) -> list[dict]:
        results = []
        for round_number in range(self.args.rounds):
            for count in self.args.outlet_counts:
                results.append(self.case(round_number, count, self.args.articles, self.args.one_at_a_time))
            for delay in self.args.check_delays:
                results.append(self.case(round_number, self.args.check_outlets, self.args.check_articles, 0,
                                         delay=delay / 1000, slots=self.args.check_slots))
        self.sink.configure()
        return results

    def case(self, round_number: int, outlets: int, articles: int, singles: int,
             delay: float = 0.0, slots: int = 0) -> dict:
        """One burst of ``articles`` publishes, then ``singles`` publishes one at a time."""
        self.enable(outlets)
        self.sink.configure(delay, slots)
        approved = self.approved_articles(articles + singles)
        burst_ids, single_ids = approved[:articles], approved[articles:]
        time.sleep(0.5)  # let the approvals' side effects settle
        self.sink.take()
        expected = len(burst_ids) * outlets
        profiler = self.profile(f"{outlets}-outlets-{delay * 1000:g}ms-round{round_number + 1}")
        sampler = WaitSampler(self.url)
        cpu_before = cpu_snapshot(self.processes, self.sink, self.url)
        log_offset = (self.workdir / "worker.log").stat().st_size
        self.signal_workers(signal.SIGSTOP if self.args.drain else None)
        published = parallel(self.publish, burst_ids, self.args.publishers)
        resumed = time.time()
        self.signal_workers(signal.SIGCONT if self.args.drain else None)
        complete = self.wait_for(expected, max(60.0, expected / 20))
        records = self.sink.take()
        cpu = cpu_delta(cpu_before, cpu_snapshot(self.processes, self.sink, self.url))
        waits = sampler.stop()
        with (self.workdir / "worker.log").open("rb") as log:
            log.seek(log_offset)
            skipped = log.read().count(b"'skipped'")
        if profiler:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
        starts = {article: start for article, start, _ in published}
        latencies = [arrived - starts[article] for _, article, _, _, arrived in records if article in starts]
        began = resumed if self.args.drain else min(starts.values())
        elapsed = max(r[4] for r in records) - began if records else float("nan")
        publishing = max(start + seconds for _, start, seconds in published) - min(starts.values())
        result = {"round": round_number, "outlets": outlets, "delay": delay, "slots": slots,
                  "expected": expected, "delivered": len(records), "complete": complete,
                  "elapsed": elapsed, "rate": len(records) / elapsed,
                  "publish_rate": len(burst_ids) / publishing, "latencies": latencies,
                  "publish_seconds": [seconds for _, _, seconds in published], "cpu": cpu, "waits": waits,
                  "skipped": skipped,
                  "single_latencies": [], "single_publish_seconds": []}
        single_starts = {}
        for article_id in single_ids:
            base = self.sink.count()
            _, single_starts[article_id], seconds = self.publish(article_id)
            self.wait_for(base + outlets, 30)
            result["single_publish_seconds"].append(seconds)
        result["single_latencies"] = [arrived - single_starts[article]
                                      for _, article, _, _, arrived in self.sink.take()]
        label = f"receiver {slots} slots x {delay * 1000:.0f} ms" if delay else "fast receiver"
        print(f"round {round_number + 1}: {outlets} outlets, {label}: {len(records)}/{expected} delivered "
              f"in {elapsed:.2f} s ({result['rate']:.1f}/s)", file=sys.stderr, flush=True)
        return result

    def signal_workers(self, signum: int | None) -> None:
        """Stop or resume every worker process (their whole process groups)."""
        for name, process in self.processes.items():
            if signum is not None and name.startswith("worker"):
                os.killpg(process.pid, signum)

    def profile(self, name: str) -> subprocess.Popen | None:
        if not self.args.py_spy:
            return None
        self.args.keep_logs = True
        profiler = subprocess.Popen(
            [str(self.args.py_spy), "record", "--gil", "--pid", str(self.processes["worker"].pid),
             "--subprocesses", "--rate", "250", "--format", "raw",
             "--output", str(self.workdir / f"py-spy-{name}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attaches to the pool processes
        return profiler

    def delivery_states(self) -> dict:
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import Delivery, DeliveryAttempt

        with self.app.app_context():
            states = dict(db.session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state)).all())
            attempts = Counter(dict(db.session.execute(
                select(DeliveryAttempt.outcome, func.count()).group_by(DeliveryAttempt.outcome)).all()))
        return {"states": {str(k.value if hasattr(k, "value") else k): v for k, v in states.items()},
                "attempts": dict(attempts)}

    # -- report ------------------------------------------------------------------------------

    def report(self, results: list[dict], states: dict, sink: dict) -> None:
        args = self.args
        print(f"\n{args.worker_processes} Celery worker process(es) (--pool {args.pool} --concurrency "
              f"{args.concurrency}; OUTLET_MAX_IN_FLIGHT {args.concurrency * args.worker_processes}), "
              "beat, gunicorn "
              f"(sync, 2 workers), PostgreSQL and Redis on loopback, {os.cpu_count()} cores shared by "
              f"all of it; {args.rounds} round(s); bursts of {args.articles} articles published by "
              f"{args.publishers} client threads"
              f"{' while the workers are stopped, then drained' if args.drain else ''}; "
              f"{args.one_at_a_time} articles one at a time.\n")
        print(f"| outlets | deliveries | deliveries/s ({args.worker_processes} worker processes) "
              "| publish->2xx median ms | p95 ms "
              "| one at a time: median ms | p95 ms | publish request ms (median) | publishes/s (burst) |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for count in args.outlet_counts:
            rows = [r for r in results if r["outlets"] == count and not r["delay"]]
            burst = [] if args.drain else [x for r in rows for x in r["latencies"]]  # the pause
            single = [x for r in rows for x in r["single_latencies"]]
            publish = [x for r in rows for x in r["single_publish_seconds"] or r["publish_seconds"]]
            delivered = sum(r["delivered"] for r in rows)
            expected = sum(r["expected"] for r in rows)
            shown = f"{delivered:,}" + ("" if delivered == expected else f" of {expected:,}")
            print(f"| {count} | {shown} | {statistics.median(r['rate'] for r in rows):,.1f} "
                  f"| {ms(median(burst))} | {ms(p95(burst))} | {ms(median(single))} | {ms(p95(single))} "
                  f"| {ms(median(publish))} | {statistics.median(r['publish_rate'] for r in rows):,.1f} |")
        checks = [r for r in results if r["delay"]]
        if checks:
            print(f"\nReceiver-bound check: {args.check_outlets} outlets, bursts of {args.check_articles} "
                  f"articles, the receiver holds each request for the delay in one of {args.check_slots} "
                  "slots (capacity = slots / delay):\n")
            print("| receiver | capacity/s | deliveries | deliveries/s | share of capacity "
                  "| publish->2xx median ms | p95 ms | worker CPU share |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
            for delay in args.check_delays:
                rows = [r for r in checks if r["delay"] * 1000 == delay]
                capacity = args.check_slots / (delay / 1000)
                rate = statistics.median(r["rate"] for r in rows)
                burst = [x for r in rows for x in r["latencies"]]
                busy = statistics.median(r["cpu"]["worker"] / r["elapsed"] for r in rows)
                print(f"| {args.check_slots} slots x {delay:g} ms | {capacity:,.0f} "
                      f"| {sum(r['delivered'] for r in rows):,} | {rate:,.1f} | {rate / capacity:.2f} "
                      f"| {ms(median(burst))} | {ms(p95(burst))} | {busy:.0%} of a core |")
        groups = ["worker", "gunicorn", "postgres", "redis", "receiver", "beat", "bench client"]
        merged = merge_rounds(results)
        print(f"\nCPU ms per delivery during the bursts (all rounds); machine busy = share of all "
              f"{os.cpu_count()} cores (other jobs included); skipped = delivery tasks that found "
              "nothing to do (e.g. queued again by the sweeper):\n")
        print("| case | deliveries/s | " + " | ".join(groups)
              + " | machine busy | skipped | DB connections opened |")
        print("|---|---:|" + "---:|" * len(groups) + "---:|---:|---:|")
        for case in merged:
            per = {g: 1000 * case["cpu"].get(g, 0.0) / max(case["delivered"], 1) for g in groups}
            cells = [f"{per[g]:.1f}" for g in groups]
            if args.pool == "prefork":  # the pool's parent receives, relays and acknowledges each task
                cells[0] += f" (parent {1000 * case['cpu']['worker main process'] / case['delivered']:.1f})"
            print(f"| {case['label']} | {case['rate']:,.1f} | " + " | ".join(cells)
                  + f" | {case['busy']:.0%} | {case['skipped']} | {case['sessions']} |")
        print("\nPostgreSQL backends of the scratch database during the bursts (pg_stat_activity "
              "every 20 ms; average number of backends in each state):\n")
        print("| case | running | waiting for a row lock | commit (WAL flush) | idle in transaction "
              "| other waits |")
        print("|---|---:|---:|---:|---:|---:|")
        for case in merged:
            shares = Counter()
            for state, count in case["samples"].items():
                shares[wait_group(state)] += count / case["ticks"]
            print(f"| {case['label']} | {shares['running']:.2f} | {shares['lock']:.2f} "
                  f"| {shares['commit']:.2f} | {shares['idle in transaction']:.2f} | {shares['other']:.2f} |")
        print("\nWho waits for whom (average number of waiting backends, top 2 per case):\n")
        for case in merged:
            for wait, count in sorted(case["lock_waits"].items(), key=lambda item: -item[1])[:2]:
                print(f"- {case['label']}: {count / case['ticks']:.2f} {wait}")
        print(f"\ndeliveries by state at the end: {states['states']}; attempts by outcome: "
              f"{states['attempts']}; receiver: {sink['requests']} requests, "
              f"{sink['duplicates']} duplicates, {sink['rejected']} rejected")


def merge_rounds(results: list[dict]) -> list[dict]:
    """One entry per case (outlets, receiver), its rounds pooled: sums of CPU, deliveries
    and samples, the median rate."""
    merged: dict[tuple, dict] = {}
    for r in results:
        check = f", receiver {r['slots']}x{r['delay'] * 1000:g} ms" if r["delay"] else ""
        case = merged.setdefault((r["outlets"], r["delay"]), {
            "label": f"{r['outlets']} outlets{check}", "rates": [], "delivered": 0, "cpu": Counter(),
            "busy": [], "skipped": 0, "sessions": 0, "ticks": 0, "samples": Counter(),
            "lock_waits": Counter()})
        case["rates"].append(r["rate"])
        case["delivered"] += r["delivered"]
        case["cpu"].update({k: v for k, v in r["cpu"].items() if k != "busy"})
        case["busy"].append(r["cpu"]["busy"])
        case["skipped"] += r["skipped"]
        case["sessions"] += r["waits"]["sessions"]
        case["ticks"] += r["waits"]["ticks"]
        case["samples"].update(r["waits"]["samples"])
        case["lock_waits"].update(r["waits"]["lock_waits"])
    for case in merged.values():
        case["rate"], case["busy"] = statistics.median(case["rates"]), statistics.mean(case["busy"])
        case["ticks"] = max(case["ticks"], 1)
    return list(merged.values())


def wait_group(state: str) -> str:
    if state.startswith("idle in transaction"):
        return "idle in transaction"
    if ": Lock:" in state:
        return "lock"
    if "WALSync" in state or "WALWrite" in state:
        return "commit"
    return "running" if state.endswith("on CPU") else "other"


# -- helpers ---------------------------------------------------------------------------------


def request(port: int, method: str, path: str, headers: dict | None = None,
            body: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                           headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        connection.close()


def parallel(function, items, threads: int) -> list:
    items, results = list(items), []
    lock = threading.Lock()
    position = iter(range(len(items)))
    output = [None] * len(items)

    def run() -> None:
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                return
            output[index] = function(items[index])

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.extend(output)
    return results


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:,.0f}"


class WaitSampler:
    """Samples pg_stat_activity of the scratch database every ``interval`` seconds: what
    each of our backends is doing (running, waiting for a lock, for the WAL flush of a
    commit, for the client...). A share of Lock samples shows contention between
    transactions; ClientRead while idle in transaction is a client doing work (or
    waiting for the CPU) inside a transaction."""

    QUERY = ("SELECT pid, state, wait_event_type, wait_event, query, pg_blocking_pids(pid) "
             "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
             "AND backend_type = 'client backend'")

    def __init__(self, url: str, interval: float = 0.02) -> None:
        import psycopg
        from sqlalchemy import make_url

        parsed = make_url(url)
        self.database = parsed.database
        self.connection = psycopg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                          password=parsed.password, dbname=self.database, autocommit=True)
        self.interval = interval
        self.samples: Counter = Counter()
        self.lock_waits: Counter = Counter()
        self.ticks = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sessions(self) -> int:
        """Connections opened to the database so far (pg_stat_database, PostgreSQL 14+)."""
        return self.connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s",
                                       (self.database,)).fetchone()[0]

    def run(self) -> None:
        self.first_sessions = self.sessions()
        while not self.stopping.wait(self.interval):
            self.ticks += 1
            rows = {row[0]: row[1:] for row in self.connection.execute(self.QUERY, (self.database,))}
            for state, kind, event, query, blockers in rows.values():
                if state in ("idle", None):  # None: a background process (autovacuum)
                    continue
                if state.startswith("idle in transaction"):
                    self.samples[f"{state} after `{_short(query)}`"] += 1
                else:
                    self.samples[f"{state}: {kind}:{event}" if kind else f"{state}: on CPU"] += 1
                if kind == "Lock":
                    holder = rows.get(blockers[0]) if blockers else None
                    held = f"{holder[0]} after `{_short(holder[3])}`" if holder else "?"
                    self.lock_waits[f"`{_short(query)}` waits for a backend {held}"] += 1

    def stop(self) -> dict:
        self.stopping.set()
        self.thread.join()
        opened = self.sessions() - self.first_sessions
        self.connection.close()
        return {"ticks": self.ticks, "sessions": opened, "samples": dict(self.samples),
                "lock_waits": dict(self.lock_waits)}


def _short(query: str) -> str:
    """A statement's gist: its verb, its table and a row lock (SELECT outlets FOR UPDATE)."""
    words = " ".join(query.split()).split(" ")
    verb = words[0].upper()
    if verb == "SELECT" and len(words) > 1 and "." in words[1]:
        table = words[1].split(".")[0].strip("(")
    else:
        table = next((words[i + 1] for i, word in enumerate(words[:-1])
                      if word.upper() in ("FROM", "INTO", "UPDATE")), "")
    lock = " FOR UPDATE" if "FOR UPDATE" in query.upper() else ""
    return f"{verb} {table}{lock}".replace("  ", " ").strip()


# -- CPU accounting from /proc ---------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _processes() -> dict[int, tuple[int, float, str]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is None:
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            table[int(entry.name)] = (*stat, cmdline)
    return table


def cpu_snapshot(processes: dict[str, subprocess.Popen], sink: Sink, url: str) -> dict:
    """CPU seconds so far by group (a tree under each process we started; PostgreSQL
    backends connected to the scratch database; redis-server), plus the machine's."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)

    def tree(root: int) -> float:
        total, stack = 0.0, [root]
        while stack:
            pid = stack.pop()
            if pid in table:
                total += table[pid][1]
            stack.extend(children.get(pid, []))
        return total

    database = url.rsplit("/", 1)[1]
    snapshot = {name: tree(process.pid) for name, process in processes.items()
                if not name.startswith("worker-")}
    snapshot["worker"] += sum(tree(process.pid) for name, process in processes.items()
                              if name.startswith("worker-"))
    snapshot["worker main process"] = table.get(processes["worker"].pid, (0, 0.0, ""))[1]
    snapshot["postgres"] = sum(cpu for _, cpu, cmd in table.values()
                               if cmd.startswith("postgres:") and f" {database} " in cmd)
    snapshot["redis"] = sum(cpu for _, cpu, cmd in table.values() if cmd.startswith("redis-server"))
    snapshot["receiver"] = sink.stats()["cpu_seconds"]
    own = os.times()
    snapshot["bench client"] = own.user + own.system
    with open("/proc/stat") as stat:
        jiffies = [int(n) for n in stat.readline().split()[1:]]
    snapshot["_total"], snapshot["_idle"] = sum(jiffies[:8]) / TICK, (jiffies[3] + jiffies[4]) / TICK
    return snapshot


def cpu_delta(before: dict, after: dict) -> dict:
    delta = {key: after[key] - before.get(key, 0.0) for key in after}
    total = delta.pop("_total")
    delta["busy"] = (total - delta.pop("_idle")) / total if total else 0.0
    return delta


if __name__ == "__main__":
    main()
