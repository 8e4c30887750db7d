"""The bulk import of the SaudiNewsNet corpus into PostgreSQL: `flask import`, cleanup included.

    .venv/bin/python bench/import_bench.py [--data ../shared/data] [--jobs 1,2] [--limit N]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each --jobs value, in turn: a scratch database (dropped afterwards), migrated, with an
admin; then the real command, `flask --app wsgi import <archives> --jobs N` (in-process
cleanup, the default), timed from start to exit. Memory is the peak of the summed resident
set of the command's processes (the parent and its import processes), sampled from /proc
every 0.2 s. --limit takes the first N articles (as one archive) for a quick run.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app, migrate  # noqa: E402
from app.platform import users  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

SUMMARY = re.compile(r"imported: (\d+), duplicates: (\d+), failed: (\d+)")


def archives(data: Path, limit: int | None, folder: Path) -> list[Path]:
    """The corpus's archives, or one archive of its first ``limit`` articles."""
    paths = sorted((data / "saudinewsnet").glob("*.zip"))
    if limit is None:
        return paths
    records = []
    for path in paths:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                records += json.loads(archive.read(name))
        if len(records) >= limit:
            break
    subset = folder / "subset.zip"
    with zipfile.ZipFile(subset, "w") as archive:
        archive.writestr("subset.json", json.dumps(records[:limit], ensure_ascii=False))
    return [subset]


class PeakMemory(threading.Thread):
    """The peak of the summed RSS of a process and its children, from /proc."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, sum(_rss(pid) for pid in [self.pid, *_children(self.pid)]))


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found] + [g for c in found for g in _children(int(c))]


def _rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) * 1024 if match else 0


def run_import(url: str, paths: list[Path], jobs: int) -> dict:
    with create_app({"DATABASE_URL": url}).app_context():
        users.ensure_admin("admin@localhost")
    env = {**os.environ, "DATABASE_URL": url}
    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "import",
               *map(str, paths), "--jobs", str(jobs)]
    began = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    memory = PeakMemory(process.pid)
    memory.start()
    output = process.communicate()[0]
    seconds = time.monotonic() - began
    memory.done.set()
    match = SUMMARY.search(output)
    if process.returncode or match is None:
        raise SystemExit(f"flask import failed ({process.returncode}):\n{output[-2000:]}")
    imported, duplicates, failed = map(int, match.groups())
    total = imported + duplicates + failed
    return {"jobs": jobs, "articles": total, "imported": imported, "duplicates": duplicates,
            "failed": failed, "seconds": seconds, "rate": total / seconds,
            "peak_mib": memory.peak / 2 ** 20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values")
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = archives(args.data.resolve(), args.limit, Path(folder))
        for jobs in map(int, args.jobs.split(",")):
            with scratch_database(args.database_url) as url:
                migrate.upgrade(url)
                rows.append(run_import(url, paths, jobs))
            print(f"--jobs {jobs}: {rows[-1]['seconds']:.0f} s", file=sys.stderr, flush=True)
    print(f"`flask import` of {rows[0]['articles']:,} SaudiNewsNet articles into PostgreSQL "
          f"(in-process cleanup), {os.cpu_count()} cores")
    print("| --jobs | imported | duplicates | failed | time | articles/s | peak RSS (all processes) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        minutes, seconds = divmod(round(row["seconds"]), 60)
        print(f"| {row['jobs']} | {row['imported']:,} | {row['duplicates']:,} | {row['failed']:,} "
              f"| {minutes} min {seconds:02d} s | {row['rate']:.1f} | {row['peak_mib']:.0f} MiB |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
