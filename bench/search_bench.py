"""q= search on PostgreSQL as the corpus grows: the trigram index against a scan, side by side.

    .venv/bin/python bench/search_bench.py [--data ../shared/data] [--sizes 1000,10000,all]
        [--queries 60] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--json PATH]

Creates a scratch database (dropped afterwards), migrates it, and loads the SaudiNewsNet
articles through the articles service (``create_article``: the code path of POST
/v1/articles, which folds headline, summary and body into the search text), 500 to a
transaction; text is first made what the API would accept (NFC, no control characters).
At each size it runs VACUUM ANALYZE (what autovacuum does after a load) and the same
queries: words and two-word phrases drawn from the corpus's headlines with a fixed seed
(frequent and rare alike, at least 3 letters, what a trigram needs), each answered as GET
/v1/articles?q=...&view=summary would (``search_articles``: newest first, 25 a page),
timed in process: the query and loading the page. Each query runs once as planned (the
trigram index) and once with index scans switched off for its transaction (the plan
before the index: a scan), so both are measured in the same run. Reported per size:
p50 / p95 / max over the queries, the index's size and the table's (with its TOAST).
"""

import argparse
import json
import random
import re
import statistics
import sys
import time
import zipfile
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app, migrate  # noqa: E402
from app.editorial import article_queries, articles  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Role  # noqa: E402
from app.platform import users  # noqa: E402
from app.platform.uow import transaction  # noqa: E402
from app.text import nfc, without_forbidden  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

BATCH = 500
ARABIC_WORD = re.compile(r"[\u0621-\u064a]{3,}")


def corpus(data: Path):
    """Every SaudiNewsNet article, in archive order."""
    for archive_path in sorted((data / "saudinewsnet").glob("*.zip")):
        with zipfile.ZipFile(archive_path) as archive:
            for name in archive.namelist():
                yield from json.loads(archive.read(name))


def clean(value: str | None) -> str:
    return nfc(without_forbidden(value or ""))


def draw_queries(records: list[dict], count: int, seed: int = 7) -> list[str]:
    """Words (two thirds) and two-word phrases from random headlines."""
    rng = random.Random(seed)
    queries: list[str] = []
    while len(queries) < count:
        words = ARABIC_WORD.findall(clean(rng.choice(records)["title"]))
        if len(words) < 2:
            continue
        start = rng.randrange(len(words) - 1)
        phrase = len(queries) % 3 == 2
        query = " ".join(words[start:start + 2]) if phrase else words[start]
        if query not in queries:
            queries.append(query)
    return queries


def load(app, author_id: str, records: list[dict]) -> float:
    """Create ``records`` through the articles service; seconds taken."""
    began = time.perf_counter()
    with app.app_context():
        author = users.get_user(author_id)
        for first in range(0, len(records), BATCH):
            with transaction():  # the service's own transactions join this one
                for record in records[first:first + BATCH]:
                    articles.create_article(author, {
                        "language": "ar", "headline": clean(record["title"]),
                        "body": clean(record["content"]), "source_name": record["source"],
                        "source_url": (record.get("url") or None)})
            db.session.expunge_all()
    return time.perf_counter() - began


def timed_search(query: str, scan: bool) -> float:
    """Milliseconds to answer one page of ``query`` (scan: no index scans in this transaction)."""
    session = db.session
    if scan:
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        session.execute(text("SET LOCAL enable_indexscan = off"))
    began = time.perf_counter()
    page = article_queries.search_articles({"q": query}, "-updated_at", 25, None, with_body=False)
    elapsed = (time.perf_counter() - began) * 1000
    assert len(page.items) <= 25
    session.rollback()
    return elapsed


def measure(app, queries: list[str]) -> dict:
    with app.app_context():
        # What autovacuum does after a bulk load: statistics, and the GIN index's pending
        # list merged (the planner prices the index by it).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE articles"))
        for query in queries[:5]:  # warm the caches and the prepared statements
            timed_search(query, scan=False)
            timed_search(query, scan=True)
        indexed = sorted(timed_search(q, scan=False) for q in queries)
        scanned = sorted(timed_search(q, scan=True) for q in queries)
        sizes = db.session.execute(text(
            "SELECT pg_relation_size('ix_articles_search_text_trgm'), "
            "pg_total_relation_size('articles'), (SELECT count(*) FROM articles)")).one()
        db.session.rollback()
    return {"articles": sizes[2], "index_bytes": sizes[0], "table_bytes": sizes[1],
            "indexed": _percentiles(indexed), "scan": _percentiles(scanned)}


def _percentiles(values: list[float]) -> dict:
    return {"p50": statistics.median(values), "p95": values[int(len(values) * 0.95) - 1],
            "max": values[-1]}


def explain(app, query: str) -> str:
    """The plan's node types for ``query``'s page: whether the trigram index answers it."""
    seen = []

    def capture(_conn, _cursor, statement, parameters, *_args):
        if "LIKE" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            article_queries.search_articles({"q": query}, "-updated_at", 25, None, with_body=False)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {seen[0][0]}", seen[0][1])
        plan = cursor.fetchone()[0]
        db.session.rollback()
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node["Node Type"] + (f" on {node['Index Name']}" if "Index Name" in node else ""))
        stack.extend(reversed(node.get("Plans", [])))
    return " > ".join(nodes)


def run(args, url: str, records: list[dict]) -> list[dict]:
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "CELERY_BROKER_URL": "memory://",
                      "SERVING_REFRESH_SECONDS": 0})
    with app.app_context():
        author_id = users.create_user("search-bench@example.org", Role.EDITOR).id
    queries = draw_queries(records, args.queries)
    rows, loaded = [], 0
    for size in sizes(args.sizes, len(records)):
        seconds = load(app, author_id, records[loaded:size])
        print(f"loaded {size - loaded:,} articles in {seconds:.0f} s "
              f"({(size - loaded) / seconds:.0f}/s)", file=sys.stderr)
        loaded = size
        rows.append(measure(app, queries))
    rows[-1]["plans"] = {q: explain(app, q) for q in (queries[0], queries[2])}
    rows[-1]["queries"] = queries
    return rows


def sizes(spec: str, available: int) -> list[int]:
    wanted = [available if s == "all" else min(int(s), available) for s in spec.split(",")]
    return sorted(set(wanted))


def report(rows: list[dict]) -> None:
    print("| articles | index size | table size | with the index: p50 ms | p95 ms | max ms "
          "| scan: p50 ms | p95 ms | max ms | scan / index (p50) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        i, s = row["indexed"], row["scan"]
        print(f"| {row['articles']:,} | {row['index_bytes'] / 2**20:.1f} MiB | "
              f"{row['table_bytes'] / 2**20:.1f} MiB | {i['p50']:.1f} | {i['p95']:.1f} | "
              f"{i['max']:.1f} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} | "
              f"{s['p50'] / i['p50']:.1f}x |")
    for query, plan in rows[-1]["plans"].items():
        print(f"plan for q={query}: {plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sizes", default="1000,10000,all")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if not list((args.data / "saudinewsnet").glob("*.zip")):
        raise SystemExit(f"no SaudiNewsNet archives under {args.data / 'saudinewsnet'}")
    records = list(corpus(args.data))
    with scratch_database(args.database_url, "masthead_search") as url:
        rows = run(args, url, records)
    print(f"{len(rows[-1]['queries'])} queries (words and two-word phrases from headlines), "
          "each timed once per plan; service level: query and page load, in process")
    report(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
