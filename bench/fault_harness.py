"""Mixed newsroom load with injected faults, then checks that nothing was lost.

    .venv/bin/python bench/fault_harness.py [--duration 100] [--seed 1] [--data ../shared/data]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--keep-logs]

Not part of the test suite. Needs PostgreSQL on loopback and the ``redis-server`` binary.

Method
------
Stack, all on loopback: a scratch PostgreSQL database (created, migrated, dropped at the
end); the harness's OWN ``redis-server`` on a free port (``--appendonly yes
--appendfsync always``, its files in a temporary folder) used as the Celery broker AND the
event store (``EVENTS_REDIS_URL``); the API under gunicorn (sync, 2 workers); `make run`'s
worker layout: a Celery worker for the default and deliveries queues (threads, 4) and one
for the cleanup queue (prefork, 1), each under ``scripts/supervise.py`` as in the
Procfile; beat; a webhook receiver in its own process (``bench/fault_sink.py``:
verifies signatures, deduplicates by Idempotency-Key, can fail with 503, stall or
trickle). Rate limits are in memory and set very high; the four-eyes rule stays on (a
writer writes and submits, an editor approves and publishes). Timers are shortened
(sweepers every 2 s, delivery and cleanup leases 10 s, webhook step timeout 3 s and
deadline 5 s, backoff 1-5 s, breaker cool-down 5 s) so the drain after the faults fits
in a short run; one delivery per outlet at once (``OUTLET_MAX_IN_FLIGHT``, the default).
Webhooks may reach 127.0.0.1 only (``WEBHOOK_ALLOWED_NETWORKS``).

Set-up: two webhook outlets at the receiver's address, a third at the receiver's port
behind the name ``rebinding.bench.test`` (resolved inside each stack process by
``bench/rebinding/sitecustomize.py``, put on their ``PYTHONPATH``: 127.0.0.1, except
during its fault), a trap listening on 127.0.0.2 at the receiver's port, a site key and a
front page of 20 live articles, each with two approved headlines (so a headline test
runs on each).

Workloads (client threads, each request timed, its status or error kept):

- editors (2): writer creates an article, edits it, submits; editor approves, publishes;
  then sometimes a correction (edit, submit, approve, publish again) or an unpublish;
- importers (1): ``POST /v1/imports`` of real article text (SaudiNewsNet, or the test
  fixtures) as ``text/plain`` with a unique marker line, so every import is new; a page
  that got no answer or a 5xx (503 while Redis is down: "recorded but could not be
  queued") is sent again, same bytes, until answered (200: the existing import);
- front page (2): ``GET /v1/serve/headlines`` for the 20 articles, a new visitor each time;
- events (1): batches of impressions (the headline each visitor was served) and clicks
  with unique event ids. A batch that got no answer or a 5xx is sent again, same event ids,
  until answered 2xx: a re-sent batch's ``duplicates`` are events the API had already
  accepted, so "accepted by the API" = accepted + duplicates of 2xx answers (every event id
  is unique, so a duplicate can only come from an earlier unanswered attempt).

Faults, in this order (times are fractions of ``--duration``):

- a plain-text page of 20,500 distinct lines and one of distinct lines just under
  ``IMPORT_MAX_BYTES`` (both must end succeeded, or failed with a reason, and hold up no
  delivery: they go to the cleanup worker);
- SIGKILL the Celery worker (its process group, supervisor included), restart it 3 s
  later;
- SIGKILL the cleanup worker while it cleans the near-limit page, restart it 3 s later
  (its lease expires and the sweeper hands the run to the new worker);
- over-limit bodies sent chunked (an import over ``IMPORT_MAX_BYTES``, an article over
  ``MAX_BODY_BYTES``, an event batch over ``EVENTS_MAX_BYTES``: each must get 413 and
  store nothing);
- stop Redis (SIGTERM), start it again 5 s later on the same port and files;
- SIGKILL gunicorn (the master and its workers), restart it 2 s later;
- the receiver answers 503 for 10 s;
- the receiver stalls (holds each request 5 s, longer than the 3 s webhook timeout) for
  10 s;
- the receiver trickles (processes each request, then answers one byte a second, so no
  read ever times out: only the 5 s deadline ends the attempt) for 10 s;
- the rebinding name alternates between 127.0.0.1 and the trap's 127.0.0.2 on successive
  lookups for 10 s (a client that resolved again after the guard's check would reach the
  trap).

Client errors during faults are expected and counted; the invariants only use what the
API accepted (2xx).

Drain: the load stops, unanswered event batches are re-sent, then the harness waits (up to
``--drain``) until no delivery is pending/sending, no cleanup run is queued/running and
the event store has nothing pending. Then it checks, with SQL on the scratch database:

1. imports: every import the API accepted has a final cleanup run (succeeded, or failed
   with a reason, reported), and no run anywhere is queued or running;
2. deliveries: no delivery is pending/sending/dead (except, on the rebinding outlet, dead
   as refused by the URL guard); for every article whose publish the API accepted, each
   outlet has a publish delivery; for each (article, outlet) the latest delivery ended
   delivered (cancelled only as "superseded by a takedown"); an unpublished article's
   latest delivery is a takedown; every delivered delivery's Idempotency-Key reached the
   receiver and was recorded exactly once (re-sends are counted as receiver duplicates);
3. attempts: every attempt in the log took at most the deadline; no two attempts of one
   delivery overlap (start + latency of one before the start of the next); the trap got
   no connection, and every lookup of the rebinding name that got the trap's address
   (counted by the resolver) ended in an attempt refused by the URL guard;
4. events: per experiment, impressions + clicks in PostgreSQL == events the API accepted,
   and nothing is left pending in Redis;
5. states: every state is in the enum; published => live revision and published_at;
   unpublished/archived => no live revision; no live revision => no running test; at
   most one running test per article;
6. no stack process stayed down: the app processes run under ``scripts/supervise.py``,
   which starts one again when it exits (as `make run` does; kombu's worker exits when
   Redis restarts under it); the harness reads their restarts from the logs and lists
   them. A harness thread plays compose's ``restart: unless-stopped`` for the
   supervisors themselves and Redis: such an exit is recorded (as UNEXPECTED, a failure)
   and the process started again, so the other checks still say whether anything was
   lost once it is back;
7. big pages: the 20,500-line page and the near-limit page ended (succeeded, or failed
   with a reason, in a bounded number of attempts); deliveries created while they were
   being cleaned were delivered (their latency is reported);
8. over-limit bodies: every chunked over-limit request was answered 413 and nothing from
   them is in the database.

Prints markdown tables (per workload: requests, 2xx, errors, throughput, p50/p99 of 2xx
latencies; faults with their times; invariants with numbers) and exits 1 if an
invariant failed.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.experiment_load import scratch_database  # noqa: E402
from bench.fault_sink import FaultSink  # noqa: E402
from bench.http_overhead import load_articles  # noqa: E402
from scripts.supervise import kill_session  # noqa: E402

SECRET = "whsec_bench_secret_0123456789"
OUTLETS = 2  # at the receiver's address
REBIND_HOST = "rebinding.bench.test"  # a third outlet, resolved by bench/rebinding/sitecustomize.py
DEADLINE = 5  # WEBHOOK_DEADLINE_SECONDS
FRONT_PAGE = 20
BIG_PAGE_LINES = 20_500
NEAR_LIMIT = "a page near the size limit"
# The API's default limits (the harness does not change them).
IMPORT_MAX_BYTES, MAX_BODY_BYTES, EVENTS_MAX_BYTES = 10 * 2**20, 2**20, 256 * 2**10
STATES = {"draft", "in_review", "changes_requested", "approved", "scheduled", "published",
          "unpublished", "archived"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=100.0, help="seconds of load (faults inside)")
    parser.add_argument("--drain", type=float, default=120.0, help="max seconds to wait for the backlog")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep-logs", action="store_true", help="keep the process logs and print where")
    args = parser.parse_args()
    random.seed(args.seed)
    with scratch_database(args.database_url) as url:
        sys.exit(Harness(args, url).run())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Trap:
    """Listens on 127.0.0.2 at the receiver's port and counts connections: where a
    request to the rebinding name would land if the client resolved it again after the
    URL guard's check."""

    def __init__(self, port: int) -> None:
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.2", port))
        threading.Thread(target=self.accept, name="trap", daemon=True).start()

    def accept(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            self.connections += 1
            connection.close()


class Harness:
    def __init__(self, args, url: str) -> None:
        self.args, self.url = args, url
        self.workdir = Path(tempfile.mkdtemp(prefix="masthead-faults-"))
        self.redis_port, self.api_port = free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{self.redis_port}"
        self.env = {**os.environ, "MASTHEAD_INSTANCE_DIR": str(self.workdir), "DATABASE_URL": url,
                    "CELERY_BROKER_URL": f"{redis_url}/0", "EVENTS_REDIS_URL": f"{redis_url}/1",
                    "RATE_LIMIT_STORAGE_URL": "memory://", "LOG_LEVEL": "INFO",
                    # The receiver only: the trap at 127.0.0.2 must be refused.
                    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32", "FOUR_EYES_REQUIRED": "true",
                    "DELIVERY_SWEEP_SECONDS": "2", "DELIVERY_SWEEP_AGE_SECONDS": "5",
                    "DELIVERY_LEASE_SECONDS": "10", "WEBHOOK_TIMEOUT_SECONDS": "3",
                    "WEBHOOK_DEADLINE_SECONDS": str(DEADLINE), "OUTLET_MAX_IN_FLIGHT": "1",
                    "MASTHEAD_REBIND_HOST": REBIND_HOST,
                    "MASTHEAD_REBIND_FLAG": str(self.workdir / "rebinding"),
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bench" / "rebinding"),
                                                                os.environ.get("PYTHONPATH")])),
                    "DELIVERY_BACKOFF_BASE_SECONDS": "1", "DELIVERY_BACKOFF_MAX_SECONDS": "5",
                    "DELIVERY_MAX_ATTEMPTS": "50", "OUTLET_BREAKER_COOLDOWN_SECONDS": "5",
                    "EXPERIMENT_RECOMPUTE_SECONDS": "2", "CLEANUP_SWEEP_AGE_SECONDS": "5",
                    "CLEANUP_SWEEP_SECONDS": "2", "CLEANUP_LEASE_SECONDS": "10",
                    "PUBLIC_RATE_LIMIT_PER_MINUTE": "1000000",
                    "EDITORIAL_RATE_LIMIT_PER_MINUTE": "1000000", "SERVING_REFRESH_SECONDS": "1"}
        self.env.pop("TEST_DATABASE_URL", None)
        self.processes: dict[str, subprocess.Popen] = {}
        self.corpus = load_articles(args.data)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.samples: dict[str, list] = defaultdict(list)  # workload -> [(status|error, seconds)]
        self.faults: list[tuple[float, str]] = []
        self.published: set[str] = set()  # articles whose publish the API accepted
        self.imports: list[str] = []  # import ids the API accepted
        self.accepted = Counter()  # experiment id -> events the API accepted
        self.event_batches = Counter()  # sent, retried, answered
        self.import_counts = Counter()
        self.down: set[str] = set()  # stack processes the fault schedule has stopped on purpose
        self.unexpected: list[str] = []  # processes that exited on their own
        self.big_pages: dict[str, str] = {}  # import id -> which big page
        self.big_window: list[float] = []  # monotonic times the big pages were sent
        self.oversized: list[tuple[str, object]] = []  # (what, status or error)
        self.quiet_until = float("inf")  # when the first fault that slows deliveries began

    # -- the stack ---------------------------------------------------------------------------

    def run(self) -> int:
        try:
            self.start_redis()
            tokens = self.prepare_database()
            self.writer, self.editor, self.admin = (
                {"Authorization": f"Bearer {tokens[role]}", "Content-Type": "application/json"}
                for role in ("writer", "editor", "admin"))
            with FaultSink(SECRET) as sink:
                self.sink = sink
                for name in ("gunicorn", "worker", "cleanup", "beat"):
                    self.start(name)
                self.wait_for_api()
                self.set_up()
                self.started = time.monotonic()
                supervisor = threading.Thread(target=self.supervise, daemon=True)
                supervisor.start()
                self.load()
                drained = self.drain()
                self.down.update(self.processes)  # the supervisor stands down
                received = sink.take()
                sink_stats = sink.stats()
                results = self.check(received, sink_stats)
                self.report(drained, results, sink_stats)
                return 0 if all(r["held"] for r in results) else 1
        finally:
            self.stop_stack()
            if self.args.keep_logs:
                print(f"\nlogs: {self.workdir}")
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def start_redis(self) -> None:
        folder = self.workdir / "redis"
        folder.mkdir(exist_ok=True)
        self.spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                             "--dir", str(folder)])
        self.down.discard("redis")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.redis_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def prepare_database(self) -> dict[str, str]:
        os.environ.update({k: self.env[k] for k in ("MASTHEAD_INSTANCE_DIR", "DATABASE_URL",
                                                    "CELERY_BROKER_URL", "EVENTS_REDIS_URL", "LOG_LEVEL")})
        from app import create_app, migrate
        from app.models import Role
        from app.platform import users

        migrate.upgrade(self.url)
        self.app = create_app()
        with self.app.app_context():
            return {role: users.issue_token(users.create_user(f"{role}@bench.example", Role(role)),
                                            name="bench").secret
                    for role in ("writer", "editor", "admin")}

    COMMANDS = {
        "gunicorn": lambda h: [str(BIN / "gunicorn"), "--workers", "2", "--timeout", "30",
                               "--bind", f"127.0.0.1:{h.api_port}", "wsgi:app"],
        "worker": lambda h: [str(BIN / "celery"), "-A", "tasks.worker", "worker", "--pool", "threads",
                             "--concurrency", "4", "--loglevel", "INFO", "--without-gossip",
                             "--without-mingle", "--queues", "celery,deliveries",
                             "--hostname", "worker@%h"],
        "cleanup": lambda h: [str(BIN / "celery"), "-A", "tasks.worker", "worker", "--concurrency", "1",
                              "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                              "--queues", "cleanup", "--hostname", "cleanup@%h"],
        "beat": lambda h: [str(BIN / "celery"), "-A", "tasks.worker", "beat", "--loglevel", "INFO",
                           "-s", str(h.workdir / "schedule")],
    }
    SUPERVISE = [sys.executable, str(ROOT / "scripts" / "supervise.py")]

    def start(self, name: str) -> None:
        """An app process under its supervisor, as the Procfile runs it."""
        self.spawn(name, [*self.SUPERVISE, "--name", name, "--", *self.COMMANDS[name](self)])
        self.down.discard(name)

    def supervise(self) -> None:
        """Like a process supervisor (compose's ``restart: unless-stopped``): a stack
        process that exits when no fault stopped it is recorded and started again."""
        while not self.down.issuperset(self.processes):
            for name, process in list(self.processes.items()):
                if name in self.down or process.poll() is None:
                    continue
                moment = time.monotonic() - self.started
                self.unexpected.append(f"{name} exited with {process.returncode} at {moment:.1f} s "
                                       f"(see {name}.log)")
                self.fault(f"UNEXPECTED: {name} exited with {process.returncode}; restarted by the harness")
                if name == "redis":
                    self.start_redis()
                else:
                    self.start(name)
            time.sleep(1)

    def spawn(self, name: str, argv: list[str]) -> None:
        with (self.workdir / f"{name}.log").open("a") as out:
            self.processes[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """``sig`` to the process and everything it started (the supervisor, the command's
        own process group, its workers or pool)."""
        self.down.add(name)
        process = self.processes[name]
        kill_session(process.pid, sig)
        process.wait(timeout=30)

    def wait_for_api(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start: {(self.workdir / 'gunicorn.log').read_text()[-2000:]}")

    def stop_stack(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_session(process.pid)
                process.wait()

    # -- HTTP --------------------------------------------------------------------------------

    def request(self, method: str, path: str, headers: dict | None = None, body=None,
                timeout: float = 10) -> tuple[int, object]:
        connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=timeout)
        try:
            data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            payload = response.read()
            try:
                return response.status, json.loads(payload) if payload else None
            except ValueError:
                return response.status, None
        finally:
            connection.close()

    def timed(self, workload: str, method: str, path: str, headers: dict | None = None, body=None,
              timeout: float = 10):
        """One request, recorded for ``workload``: returns (status, payload), status 0 on error."""
        clock = time.perf_counter()
        try:
            status, payload = self.request(method, path, headers, body, timeout)
            outcome = status
        except (OSError, http.client.HTTPException) as error:
            status, payload, outcome = 0, None, type(error).__name__
        with self.lock:
            self.samples[workload].append((outcome, time.perf_counter() - clock))
        return status, payload

    def call(self, method: str, path: str, headers: dict, body=None) -> dict:
        """Set-up call: retried on errors for a while, must succeed."""
        for _ in range(20):
            try:
                status, payload = self.request(method, path, headers, body)
            except OSError:
                time.sleep(0.5)
                continue
            if 200 <= status < 300:
                return payload
            raise SystemExit(f"{method} {path}: {status} {payload}")
        raise SystemExit(f"{method} {path}: no answer")

    # -- set-up ------------------------------------------------------------------------------

    def set_up(self) -> None:
        for n in range(OUTLETS):
            self.call("POST", "/v1/outlets", self.admin, {
                "name": f"Partner {n}", "kind": "webhook", "url": f"{self.sink.url}/{n}", "secret": SECRET})
        self.trap = Trap(self.sink.port)
        self.rebinding_outlet = self.call("POST", "/v1/outlets", self.admin, {
            "name": "Partner behind a rebinding name", "kind": "webhook", "secret": SECRET,
            "url": f"http://{REBIND_HOST}:{self.sink.port}/rebinding"})["id"]
        self.key = self.call("POST", "/v1/sites", self.admin, {"name": "front"})["key"]
        self.front_page = []
        for n in range(FRONT_PAGE):
            source = self.corpus[n % len(self.corpus)]
            article = self.call("POST", "/v1/articles", self.writer, {
                "language": "ar", "headline": source["title"], "body": source["content"]})
            url = f"/v1/articles/{article['id']}"
            for text in (f"{source['title']} ({n})", f"عنوان بديل {n}: {source['title'][:60]}"):
                self.call("POST", f"{url}/headlines", {**self.writer, "If-Match": "*"}, {"text": text})
            self.call("POST", f"{url}/transitions", {**self.writer, "If-Match": "*"}, {"action": "submit"})
            for action in ("approve", "publish"):
                self.call("POST", f"{url}/transitions", {**self.editor, "If-Match": "*"}, {"action": action})
            self.published.add(article["id"])
            self.front_page.append(article["id"])
        time.sleep(2)  # every API process's serving snapshot sees the tests
        self.front_path = (f"/v1/serve/headlines?articles={','.join(self.front_page)}&key={self.key}"
                           "&visitor=")
        status, served = self.request("GET", self.front_path + "probe")
        running = [i for i in served["items"] if i.get("experiment_id")] if status == 200 else []
        if len(running) != FRONT_PAGE:
            raise SystemExit(f"front page: {status}, {len(running)} of {FRONT_PAGE} with a running test")

    # -- workloads ---------------------------------------------------------------------------

    def load(self) -> None:
        threads = [threading.Thread(target=self.guard, args=(target, n), daemon=True)
                   for target, count in ((self.editor_loop, 2), (self.import_loop, 1),
                                         (self.front_page_loop, 2), (self.event_loop, 1))
                   for n in range(count)]
        for thread in threads:
            thread.start()
        self.fault_schedule()
        self.stop.set()
        for thread in threads:
            thread.join(60)
        self.elapsed = time.monotonic() - self.started

    def guard(self, target, n: int) -> None:
        rng = random.Random(self.args.seed * 100 + hash(target.__name__) % 50 + n)
        try:
            target(rng)
        except Exception as error:  # a harness bug must be seen, not hang the run
            with self.lock:
                self.samples["harness errors"].append((f"{type(error).__name__}: {error}", 0.0))

    def editor_loop(self, rng: random.Random) -> None:
        while not self.stop.is_set():
            source = rng.choice(self.corpus)
            status, article = self.timed("editors", "POST", "/v1/articles", self.writer, {
                "language": "ar", "headline": source["title"][:200], "body": source["content"]})
            if status != 201:
                time.sleep(0.5)
                continue
            url = f"/v1/articles/{article['id']}"
            if not self.review_and_publish(url, source):
                continue
            with self.lock:
                self.published.add(article["id"])
            roll = rng.random()
            if roll < 0.3:  # a correction: edit the live article, review again, republish
                self.review_and_publish(url, source)
            elif roll < 0.5:
                self.step(url, self.editor, "unpublish")

    def review_and_publish(self, url: str, source: dict) -> bool:
        """Edit (writer), submit (writer), approve and publish (editor); False at the first refusal."""
        status, _ = self.timed("editors", "PATCH", url, {**self.writer, "If-Match": "*"},
                               {"body": source["content"] + f"\n\nتحديث {uuid.uuid4().hex[:6]}"})
        return (status == 200 and self.step(url, self.writer, "submit")
                and self.step(url, self.editor, "approve") and self.step(url, self.editor, "publish"))

    def step(self, url: str, headers: dict, action: str) -> bool:
        status, _ = self.timed("editors", "POST", f"{url}/transitions", {**headers, "If-Match": "*"},
                               {"action": action})
        return status == 200

    def import_loop(self, rng: random.Random) -> None:
        """Import pages; a page that got no answer or a 5xx (e.g. 503 "recorded but could not
        be queued" while Redis is down) is sent again, same bytes, until answered 2xx (200:
        the existing import)."""
        retry: bytes | None = None
        while not self.stop.is_set() or retry is not None:
            if retry is not None:
                page, retry = retry, None
                self.import_counts["re-sent"] += 1
            else:
                source = rng.choice(self.corpus)
                page = f"{source['title']}\n{source['content']}\n{uuid.uuid4().hex}\n".encode()
            status, payload = self.timed(
                "importers", "POST", "/v1/imports?source=bench-wire&language=ar",
                {**self.writer, "Content-Type": "text/plain; charset=utf-8"}, page)
            if status in (200, 202):
                with self.lock:
                    self.imports.append(payload["id"])
                    self.import_counts[f"answered {status}"] += 1
            elif status == 0 or status >= 500:
                retry = page
                time.sleep(0.5)
            if self.stop.is_set() and time.monotonic() - self.started > self.args.duration + 60:
                return
            time.sleep(0.2)

    def front_page_loop(self, rng: random.Random) -> None:
        while not self.stop.is_set():
            status, _ = self.timed("front page", "GET", self.front_path + uuid.uuid4().hex[:16])
            if status != 200:
                time.sleep(0.2)

    def event_loop(self, rng: random.Random) -> None:
        """Serve a few visitors, report what each saw and some clicks; re-send unanswered
        batches (same event ids) until they are answered."""
        pending: list[list[dict]] = []
        while not self.stop.is_set() or pending:
            if pending:
                batch = pending.pop(0)
                self.event_batches["re-sent"] += 1
            else:
                batch = self.new_batch(rng)
                if not batch:
                    time.sleep(0.5)
                    continue
                self.event_batches["sent"] += 1
            status, report = self.timed("events", "POST", f"/v1/events?key={self.key}",
                                        {"Content-Type": "application/json"}, {"events": batch})
            if status == 200:
                self.count_accepted(batch, report)
            elif status == 0 or status >= 500:
                pending.append(batch)
                time.sleep(0.5)
            else:
                with self.lock:
                    self.event_batches[f"refused {status}"] += 1
            if self.stop.is_set() and pending and time.monotonic() - self.started > self.args.duration + 60:
                with self.lock:
                    self.event_batches["given up"] += len(pending)
                return

    def new_batch(self, rng: random.Random) -> list[dict]:
        """Impressions of what 4 new visitors were served, and clicks on about 20%."""
        batch = []
        for _ in range(4):
            visitor = uuid.uuid4().hex[:16]
            try:
                status, served = self.request("GET", self.front_path + visitor)
            except (OSError, http.client.HTTPException):
                continue
            if status != 200:
                continue
            for item in served["items"]:
                if not item.get("experiment_id"):
                    continue
                shown = {"experiment_id": item["experiment_id"], "candidate_id": item["candidate_id"],
                         "visitor": visitor}
                batch.append({"type": "impression", "event_id": uuid.uuid4().hex, **shown})
                if rng.random() < 0.2:
                    batch.append({"type": "click", "event_id": uuid.uuid4().hex, **shown})
        return batch

    def count_accepted(self, batch: list[dict], report: dict) -> None:
        """Events of a 2xx answer not rejected: accepted now, or (a re-send's duplicates)
        accepted by an earlier attempt that got no answer."""
        rejected = {r["index"] for r in report["rejected"]}
        with self.lock:
            for index, event in enumerate(batch):
                if index not in rejected:
                    self.accepted[event["experiment_id"]] += 1
            self.event_batches["answered"] += 1
            self.event_batches["duplicates in answers"] += report["duplicates"]
            self.event_batches["rejected events"] += len(rejected)
            if report["accepted"] + report["duplicates"] + len(rejected) != len(batch):
                self.event_batches["inconsistent reports"] += 1

    # -- faults ------------------------------------------------------------------------------

    def at(self, fraction: float) -> None:
        self.stop.wait(max(0.0, self.started + fraction * self.args.duration - time.monotonic()))

    def fault(self, text: str) -> None:
        self.faults.append((time.monotonic() - self.started, text))

    def fault_schedule(self) -> None:
        self.at(0.03)
        self.send_big_page("a page of 20,500 distinct lines", distinct_page(lines=BIG_PAGE_LINES))
        self.at(0.05)
        self.send_big_page(NEAR_LIMIT, distinct_page(size=IMPORT_MAX_BYTES - 4096))
        self.at(0.1)
        self.quiet_until = time.time()  # the first fault that slows deliveries down
        self.kill("worker")
        self.fault("SIGKILL the Celery worker (process group)")
        time.sleep(3)
        self.start("worker")
        self.fault("worker restarted")
        self.at(0.15)
        for import_id in [i for i, what in self.big_pages.items() if what == NEAR_LIMIT]:
            self.wait_until_cleaning(import_id)
        self.kill("cleanup")
        self.fault("SIGKILL the cleanup worker (process group) while it cleans the near-limit page")
        time.sleep(3)
        self.start("cleanup")
        self.fault("cleanup worker restarted")
        self.at(0.2)
        self.send_oversized()
        self.at(0.25)
        self.kill("redis", signal.SIGTERM)
        self.fault("Redis stopped (SIGTERM; broker and event store)")
        time.sleep(5)
        self.start_redis()
        self.fault("Redis started again (same port, same AOF)")
        self.at(0.35)
        self.kill("gunicorn")
        self.fault("SIGKILL gunicorn (master and workers)")
        time.sleep(2)
        self.start("gunicorn")
        self.wait_for_api()
        self.fault("gunicorn restarted and answering")
        self.at(0.45)
        self.receiver_fault("receiver answers 503", fail=True)
        self.at(0.57)
        self.receiver_fault("receiver stalls (5 s per request, webhook timeout 3 s)", delay=5.0)
        self.at(0.69)
        self.receiver_fault(f"receiver trickles its answers (1 byte/s: no read times out; deadline "
                            f"{DEADLINE} s)", trickle=1.0)
        self.at(0.81)
        flag = Path(self.env["MASTHEAD_REBIND_FLAG"])
        flag.touch()
        self.rebind_window = [time.time()]
        self.fault(f"{REBIND_HOST} rebinds: lookups alternate 127.0.0.1 (receiver) / 127.0.0.2 (trap)")
        time.sleep(10)
        flag.unlink()
        self.rebind_window.append(time.time())
        self.fault(f"{REBIND_HOST} is 127.0.0.1 again")
        self.at(1.0)

    def receiver_fault(self, text: str, **mode) -> None:
        """The receiver misbehaves for 10 s, then is healthy again."""
        self.sink.mode(**mode)
        self.fault(text)
        time.sleep(10)
        self.sink.mode()
        self.fault("receiver healthy")

    # -- big pages and over-limit bodies -----------------------------------------------------

    def send_big_page(self, what: str, page: bytes) -> None:
        status, payload = self.timed("big pages", "POST", "/v1/imports?source=bench-big&language=en",
                                     {**self.writer, "Content-Type": "text/plain; charset=utf-8"}, page,
                                     timeout=120)
        if status == 202:
            with self.lock:
                self.big_pages[payload["id"]] = what
                self.imports.append(payload["id"])
            self.big_window.append(time.time())
        self.fault(f"imported {what} ({len(page):,} bytes): {status}")

    def wait_until_cleaning(self, import_id: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.request("GET", f"/v1/imports/{import_id}", self.writer)[1]["status"] == "running":
                    return
            time.sleep(0.2)

    def send_oversized(self) -> None:
        """Bodies over their limit with Transfer-Encoding: chunked (no Content-Length, so
        only reading them tells the size): 413 each, nothing stored."""
        marker = f"oversize-{uuid.uuid4().hex[:8]}"
        article = (f'{{"language": "en", "headline": "{marker}", "body": "'.encode(), b"a", b'"}')
        for what, path, content_type, size, parts in (
                ("import", "/v1/imports?source=bench-oversize&language=en", "text/plain; charset=utf-8",
                 IMPORT_MAX_BYTES + 2**20, (b"", b"line of text\n", b"")),
                ("article", "/v1/articles", "application/json", MAX_BODY_BYTES + 2**18, article),
                ("event batch", f"/v1/events?key={self.key}", "application/json",
                 EVENTS_MAX_BYTES + 2**16, (b'{"events": [', b" ", b"]}"))):
            headers = {**self.writer, "Content-Type": content_type}
            self.oversized.append((what, self.send_chunked(path, headers, size, *parts)))
        self.oversize_marker = marker
        self.fault("over-limit bodies sent chunked: " + ", ".join(f"{w} {o}" for w, o in self.oversized))

    def send_chunked(self, path: str, headers: dict, size: int, head: bytes, fill: bytes,
                     tail: bytes) -> object:
        """POST ``size`` bytes chunked; the answer's status (or the error's name)."""
        def body():
            yield head
            block = fill * (65536 // len(fill))
            for _ in range(size // len(block) + 1):
                yield block
            yield tail

        connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=60)
        try:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request("POST", path, body=body(), headers=headers)  # chunked
            response = connection.getresponse()  # the server may answer before the body ends
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        finally:
            connection.close()

    # -- drain and checks --------------------------------------------------------------------

    def sql(self, query: str, **params) -> list:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return list(connection.execute(text(query), params))

    def event_pending(self) -> int:
        from app.experiments.event_stores import event_store

        with self.app.app_context():
            return event_store().pending()

    def drain(self) -> dict:
        from sqlalchemy import create_engine

        self.engine = create_engine(self.url)
        started = time.monotonic()
        deadline = started + self.args.drain
        while True:
            backlog = {
                "deliveries pending/sending": self.sql(
                    "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'sending')")[0][0],
                "cleanup runs queued/running": self.sql(
                    "SELECT count(*) FROM cleanup_runs WHERE status IN ('queued', 'running')")[0][0],
                "events pending in Redis": self.event_pending(),
            }
            if not any(backlog.values()) or time.monotonic() > deadline:
                return {"seconds": time.monotonic() - started, "backlog": backlog}
            time.sleep(1)

    def check(self, received: list[tuple], sink_stats: dict) -> list[dict]:
        return [self.check_imports(), self.check_deliveries(received, sink_stats),
                self.check_attempts(), self.check_events(), self.check_states(),
                self.check_processes(), self.check_big_pages(), self.check_oversized()]

    def check_processes(self) -> dict:
        """Exits the supervisors made good (from their logs) are listed; an exit nobody
        restarted (a supervisor's own, or Redis's) fails the check."""
        restarts = []
        for name in self.COMMANDS:
            for line in (self.workdir / f"{name}.log").read_text(errors="replace").splitlines():
                if '"logger": "supervise"' in line:
                    entry = json.loads(line)
                    restarts.append(f"{name} exited with {entry['status']} after {entry['ran_seconds']} s, "
                                    f"started again by its supervisor")
        detail = "; ".join(self.unexpected + restarts) or "none"
        return {"name": "no stack process stayed down", "held": not self.unexpected, "detail": detail}

    def check_big_pages(self) -> dict:
        rows = {row[0]: row[1:] for row in self.sql(
            "SELECT DISTINCT ON (raw_input_id) raw_input_id, status, error, attempts, duration_ms, "
            "finished_at FROM cleanup_runs ORDER BY raw_input_id, created_at DESC, id DESC")}
        parts, ended = [], []
        for import_id, what in self.big_pages.items():
            status, error, attempts, duration_ms, finished_at = rows.get(import_id,
                                                                         ("missing", None, 0, 0, None))
            parts.append(f"{what}: {status} after {attempts} attempt(s), last one "
                         f"{(duration_ms or 0) / 1000:.1f} s" + (f" ({error})" if error else ""))
            if status in ("succeeded", "failed") and (status == "succeeded" or error):
                ended.append(finished_at)
        held = len(self.big_pages) == 2 and len(ended) == 2
        if held:
            parts.append(self.delivery_latency(min(self.big_window), min(max(ended).timestamp(),
                                                                         self.quiet_until)))
        return {"name": "big pages ended (succeeded, or failed with a reason)", "held": held,
                "detail": "; ".join(parts) or "none accepted"}

    def delivery_latency(self, start: float, end: float) -> str:
        """How long deliveries created while the big pages were cleaned, before any other
        fault, took to be delivered."""
        seconds = sorted(float(row[0]) for row in self.sql(
            "SELECT extract(epoch FROM delivered_at - created_at) FROM deliveries WHERE state = "
            "'delivered' AND created_at BETWEEN :start AND :end",
            start=datetime.fromtimestamp(start, UTC), end=datetime.fromtimestamp(end, UTC)))
        if not seconds:
            return "no delivery was created while they were cleaned before the first other fault"
        return (f"{len(seconds)} deliveries created while they were cleaned (before the first "
                f"other fault) delivered after p50 {pct(seconds, 0.5)} ms, p90 {pct(seconds, 0.9)} ms, "
                f"max {seconds[-1] * 1000:,.0f} ms")

    def check_oversized(self) -> dict:
        stored = self.sql("SELECT count(*) FROM raw_inputs r JOIN sources s ON s.id = r.source_id "
                          "WHERE s.name = 'bench-oversize'")[0][0]
        stored += self.sql("SELECT count(*) FROM article_revisions WHERE headline = :marker",
                           marker=getattr(self, "oversize_marker", ""))[0][0]
        held = len(self.oversized) == 3 and all(outcome == 413 for _, outcome in self.oversized) \
            and stored == 0
        detail = ", ".join(f"{what}: {outcome}" for what, outcome in self.oversized) or "not sent"
        return {"name": "over-limit chunked bodies refused with 413, nothing stored", "held": held,
                "detail": f"{detail}; rows stored from them: {stored}"}

    def check_imports(self) -> dict:
        runs = self.sql("SELECT DISTINCT ON (raw_input_id) raw_input_id, status, error FROM cleanup_runs "
                        "ORDER BY raw_input_id, created_at DESC, id DESC")
        latest = {row[0]: (row[1], row[2]) for row in runs}
        stuck_anywhere = self.sql(
            "SELECT count(*) FROM cleanup_runs WHERE status IN ('queued', 'running')")[0][0]
        outcome = Counter()
        reasons = Counter()
        accepted = set(self.imports)
        for import_id in accepted:
            status, error = latest.get(import_id, ("missing", None))
            outcome[status] += 1
            if status == "failed":
                reasons[error or "(no reason)"] += 1
        held = (outcome["succeeded"] + outcome["failed"] == len(accepted)
                and not reasons["(no reason)"] and not stuck_anywhere)
        retried = self.sql("SELECT count(*) FROM cleanup_runs WHERE attempts > 1")[0][0]
        detail = (f"{len(accepted)} accepted ({dict(self.import_counts)}): {dict(outcome)}; imports in "
                  f"the database {len(latest)}, runs queued/running anywhere: {stuck_anywhere}, runs "
                  f"with more than one attempt: {retried}"
                  + (f"; failure reasons: {dict(reasons)}" if reasons else ""))
        return {"name": "every accepted import cleaned (final run, none stuck)", "held": held,
                "detail": detail}

    def check_deliveries(self, received: list[tuple], sink_stats: dict) -> dict:
        rows = self.sql("SELECT id, article_id, outlet_id, kind, state, sequence, last_error, created_at "
                        "FROM deliveries ORDER BY created_at, sequence")
        states = Counter(row[4] for row in rows)
        problems = []
        by_pair: dict[tuple, list] = defaultdict(list)
        for row in rows:
            by_pair[(row[1], row[2])].append(row)
        outlets = [row[0] for row in self.sql("SELECT id FROM outlets")]
        for article_id in self.published:
            for outlet_id in outlets:
                if not any(r[3] == "publish" for r in by_pair.get((article_id, outlet_id), [])):
                    problems.append(f"accepted publish of {article_id}: no publish delivery to {outlet_id}")
        self.pair_problems(by_pair, problems)
        seen = Counter(record[0] for record in received)
        unknown = self.receiver_problems(rows, seen, problems)
        attempts = dict(self.sql("SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome"))
        detail = (f"{len(rows)} deliveries {dict(states)} for {len(by_pair)} (article, outlet) pairs, "
                  f"{len(self.published)} publishes accepted; receiver: {len(seen)} keys processed once, "
                  f"{sink_stats['duplicates']} duplicate re-sends deduplicated, {sink_stats['failed']} "
                  f"answered 503, {sink_stats['requests']} requests; keys processed for deliveries not "
                  f"delivered: {len(unknown)}; attempts by outcome {attempts}")
        if problems:
            detail += "; PROBLEMS: " + "; ".join(problems[:8]) + (
                f" (+{len(problems) - 8} more)" if len(problems) > 8 else "")
        return {"name": "every publish delivered once per outlet, none stuck", "held": not problems,
                "detail": detail}

    @staticmethod
    def receiver_problems(rows: list, seen: Counter, problems: list[str]) -> set[str]:
        """Every delivered delivery's key processed by the receiver exactly once; returns the
        keys it processed for deliveries that are not delivered."""
        delivered = {row[0] for row in rows if row[4] == "delivered"}
        missing = delivered - set(seen)
        twice = [key for key, count in seen.items() if count > 1]
        if missing:
            problems.append(f"{len(missing)} delivered deliveries never reached the receiver")
        if twice:
            problems.append(f"{len(twice)} keys recorded twice by the receiver")
        return set(seen) - delivered

    def pair_problems(self, by_pair: dict, problems: list[str]) -> None:
        """Per (article, outlet): nothing stuck or dead, the latest version delivered and
        matching the article's state."""
        article_state = dict(self.sql("SELECT id, state FROM articles"))
        for (article_id, outlet_id), pair in by_pair.items():
            for row in pair:
                if row[4] in ("pending", "sending", "dead") and not self.refused_rebinding(row):
                    problems.append(f"delivery {row[0]} ({row[3]}) is {row[4]}: {row[6]}")
                if row[4] == "cancelled" and "takedown" not in (row[6] or ""):
                    problems.append(f"delivery {row[0]} cancelled: {row[6]}")
            last = max(pair, key=lambda r: r[5])
            if last[4] != "delivered" and not self.refused_rebinding(last):
                problems.append(f"latest delivery {last[0]} of {article_id} to {outlet_id} is {last[4]}")
            state = article_state.get(article_id)
            if state == "unpublished" and last[3] != "takedown":
                problems.append(f"{article_id} is unpublished but its latest delivery is {last[3]}")
            if state == "published" and last[3] == "takedown":
                problems.append(f"{article_id} is published but its latest delivery is a takedown")

    def refused_rebinding(self, row) -> bool:
        """A delivery to the rebinding outlet that the URL guard refused (its check got the
        trap's address): dead on purpose, the one end besides delivered it may have."""
        return row[2] == self.rebinding_outlet and row[4] == "dead" and (row[6] or "").startswith("refused")

    def check_attempts(self) -> dict:
        """Every attempt ended within the deadline; no two attempts of one delivery were open
        at once (by the attempt log); the rebinding name never led to the trap, and every
        lookup that got the trap's address was refused."""
        attempts = self.sql("SELECT delivery_id, started_at, latency_ms, outcome, error "
                            "FROM delivery_attempts ORDER BY delivery_id, started_at, number")
        longest = max((a[2] for a in attempts if a[2] is not None), default=0.0)
        errors = Counter((a[4] or "").split(":")[0] for a in attempts if a[3] != "delivered")
        overlapping = sum(
            1 for a, b in itertools.pairwise(attempts)
            if a[0] == b[0] and a[2] is not None and a[1].timestamp() + a[2] / 1000 > b[1].timestamp())
        lookups, trap_answers = self.rebinding_answers()
        held = (longest <= DEADLINE * 1000 and not overlapping and self.trap.connections == 0
                and errors["refused"] == trap_answers)
        detail = (f"{len(attempts)} attempts, longest {longest:,.0f} ms (deadline {DEADLINE} s); failed "
                  f"attempts by error {dict(errors)}; attempts of one delivery open at once: "
                  f"{overlapping}; {self.rebinding_summary(lookups, trap_answers)}")
        return {"name": "attempts end by the deadline, one at a time; rebinding never reaches the trap",
                "held": held, "detail": detail}

    def rebinding_answers(self) -> tuple[int, int]:
        """Lookups of the rebinding name answered during its fault, and how many of them got
        the trap's address (written down by bench/rebinding/sitecustomize.py)."""
        answers = Path(self.env["MASTHEAD_REBIND_FLAG"] + ".answers")
        lines = answers.read_text().split() if answers.exists() else []
        addresses = lines[1::2]
        return len(addresses), addresses.count("127.0.0.2")

    def rebinding_summary(self, lookups: int, trap_answers: int) -> str:
        start, end = (datetime.fromtimestamp(moment, UTC) for moment in self.rebind_window)
        during = self.sql("SELECT count(*) FROM delivery_attempts a JOIN deliveries d "
                          "ON d.id = a.delivery_id WHERE d.outlet_id = :outlet "
                          "AND a.started_at BETWEEN :start AND :end",
                          outlet=self.rebinding_outlet, start=start, end=end)[0][0]
        states = dict(self.sql("SELECT state, count(*) FROM deliveries WHERE outlet_id = :outlet "
                               "GROUP BY state", outlet=self.rebinding_outlet))
        return (f"rebinding outlet: {during} attempts started during its fault, {lookups} lookups "
                f"answered then, {trap_answers} of them with the trap's address (each must be "
                f"refused); its deliveries {states}; connections to the trap at 127.0.0.2: "
                f"{self.trap.connections}")

    def check_events(self) -> dict:
        pending = self.event_pending()
        counted = {row[0]: int(row[1]) for row in self.sql(
            "SELECT experiment_id, sum(impressions) + sum(clicks) FROM experiment_counts "
            "GROUP BY experiment_id")}
        experiments = set(counted) | set(self.accepted)
        wrong = {e: (self.accepted.get(e, 0), counted.get(e, 0)) for e in experiments
                 if self.accepted.get(e, 0) != counted.get(e, 0)}
        total_accepted, total_counted = sum(self.accepted.values()), sum(counted.values())
        detail = (f"{len(experiments)} experiments; events accepted by the API {total_accepted:,}, "
                  f"in PostgreSQL {total_counted:,}; pending in Redis {pending}; batches "
                  f"{dict(self.event_batches)}")
        if wrong:
            detail += f"; MISMATCHES (accepted, counted): {dict(list(wrong.items())[:5])}"
        held = not wrong and pending == 0 and not self.event_batches["given up"]
        return {"name": "event counts in PostgreSQL == events accepted", "held": held, "detail": detail}

    def check_states(self) -> dict:
        problems = []
        for state, in self.sql("SELECT DISTINCT state FROM articles"):
            if state not in STATES:
                problems.append(f"unknown state {state}")
        checks = {
            "published without live revision or published_at": "SELECT count(*) FROM articles WHERE "
            "state = 'published' AND (live_revision_id IS NULL OR published_at IS NULL)",
            "unpublished/archived with a live revision": "SELECT count(*) FROM articles WHERE "
            "state IN ('unpublished', 'archived') AND live_revision_id IS NOT NULL",
            "not live with a running test": "SELECT count(*) FROM experiments e JOIN articles a "
            "ON a.id = e.article_id WHERE e.status = 'running' AND a.live_revision_id IS NULL",
            "articles with two running tests": "SELECT count(*) FROM (SELECT article_id FROM experiments "
            "WHERE status = 'running' GROUP BY article_id HAVING count(*) > 1) t",
        }
        for name, query in checks.items():
            count = self.sql(query)[0][0]
            if count:
                problems.append(f"{count} {name}")
        states = dict(Counter(dict(self.sql("SELECT state, count(*) FROM articles GROUP BY state"))))
        detail = f"articles by state {states}" + (f"; PROBLEMS: {'; '.join(problems)}" if problems else "")
        return {"name": "no article in an impossible state", "held": not problems, "detail": detail}

    # -- report ------------------------------------------------------------------------------

    def report(self, drained: dict, results: list[dict], sink_stats: dict) -> None:
        print(f"\n{self.args.duration:g} s of load (seed {self.args.seed}); gunicorn sync x2, Celery "
              f"workers for default+deliveries (threads x4) and cleanup (prefork x1) under "
              f"scripts/supervise.py, beat, PostgreSQL, own redis-server (AOF, fsync always), receiver "
              f"and trap on loopback; webhook deadline {DEADLINE} s, one delivery per outlet at once; "
              f"{os.cpu_count()} cores shared. Latencies of 2xx answers.\n")
        print("| workload | requests | 2xx | errors (non-2xx / no answer) | 2xx/s | p50 ms | p99 ms |")
        print("|---|---:|---:|---|---:|---:|---:|")
        for workload in ("editors", "importers", "big pages", "front page", "events", "harness errors"):
            samples = self.samples.get(workload, [])
            if not samples:
                continue
            good = sorted(s for o, s in samples if isinstance(o, int) and 200 <= o < 300)
            errors = Counter(str(o) for o, _ in samples if not (isinstance(o, int) and 200 <= o < 300))
            shown = ", ".join(f"{k}: {v}" for k, v in errors.most_common()) or "0"
            print(f"| {workload} | {len(samples):,} | {len(good):,} | {shown} "
                  f"| {len(good) / self.elapsed:,.1f} "
                  f"| {pct(good, 0.5)} | {pct(good, 0.99)} |")
        print("\n| t (s) | fault |\n|---:|---|")
        for moment, text in self.faults:
            print(f"| {moment:.1f} | {text} |")
        print(f"\nDrain: {drained['seconds']:.1f} s; backlog left: {drained['backlog']}\n")
        print("| invariant | held | numbers |\n|---|---|---|")
        for result in results:
            print(f"| {result['name']} | {'held' if result['held'] else 'FAILED'} | {result['detail']} |")


def distinct_page(lines: int | None = None, size: int | None = None) -> bytes:
    """A plain-text page of distinct short lines: ``lines`` of them, or as many as fit in
    ``size`` bytes."""
    marker = uuid.uuid4().hex[:8]
    out, total, n = [], 0, 0
    while (lines is None or n < lines):
        line = f"Entry {n} of page {marker}: the committee noted figure {n * 7}.\n".encode()
        if size is not None and total + len(line) > size:
            break
        out.append(line)
        total += len(line)
        n += 1
    return b"".join(out)


def pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    return f"{values[min(len(values) - 1, int(q * len(values)))] * 1000:,.0f}"


if __name__ == "__main__":
    main()
