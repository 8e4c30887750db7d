"""Masthead's editorial endpoints against bare Flask endpoints, side by side, under the same gunicorn.

    .venv/bin/python bench/http_overhead.py [--data ../shared/data] [--database-url SERVER_URL]
        [--rounds 5] [--requests 400] [--concurrency 4] [--articles 1000] [--json PATH]

With --database-url (a PostgreSQL server) the run uses a scratch database on it, created
and dropped; without it, SQLite. Before the rounds --articles real articles are created
through the API and the database is analysed: plans made over a nearly empty table (a
scan and a sort) would be kept by the prepared statements while the POST case grows it.
Both servers run at once with the same gunicorn settings (sync, --workers); rounds
alternate between the cases so that machine noise hits all alike. Each round sends
--requests requests from --concurrency client threads over keep-alive connections. Each
of our endpoints is compared with a bare Flask endpoint that returns the same bytes (the
article, the page of 25 in its summary or full view, captured from our server before the
rounds), or, for POST, reads and parses the same body and answers the article. On
PostgreSQL one more bare case reads the summary page's rows with the service's own
statement through psycopg and sends them as JSON, nothing else: the floor under any page
on this database, compared with the same anchor as our page. Reported:
per case the median over rounds of the throughput and of the p50/p99 latency, and the
ratio to its bare anchor measured in the same run. Also the server's CPU per request
(its gunicorn processes and, on PostgreSQL, the backends of its database, from /proc)
and that ratio: on a machine other jobs keep busy, throughput also measures how long
each process waits for a core (a request that makes two database round trips waits
three times), CPU per request does not.

The server is configured for the load: the editorial rate limit is raised (the default,
1,200 a minute per token, answers 429 after the first seconds) and everything else is as
deployed (authentication, the token's role checks, the other limits, all hooks).
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_database  # noqa: E402

BIN = Path(sys.executable).parent
OURS, BARE = 8601, 8602
TICK = os.sysconf("SC_CLK_TCK")
SEARCH = quote("المملكة")  # in about a third of the articles


def load_articles(data: Path, count: int = 50) -> list[dict]:
    """Real Arabic articles from SaudiNewsNet, or the test fixtures when the data is absent."""
    archives = sorted((data / "saudinewsnet").glob("*.zip"))
    if not archives:
        return json.loads((ROOT / "tests/fixtures/saudinewsnet_sample.json").read_text())
    articles = []
    for path in archives:
        with zipfile.ZipFile(path) as archive:
            articles += [a for a in json.loads(archive.read(archive.namelist()[0]))
                         if a["title"] and a["content"]]
        if len(articles) >= count:
            break
    return articles[:count]


def start(argv: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def gunicorn(app: str, port: int, workers: int) -> list[str]:
    return [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning", app]


def call(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, payload, dict(response.getheaders())


def load(port: int, method: str, paths: list[str], headers: dict, body: bytes | None, total: int,
         concurrency: int) -> dict:
    """Send ``total`` requests with ``concurrency`` threads; return throughput and latencies."""
    def worker(start_index: int) -> list[float]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        for i in range(start_index, total, concurrency):
            began = time.perf_counter()
            connection.request(method, paths[i % len(paths)], body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status < 400, (response.status, paths[i % len(paths)])
            latencies.append(time.perf_counter() - began)
        connection.close()
        return latencies

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(x for chunk in pool.map(worker, range(concurrency)) for x in chunk)
    elapsed = time.perf_counter() - began
    return {"rps": total / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000}


def _processes() -> dict[int, tuple[int, float, str]]:
    """pid: (parent pid, CPU seconds, command line) of every process we may read."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, command)
    return table


def server_cpu(root: int, database: str | None) -> float:
    """CPU seconds so far of the process tree under ``root`` and of the PostgreSQL
    backends connected to ``database``."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu, _command) in table.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += table[pid][1] if pid in table else 0.0
        stack.extend(children.get(pid, []))
    if database:
        total += sum(cpu for _parent, cpu, command in table.values()
                     if command.startswith("postgres:") and f" {database} " in command)
    return total


def prepare(token: str, articles: list[dict], database_url: str | None) -> list[str]:
    """Create ``articles`` through the API (the first 50 first, one at a time: the page of
    25 and the single reads use those), then ANALYZE, as autovacuum would after a load."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def create(item: dict) -> str:
        body = json.dumps({"language": "ar", "headline": item["title"], "body": item["content"],
                           "source_name": item["source"]}).encode()
        status, payload, _ = call(OURS, "POST", "/v1/articles", headers, body)
        assert status == 201, payload
        return json.loads(payload)["id"]

    ids = [create(item) for item in articles[:50]]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, articles[50:]))
    if database_url:
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
        engine.dispose()
    return ids


FLOOR = "bare GET + the page's SQL (psycopg, rows as JSON, no auth)"
# The first 25 articles created: the POSTs of the rounds never change this page.
PAGE = "/v1/articles?limit=25&sort=created_at"


def capture_documents(workdir: Path, token: str, ids: list[str]) -> dict[str, Path]:
    """What our server answers, for the bare app to serve the same bytes. An older version
    without the summary view (422) has no summary document: its cases are left out."""
    auth = {"Authorization": f"Bearer {token}"}
    paths = {"doc": f"/v1/articles/{ids[0]}", "summary": f"{PAGE}&view=summary", "full": PAGE}
    documents = {}
    for name, path in paths.items():
        status, payload, _ = call(OURS, "GET", path, auth)
        if name == "summary" and status == 422:
            continue
        assert status == 200, payload
        documents[name] = workdir / f"{name}.json"
        documents[name].write_bytes(payload)
    return documents


def page_sql() -> str | None:
    """The summary page's statement as the service runs it (its records, sorted by creation,
    25 and one), with its values written in; None for a version without records."""
    try:
        from sqlalchemy.dialects import postgresql

        from app.editorial.article_queries import ARTICLE, records
    except ImportError:
        return None
    query = records(with_body=False).order_by(ARTICLE.created_at, ARTICLE.id).limit(26)
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def answers_304(token: str, article_id: str) -> bool:
    """Whether the server knows conditional GET (older versions answer 200)."""
    headers = {"Authorization": f"Bearer {token}", "If-None-Match": '"v1"'}
    return call(OURS, "GET", f"/v1/articles/{article_id}", headers)[0] == 304


def server_env(workdir: Path, database_url: str | None) -> dict:
    return {**os.environ, "MASTHEAD_INSTANCE_DIR": str(workdir), "LOG_LEVEL": "WARNING",
            "CELERY_BROKER_URL": "memory://",
            "DATABASE_URL": database_url or f"sqlite:///{workdir / 'bench.db'}",
            # The bench's own load would exceed the per-token limit within seconds.
            "EDITORIAL_RATE_LIMIT_PER_MINUTE": str(10 ** 9)}


def create_token(env: dict) -> str:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    created = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "users", "create", "--role",
                              "editor", f"bench-{os.getpid()}@example.org"], cwd=ROOT, env=env,
                             check=True, capture_output=True, text=True).stdout
    return created.split("API token (shown once): ")[1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to run on (in a scratch database); else SQLite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--articles", type=int, default=1000,
                        help="articles in the database before the rounds (a newsroom's is not empty)")
    parser.add_argument("--json", type=Path, help="also write the table's rows here")
    args = parser.parse_args()
    # A scratch database on that server: a run's articles never land in (or slow down the
    # first page of) a database someone uses, and every run starts from the same empty one.
    with scratch_database(args.database_url) if args.database_url else nullcontext() as url:
        run(args, url)


def run(args, database_url: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="masthead-bench-"))
    env = server_env(workdir, database_url)
    token = create_token(env)
    ours = start(gunicorn("wsgi:app", OURS, args.workers), env, OURS)
    try:
        ids = prepare(token, load_articles(args.data, args.articles), database_url)
        documents = capture_documents(workdir, token, ids)
        bare_env = {**env, "BENCH_BARE_DOCUMENT": str(documents["doc"]),
                    "BENCH_BARE_EXTRA": ",".join(f"{name}={documents[name]}"
                                                 for name in ("summary", "full") if name in documents),
                    "PYTHONPATH": str(ROOT / "bench")}
        floor_sql = page_sql() if database_url else None
        if floor_sql:
            bare_env.update(BENCH_BARE_PAGE_SQL=floor_sql, BENCH_BARE_DATABASE_URL=make_url(
                database_url).set(drivername="postgresql").render_as_string(hide_password=False))
        bare = start(gunicorn("bare_app:app", BARE, args.workers), bare_env, BARE)
        database = make_url(database_url).database if database_url else None
        # The floor case's queries run on the same database: its backends count for both.
        servers = {OURS: (ours.pid, database), BARE: (bare.pid, database if floor_sql else None)}
        try:
            plan = cases(token, ids, "summary" in documents, answers_304(token, ids[0]),
                         floor=bool(floor_sql))
            rows = summarise(run_rounds(args, plan, servers))
        finally:
            bare.terminate()
    finally:
        ours.terminate()
    sizes = {name: path.stat().st_size for name, path in documents.items()}
    report(rows, args, sizes)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


def cases(token: str, ids: list[str], summary: bool, conditional: bool,
          floor: bool = False) -> dict[str, tuple]:
    """name: (port, method, paths, headers, body, the bare anchor's name). Against an older
    version without the summary view or conditional GET, the cases that need them are left
    out and search is compared in its full view."""
    auth = {"Authorization": f"Bearer {token}"}
    new_article = json.dumps({"language": "ar", "headline": "عنوان", "body": "نص " * 200}).encode()
    one = [f"/v1/articles/{i}" for i in ids]
    article, listed = "bare GET (article JSON)", "bare GET (page of 25, summary JSON)"
    full, posted = "bare GET (page of 25, full JSON)", "bare POST (parse the body, answer the article)"
    search = f"/v1/articles?q={SEARCH}" + ("&view=summary" if summary else "")
    plan = {
        article: (BARE, "GET", ["/doc"], {}, None, None),
        "GET /v1/articles/{id}": (OURS, "GET", one, auth, None, article),
        # the prepared articles are at version 1, so "v1" is current
        "GET /v1/articles/{id} If-None-Match (304)": (OURS, "GET", one,
                                                      {**auth, "If-None-Match": '"v1"'}, None, article),
        listed: (BARE, "GET", ["/summary"], {}, None, None),
        FLOOR: (BARE, "GET", ["/page-sql"], {}, None, listed),
        "GET /v1/articles?limit=25&view=summary": (OURS, "GET", [f"{PAGE}&view=summary"], auth,
                                                   None, listed),
        full: (BARE, "GET", ["/full"], {}, None, None),
        "GET /v1/articles?limit=25 (full)": (OURS, "GET", [PAGE], auth, None, full),
        "GET /v1/articles?q=..." + ("&view=summary" if summary else ""): (
            OURS, "GET", [search], auth, None, listed if summary else full),
        posted: (BARE, "POST", ["/doc"], {"Content-Type": "application/json"}, new_article, None),
        "POST /v1/articles": (OURS, "POST", ["/v1/articles"],
                              {**auth, "Content-Type": "application/json"}, new_article, posted),
    }
    dropped = ({"summary"} if not summary else set()) | ({"304"} if not conditional else set()) \
        | ({FLOOR} if not floor else set())
    return {name: case for name, case in plan.items()
            if not any(word in name for word in dropped)}


def run_rounds(args, plan: dict[str, tuple],
               servers: dict[int, tuple[int, str | None]]) -> dict[str, tuple[str | None, list[dict]]]:
    results: dict[str, list[dict]] = {name: [] for name in plan}
    for port, method, paths, headers, body, _anchor in plan.values():  # warm every worker up
        load(port, method, paths, headers, body, 10 * args.concurrency, args.concurrency)
    for _ in range(args.rounds):
        for name, (port, method, paths, headers, body, _anchor) in plan.items():
            before = server_cpu(*servers[port])
            result = load(port, method, paths, headers, body, args.requests, args.concurrency)
            result["cpu_ms"] = (server_cpu(*servers[port]) - before) * 1000 / args.requests
            results[name].append(result)
    return {name: (plan[name][5], results[name]) for name in plan}


def summarise(results: dict[str, tuple[str | None, list[dict]]]) -> list[dict]:
    keys = ("rps", "p50", "p99", "cpu_ms")
    medians = {name: {key: statistics.median(r[key] for r in runs) for key in keys}
               for name, (_anchor, runs) in results.items()}
    return [{"case": name, **medians[name], "anchor": anchor,
             "vs_bare": medians[name]["rps"] / medians[anchor]["rps"] if anchor else 1.0,
             "cpu_vs_bare": medians[anchor]["cpu_ms"] / medians[name]["cpu_ms"] if anchor else 1.0}
            for name, (anchor, _runs) in results.items()]


def report(rows: list[dict], args, sizes: dict[str, int]) -> None:
    print(f"gunicorn sync, {args.workers} workers each; {args.concurrency} client threads; "
          f"{args.requests} requests x {args.rounds} rounds, medians; article JSON {sizes['doc']:,} B, "
          f"page of 25: summary {sizes.get('summary', 0):,} B, full {sizes['full']:,} B")
    print("| endpoint | req/s (median) | p50 ms | p99 ms | req/s vs its bare anchor | server CPU "
          "ms/request | CPU: bare / this |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        anchor = "" if row["anchor"] else " (anchor)"
        print(f"| {row['case']} | {row['rps']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} "
              f"| {row['vs_bare']:.2f}{anchor} | {row['cpu_ms']:.2f} | {row['cpu_vs_bare']:.2f} |")


if __name__ == "__main__":
    main()
