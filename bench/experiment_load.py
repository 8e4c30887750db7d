"""Load on the public headline endpoints, against a bare Flask endpoint under the same gunicorn.

    .venv/bin/python bench/experiment_load.py [--database-url postgresql+psycopg://...]
        [--rounds 3] [--duration 10] [--connections 32] [--workers 2]
        [--events-fsync always|everysec] [--sizes 1,20,100]

Needs wrk (Debian package ``wrk``), PostgreSQL and the ``redis-server`` binary. It creates
a scratch database and starts its own Redis for the events, configured as production's
(docker-compose.yml: ``--appendonly yes --appendfsync always``, so an accepted batch is on
disk before the 2xx; its files in a temporary folder on the machine's disk; ``--events-fsync
everysec`` measures the weaker setting, up to a second of batches lost on a power cut), then 20 live
articles whose two headlines are under test and a site key, and runs side by side,
alternating in each round so machine noise hits both alike:

- serving: GET /v1/serve/headlines for a 20-article front page, a new visitor per request,
  against the bare app's GET of the same JSON document;
- events: POST /v1/events with 100-event batches (50 impressions and their 50 clicks,
  new visitors per batch), against the bare app's POST that reads the body and returns a
  constant report.

Reported: medians over rounds of requests/s (events/s for the batches) and p99 latency at
full load, the ratio to the bare endpoint, and p99 at half the peak rate (wrk paced by a
per-connection delay). The cost growth: serving front pages of each of ``--sizes`` articles
(the first N of max(sizes) live articles under test), in the same rounds. After the event
runs the pending counters are flushed to PostgreSQL and the flushed counts are compared
with the events the API accepted.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.http_overhead import call, gunicorn, start  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

OURS, BARE = 8611, 8612
FRONT_PAGE = 20  # articles per serving request in the main table
WRK_DIR = Path(__file__).resolve().parent / "wrk"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--events-fsync", choices=["always", "everysec"], default="always")
    parser.add_argument("--sizes", default="1,20,100", help="front-page sizes for the cost growth")
    args = parser.parse_args()
    args.sizes = sorted({int(n) for n in args.sizes.split(",") if n} | {FRONT_PAGE})
    with (scratch_database(args.database_url, "masthead_load") as url,
          durable_redis(args.events_fsync) as redis_url):
        run(args, url, redis_url)


class durable_redis:
    """A redis-server of our own on a free loopback port, with an append-only file."""

    def __init__(self, fsync: str = "always"):
        self.fsync = fsync

    def __enter__(self) -> str:
        self.folder = Path(tempfile.mkdtemp(prefix="masthead-load-redis-", dir="/var/tmp"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", self.fsync, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                return url
            except redis.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def run(args, url: str, redis_url: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="masthead-load-"))
    env = {**os.environ, "MASTHEAD_INSTANCE_DIR": str(workdir), "LOG_LEVEL": "WARNING",
           "CELERY_BROKER_URL": "memory://", "DATABASE_URL": url, "EVENTS_REDIS_URL": redis_url,
           "FOUR_EYES_REQUIRED": "false", "PUBLIC_RATE_LIMIT_PER_MINUTE": str(10 ** 9)}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    token = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "users", "create", "--role", "admin",
                            "load@example.org"], cwd=ROOT, env=env, check=True, capture_output=True,
                           text=True).stdout.split("API token (shown once): ")[1].strip()
    ours = start(gunicorn("wsgi:app", OURS, args.workers), env, OURS)
    try:
        key, front_page = prepare(token, max(args.sizes))
        documents = write_documents(workdir, key, front_page)
        bare_env = {**env, "BENCH_BARE_DOCUMENT": str(documents["serve"]),
                    "BENCH_BARE_POST_DOCUMENT": str(documents["report"]),
                    "PYTHONPATH": str(ROOT / "bench")}
        bare = start(gunicorn("bare_app:app", BARE, args.workers), bare_env, BARE)
        try:
            results = rounds(args, key, front_page)
        finally:
            bare.terminate()
    finally:
        ours.terminate()
    report(args, results, check_flush(env))


def prepare(token: str, count: int) -> tuple[str, list[dict]]:
    """A site and ``count`` live articles, each with a running two-headline test."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    key = json.loads(call(OURS, "POST", "/v1/sites", auth, b'{"name": "load"}')[1])["key"]
    articles = []
    for n in range(count):
        created = json.loads(call(OURS, "POST", "/v1/articles", auth, json.dumps({
            "language": "ar", "headline": f"عنوان الخبر {n}", "body": "نص الخبر " * 50}).encode())[1])
        url = f"/v1/articles/{created['id']}"
        for headline in (f"عنوان الخبر {n}", f"عنوان بديل للخبر {n}"):
            call(OURS, "POST", f"{url}/headlines", {**auth, "If-Match": "*"},
                 json.dumps({"text": headline}).encode())
        for action in ("submit", "approve", "publish"):
            status, body, _ = call(OURS, "POST", f"{url}/transitions", {**auth, "If-Match": "*"},
                                   json.dumps({"action": action}).encode())
            assert status == 200, body
        experiment = json.loads(call(OURS, "GET", f"{url}/experiment", auth)[1])["experiment"]
        articles.append({"id": created["id"], "experiment": experiment["id"],
                         "arms": experiment["arm_ids"]})
    return key, articles


def write_documents(workdir: Path, key: str, articles: list[dict]) -> dict[str, Path]:
    front_page = articles[:FRONT_PAGE]
    ids = ",".join(a["id"] for a in front_page)
    served = call(OURS, "GET", f"/v1/serve/headlines?articles={ids}&visitor=probe&key={key}", {})[1]
    assert len(json.loads(served)["items"]) == 20, served
    report = json.dumps({"received": 100, "accepted": 100, "duplicates": 0, "rejected": []})
    (workdir / "serve.json").write_bytes(served)
    (workdir / "report.json").write_text(report)
    os.environ.update({  # read by the wrk scripts
        "MASTHEAD_LOAD_KEY": key, "MASTHEAD_LOAD_IDS": ids,
        "MASTHEAD_LOAD_EXPERIMENTS": ";".join(",".join([a["experiment"], *a["arms"]]) for a in front_page),
    })
    return {"serve": workdir / "serve.json", "report": workdir / "report.json"}


def wrk(port: int, script: str, path: str | None, args, delay_ms: float = 0.0,
        connections: int | None = None, ids: str | None = None) -> dict:
    env = {**os.environ, "MASTHEAD_DELAY_MS": str(delay_ms), **({"MASTHEAD_PATH": path} if path else {}),
           **({"MASTHEAD_LOAD_IDS": ids} if ids else {})}
    command = ["wrk", "-t2", f"-c{connections or args.connections}", f"-d{args.duration}s", "--latency",
               "-s", str(WRK_DIR / script), f"http://127.0.0.1:{port}"]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert errors is None, output
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p99": _ms(re.search(r"99%\s+([\d.]+)(us|ms|s)", output)),
            "requests": int(re.search(r"(\d+) requests in", output).group(1))}


def _ms(match) -> float:
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


CASES = {  # name: (port, wrk script, path override)
    "serving (20-article front page)": (OURS, "serve.lua", None),
    "bare Flask GET (same JSON)": (BARE, "serve.lua", "/doc"),
    "events (100-event batches)": (OURS, "events.lua", None),
    "bare Flask POST (same body)": (BARE, "events.lua", "/doc"),
}


def growth_name(size: int) -> str:
    return f"serving ({size}-article front page)"


def rounds(args, key: str, articles: list[dict]) -> dict[str, list[dict]]:
    growth = {growth_name(n): ",".join(a["id"] for a in articles[:n]) for n in args.sizes if n != FRONT_PAGE}
    results: dict[str, list[dict]] = {name: [] for name in [*CASES, *growth]}
    for _ in range(args.rounds):
        for name, (port, script, path) in CASES.items():
            results[name].append(wrk(port, script, path, args))
        for name, ids in growth.items():
            results[name].append(wrk(OURS, "serve.lua", None, args, ids=ids))
    for name, (port, script, path) in CASES.items():  # latency at half the peak rate
        peak = statistics.median(r["rps"] for r in results[name])
        connections = 8
        half = wrk(port, script, path, args, delay_ms=1000 * connections / (peak / 2),
                   connections=connections)
        results[name].append({**half, "half": True})
    return results


def check_flush(env: dict) -> dict:
    """Flush the pending counters, then compare the database with what the API accepted."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "EVENTS_REDIS_URL", "MASTHEAD_INSTANCE_DIR",
                                           "CELERY_BROKER_URL")})
    from app import create_app
    from app.experiments.event_stores import event_store
    from app.extensions import db
    from app.models import ExperimentCount

    app = create_app()
    with app.app_context():
        store = event_store()
        store.flush()
        accepted = store.metrics().get("accepted", 0)
        impressions, clicks = db.session.execute(select(
            func.sum(ExperimentCount.impressions), func.sum(ExperimentCount.clicks))).one()
        pending = store.pending()
    return {"accepted": accepted, "flushed": (impressions or 0) + (clicks or 0), "pending": pending}


def report(args, results: dict[str, list[dict]], flush: dict) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name] if not r.get("half"))

    def half(name: str) -> dict:
        return next(r for r in results[name] if r.get("half"))

    print(f"gunicorn sync, {args.workers} workers; events in our own redis-server "
          f"(AOF, appendfsync {args.events_fsync}); "
          f"wrk -t2 -c{args.connections} -d{args.duration}s; "
          f"{args.rounds} rounds, medians; half-rate runs: 8 connections paced to 50% of the peak")
    print("| endpoint | req/s | items/s | p99 ms (full load) | vs bare | req/s at half rate "
          "| p99 ms at half rate |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    pairs = {"serving (20-article front page)": ("bare Flask GET (same JSON)", 20),
             "events (100-event batches)": ("bare Flask POST (same body)", 100)}
    for name, (bare, per_request) in pairs.items():
        for row, items in ((name, per_request), (bare, per_request)):
            rps = median(row, "rps")
            ratio = f"{rps / median(bare, 'rps'):.2f}" if row == name else "1.00"
            print(f"| {row} | {rps:,.0f} | {rps * items:,.0f} | {median(row, 'p99'):.1f} | {ratio} "
                  f"| {half(row)['rps']:,.0f} | {half(row)['p99']:.1f} |")
    print("\nCost growth, serving (same rounds, medians):\n")
    print("| articles per request | req/s | items/s | p99 ms (full load) |")
    print("|---:|---:|---:|---:|")
    for size in args.sizes:
        name = growth_name(size)
        rps = median(name, "rps")
        print(f"| {size} | {rps:,.0f} | {rps * size:,.0f} | {median(name, 'p99'):.1f} |")
    print(f"\nevents accepted by the API: {flush['accepted']:,}; flushed to PostgreSQL: "
          f"{flush['flushed']:,}; still pending: {flush['pending']}; "
          f"equal: {flush['accepted'] == flush['flushed']}")


if __name__ == "__main__":
    main()
