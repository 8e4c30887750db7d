"""Quick versions of every benchmark in bench/, one after another, and one table (`make bench`).

    .venv/bin/python bench/quick.py [--data ../shared/data] [--only http,search,import,...]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--redis-url redis://127.0.0.1:6379] [--logs DIR]

Each benchmark runs as its committed script with small settings (seconds, not minutes;
the full runs and their method are in docs/benchmarks.md). A benchmark whose
prerequisites are missing (PostgreSQL, Redis, wrk, the data under --data) is skipped with
the reason; one that fails is reported with its exit status and the run exits 1, so a
benchmark that no longer runs shows as a failure. Every ratio is to a bare anchor
measured by the same script in the same run. Each script's full output is kept in
--logs.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


PYTHON = sys.executable


@dataclass
class Row:
    bench: str
    case: str
    result: str
    ratio: str = ""


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    failed: bool = False


def markdown_table(text: str, first_header: str) -> list[dict[str, str]]:
    """The rows of the first markdown table whose first header cell is ``first_header``."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        cells = _cells(line)
        if cells and cells[0] == first_header:
            rows = []
            for row_line in lines[index + 2:]:
                if not row_line.startswith("|"):
                    break
                rows.append(dict(zip(cells, _cells(row_line), strict=False)))
            return rows
    return []


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []


def summarise(rows: list[dict[str, str]], bench: str, columns: tuple[str, ...],
              ratio_header: str | None) -> list[Row]:
    """One Row per table row: its first cell, and the cells whose headers are ``columns``
    as 'value header' (the first three if the script's table no longer has them)."""
    out = []
    for row in rows:
        headers = list(row)
        wanted = [h for h in headers[1:] if h in columns] or \
            [h for h in headers[1:] if h != ratio_header][:3]
        shown = [f"{row[h]} {h}" for h in wanted]
        ratio = row.get(ratio_header, "") if ratio_header else ""
        out.append(Row(bench, row[headers[0]], ", ".join(shown), ratio))
    return out


class Runner:
    def __init__(self, args) -> None:
        self.args = args
        self.logs = args.logs
        self.logs.mkdir(parents=True, exist_ok=True)

    def script(self, name: str, argv: list[str], timeout: float) -> tuple[int, str, float]:
        """Run bench/<name>.py; (exit status, stdout, seconds). Output kept in the logs."""
        began = time.monotonic()
        try:
            done = subprocess.run([PYTHON, str(ROOT / "bench" / f"{name}.py"), *argv], cwd=ROOT,
                                  capture_output=True, text=True, timeout=timeout)
            status, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as error:
            status, out = -1, _text(error.stdout)
            err = _text(error.stderr) + f"\ntimed out after {timeout} s"
        (self.logs / f"{name}.txt").write_text(f"$ {name} {' '.join(argv)}\n{out}\n--- stderr\n{err}")
        return status, out, time.monotonic() - began

    def failure(self, bench: str, status: int) -> Outcome:
        return Outcome([Row(bench, "FAILED", f"exit {status}; see {self.logs / (bench + '.txt')}")], True)


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


def skipped(bench: str, reason: str) -> Outcome:
    return Outcome([Row(bench, "skipped", reason)])


# --- the benchmarks -------------------------------------------------------------------------


def http_overhead(runner: Runner, services: dict) -> Outcome:
    json_path = runner.logs / "http_overhead.json"
    argv = ["--rounds", "2", "--requests", "200", "--data", str(runner.args.data),
            "--json", str(json_path)]
    server = services.get("postgresql")
    database = ["--database-url", server] if server else []  # it makes its scratch database
    status, _out, _ = runner.script("http_overhead", argv + database, 900)
    if status != 0:
        return runner.failure("http_overhead", status)
    backend = "PostgreSQL" if services.get("postgresql") else "SQLite (PostgreSQL not reachable)"
    rows = [Row(f"http_overhead ({backend})", r["case"],
                f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms",
                f"{r['vs_bare']:.2f}" if r["anchor"] else "anchor")
            for r in json.loads(json_path.read_text())]
    return Outcome(rows)


def experiment_load(runner: Runner, services: dict) -> Outcome:
    missing = _missing(services, "postgresql", "redis", "wrk")
    if missing:
        return skipped("experiment_load", missing)
    status, out, _ = runner.script("experiment_load", [
        "--rounds", "1", "--duration", "3", "--database-url", services["postgresql"]], 900)
    if status != 0:
        return runner.failure("experiment_load", status)
    rows = summarise(markdown_table(out, "endpoint"), "experiment_load",
                     ("items/s", "p99 ms (full load)", "p99 ms at half rate"), "vs bare")
    flushed = re.search(r"equal: (\w+)", out)
    rows.append(Row("experiment_load", "events flushed == accepted", flushed.group(1) if flushed else "?"))
    return Outcome(rows)


def publishing_load(runner: Runner, services: dict) -> Outcome:
    missing = _missing(services, "postgresql", "redis")
    if missing:
        return skipped("publishing_load", missing)
    status, out, _ = runner.script("publishing_load", [
        "--outlets", "1,10", "--articles", "10", "--one-at-a-time", "3", "--check-delays-ms", "",
        "--database-url", services["postgresql"], "--redis-url", services["redis"] + "/9",
        "--data", str(runner.args.data)], 900)
    if status != 0:
        return runner.failure("publishing_load", status)
    columns = ("deliveries/s (1 worker)", "publish->2xx median ms", "p95 ms")
    rows = summarise(markdown_table(out, "outlets"), "publishing_load (outlets)", columns, None)
    for row in rows:  # two columns are named "p95 ms" (burst, one at a time): a row keeps the later
        row.result = row.result.replace("p95 ms", "p95 ms (one at a time)")
    return Outcome(rows)


def cleanup_eval(runner: Runner, _services: dict) -> Outcome:
    data = runner.args.data
    saudinewsnet = list((data / "saudinewsnet").glob("*.zip"))
    if not (data / "zyte-article-extraction").is_dir() or not saudinewsnet:
        return skipped("cleanup_eval", f"no Zyte or SaudiNewsNet data under {data}")
    status, out, _ = runner.script("cleanup_eval", ["--data", str(data), "--limit", "100"], 900)
    if status != 0:
        return runner.failure("cleanup_eval", status)
    rows = summarise(markdown_table(out, "extractor"), "cleanup_eval (Zyte, first 100 pages)",
                     ("F1", "docs/s"), None)
    # The script's own sentences: a row goes missing (and shows it) if their wording changes.
    speed = re.search(r"SaudiNewsNet: (\d+) articles, cleanup (\d+) docs per CPU second", out)
    plain = re.search(r"Masthead (\d+) docs per CPU second, jusText (\d+) docs per CPU second", out)
    rows.append(Row("cleanup_eval (SaudiNewsNet)", f"{speed.group(1)} articles",
                    f"{speed.group(2)} docs per CPU second") if speed else
                Row("cleanup_eval (SaudiNewsNet)", "missing", "no speed line in the output"))
    if plain:
        rows.append(Row("cleanup_eval (plain text)", "Masthead / jusText, same articles",
                        f"{plain.group(1)} / {plain.group(2)} docs per CPU second",
                        f"{int(plain.group(1)) / int(plain.group(2)):.1f}x jusText"))
    return Outcome(rows)


def _corpus_on_postgresql(runner: Runner, services: dict) -> str:
    """Why a benchmark of the SaudiNewsNet corpus on PostgreSQL cannot run, or ""."""
    missing = _missing(services, "postgresql")
    if not missing and not list((runner.args.data / "saudinewsnet").glob("*.zip")):
        missing = f"no SaudiNewsNet archives under {runner.args.data}"
    return missing


def search(runner: Runner, services: dict) -> Outcome:
    missing = _corpus_on_postgresql(runner, services)
    if missing:
        return skipped("search_bench", missing)
    json_path = runner.logs / "search_bench.json"
    status, _out, _ = runner.script("search_bench", [
        "--sizes", "1000", "--queries", "20", "--data", str(runner.args.data),
        "--database-url", services["postgresql"], "--json", str(json_path)], 900)
    if status != 0:
        return runner.failure("search_bench", status)
    rows = []
    for row in json.loads(json_path.read_text()):
        index, scan = row["indexed"], row["scan"]
        size = row["index_bytes"] / 2**20
        rows.append(Row("search_bench (q=, PostgreSQL)", f"{row['articles']:,} articles",
                        f"p50 {index['p50']:.1f} ms, p95 {index['p95']:.1f} ms with the trigram "
                        f"index ({size:.1f} MiB); scan p50 {scan['p50']:.1f} ms",
                        f"{scan['p50'] / index['p50']:.1f}x faster than the scan"))
    return Outcome(rows)


def bulk_import(runner: Runner, services: dict) -> Outcome:
    missing = _corpus_on_postgresql(runner, services)
    if missing:
        return skipped("import_bench", missing)
    json_path = runner.logs / "import_bench.json"
    status, _out, _ = runner.script("import_bench", [
        "--limit", "1000", "--jobs", "1,2", "--data", str(runner.args.data),
        "--database-url", services["postgresql"], "--json", str(json_path)], 900)
    if status != 0:
        return runner.failure("import_bench", status)
    rows = json.loads(json_path.read_text())
    return Outcome([Row("import_bench (flask import, PostgreSQL)",
                        f"{row['articles']:,} articles, --jobs {row['jobs']}",
                        f"{row['rate']:.1f} articles/s, peak RSS {row['peak_mib']:.0f} MiB",
                        f"{row['rate'] / rows[0]['rate']:.2f}x --jobs {rows[0]['jobs']}")
                    for row in rows])


BENCHES = {"http": http_overhead, "serving": experiment_load, "publishing": publishing_load,
           "cleanup": cleanup_eval, "search": search, "import": bulk_import}


# --- prerequisites -------------------------------------------------------------------------


def _missing(services: dict, *needed: str) -> str:
    absent = [name for name in needed if not services.get(name)]
    return f"needs {', '.join(absent)} (not reachable or not installed)" if absent else ""


def probe_services(args) -> dict:
    services = {"wrk": shutil.which("wrk")}
    try:
        from sqlalchemy import create_engine, text
        engine = create_engine(args.database_url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        services["postgresql"] = args.database_url
    except Exception as error:  # any reason it cannot be used: the row says skipped
        print(f"PostgreSQL at {args.database_url}: {type(error).__name__}", file=sys.stderr)
    try:
        import redis
        redis.Redis.from_url(args.redis_url, socket_connect_timeout=3).ping()
        services["redis"] = args.redis_url.rstrip("/")
    except Exception as error:
        print(f"Redis at {args.redis_url}: {type(error).__name__}", file=sys.stderr)
    return services


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--only", default=",".join(BENCHES), help=f"some of: {', '.join(BENCHES)}")
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.mkdtemp(prefix="masthead-bench-")))
    args = parser.parse_args()
    args.data = args.data.resolve()
    services = probe_services(args)
    runner, outcomes = Runner(args), []
    for name in args.only.split(","):
        began = time.monotonic()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        outcomes.append(BENCHES[name](runner, services))
        print(f"  {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    print(f"\nQuick benchmarks (ratios: to the bare anchor of the same script, same run); "
          f"full outputs in {args.logs}")
    print("| benchmark | case | result | vs anchor (same run) |")
    print("|---|---|---|---:|")
    for row in (row for outcome in outcomes for row in outcome.rows):
        print(f"| {row.bench} | {row.case} | {row.result} | {row.ratio} |")
    sys.exit(1 if any(outcome.failed for outcome in outcomes) else 0)


if __name__ == "__main__":
    main()
