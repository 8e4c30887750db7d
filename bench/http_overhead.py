"""Masthead's endpoints against a bare Flask endpoint, side by side, under the same gunicorn.

    .venv/bin/python bench/http_overhead.py [--data ../shared/data] [--database-url URL]
        [--rounds 5] [--requests 400] [--concurrency 4]

Both servers run at once with the same gunicorn settings; rounds alternate between them so
that machine noise hits both alike. Each round sends --requests requests from --concurrency
client threads over keep-alive connections. Reported: per-endpoint median over rounds of
the throughput and of the p50/p99 latency, and the ratio to the bare endpoint.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def load_articles(data: Path, count: int = 50) -> list[dict]:
    """Real Arabic articles from SaudiNewsNet, or the test fixtures when the data is absent."""
    archives = sorted((data / "saudinewsnet").glob("*.zip"))
    if not archives:
        return json.loads((ROOT / "tests/fixtures/saudinewsnet_sample.json").read_text())
    with zipfile.ZipFile(archives[0]) as archive:
        articles = json.loads(archive.read(archive.namelist()[0]))
    return [a for a in articles if a["title"] and a["content"]][:count]


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


def load(port: int, method: str, paths: list[str], headers: dict, body_for, total: int,
         concurrency: int) -> dict:
    """Send ``total`` requests with ``concurrency`` threads; return throughput and latencies."""
    def worker(start_index: int) -> list[float]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        for i in range(start_index, total, concurrency):
            began = time.perf_counter()
            connection.request(method, paths[i % len(paths)], body=body_for(i), headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status < 300, (response.status, paths[i % len(paths)])
            latencies.append(time.perf_counter() - began)
        connection.close()
        return latencies

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(x for chunk in pool.map(worker, range(concurrency)) for x in chunk)
    elapsed = time.perf_counter() - began
    return {"rps": total / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000}


def prepare(port: int, token: str, articles: list[dict]) -> list[str]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ids = []
    for item in articles:
        body = json.dumps({"language": "ar", "headline": item["title"], "body": item["content"],
                           "source_name": item["source"]}).encode()
        status, payload, _ = call(port, "POST", "/v1/articles", headers, body)
        assert status == 201, payload
        ids.append(json.loads(payload)["id"])
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="masthead-bench-"))
    env = {**os.environ, "MASTHEAD_INSTANCE_DIR": str(workdir), "LOG_LEVEL": "WARNING",
           "CELERY_BROKER_URL": "memory://",
           "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}"}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    created = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "users", "create", "--role",
                              "editor", f"bench-{os.getpid()}@example.org"], cwd=ROOT, env=env,
                             check=True, capture_output=True, text=True).stdout
    token = created.split("API token (shown once): ")[1].strip()

    ours = start(gunicorn("wsgi:app", 8601, args.workers), env, 8601)
    try:
        ids = prepare(8601, token, load_articles(args.data))
        _status, sample, _ = call(8601, "GET", f"/v1/articles/{ids[0]}",
                                 {"Authorization": f"Bearer {token}"})
        (workdir / "doc.json").write_bytes(sample)
        bare_env = {**env, "BENCH_BARE_DOCUMENT": str(workdir / "doc.json"),
                    "PYTHONPATH": str(ROOT / "bench")}
        bare = start(gunicorn("bare_app:app", 8602, args.workers), bare_env, 8602)
        try:
            report(run_rounds(args, token, ids), args, len(sample))
        finally:
            bare.terminate()
    finally:
        ours.terminate()


def run_rounds(args, token: str, ids: list[str]) -> dict[str, list[dict]]:
    auth = {"Authorization": f"Bearer {token}"}
    write = {**auth, "Content-Type": "application/json"}
    new_article = json.dumps({"language": "ar", "headline": "عنوان", "body": "نص " * 200}).encode()
    cases = {
        "bare Flask GET (same JSON)": (8602, "GET", ["/doc"], {}, lambda i: None),
        "GET /v1/articles/{id}": (8601, "GET", [f"/v1/articles/{i}" for i in ids], auth,
                                  lambda i: None),
        "GET /v1/articles?limit=25": (8601, "GET", ["/v1/articles?limit=25"], auth,
                                      lambda i: None),
        "GET /v1/articles?q=...": (8601, "GET", ["/v1/articles?q=%D8%A7%D9%84%D9%85%D9%85%D9%84%D9%83%D8%A9"],
                                   auth, lambda i: None),
        "POST /v1/articles": (8601, "POST", ["/v1/articles"], write, lambda i: new_article),
    }
    results: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (port, method, paths, headers, body_for) in cases.items():
            results[name].append(load(port, method, paths, headers, body_for, args.requests,
                                      args.concurrency))
    return results


def report(results: dict[str, list[dict]], args, document_bytes: int) -> None:
    def median(name, key):
        return statistics.median(r[key] for r in results[name])

    base = median("bare Flask GET (same JSON)", "rps")
    print(f"gunicorn sync, {args.workers} workers; {args.concurrency} client threads; "
          f"{args.requests} requests x {args.rounds} rounds; article JSON {document_bytes} B")
    print("| endpoint | req/s (median) | p50 ms | p99 ms | throughput vs bare |")
    print("|---|---:|---:|---:|---:|")
    for name in results:
        rps = median(name, "rps")
        print(f"| {name} | {rps:.0f} | {median(name, 'p50'):.1f} | {median(name, 'p99'):.1f} "
              f"| {rps / base:.2f} |")


if __name__ == "__main__":
    main()
