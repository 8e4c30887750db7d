"""Cleanup quality and speed, side by side with trafilatura and jusText, in one run.

    .venv/bin/python bench/cleanup_eval.py [--data ../shared/data] [--limit N]

1. Zyte article-extraction benchmark (181 HTML pages with ground-truth bodies): shingle
   precision / recall / F1 of the extracted body (the benchmark's own method: 4-word
   shingles over lower-cased word tokens, mean precision and recall over documents) and
   documents per second, for trafilatura alone (its defaults), jusText alone, and Masthead's
   pipeline (one parse: the title and trafilatura's fast extraction with tables from the same
   tree, then Masthead's line cleanup). The pages are timed in turn, page by page.
2. SaudiNewsNet (31,030 Arabic articles): learn each source's line statistics from the
   corpus, then clean every article. Reported per source: the share of recurring lines
   removed (lines found in at least 1% of the source's articles and in at least 5 of them:
   footers, SMS lines, wire markers, bylines) and the share of long body lines kept
   (lines of 20 or more words found in only one article of the source: real copy). Plus
   documents per second for the cleanup function on the whole corpus, and the lines
   removed as instances of a learned template (a prefix or a numbered line the source's
   statistics hold, whose whole text is unique).
3. Plain-text speed beside jusText: every 10th SaudiNewsNet article cleaned by Masthead
   (with its source's statistics) and by jusText (each line a paragraph, its Arabic
   stoplist), article by article in turn, in CPU seconds.
"""

import argparse
import gzip
import html
import json
import os
import re
import statistics
import sys
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import justext  # noqa: E402
import trafilatura  # noqa: E402

from app.cleanup.engine import Learned, clean, learning_keys, line_key, split_lines  # noqa: E402
from app.cleanup.extract import extract_html  # noqa: E402
from app.text import fold  # noqa: E402

TOKENS = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = 4) -> Counter:
    tokens = TOKENS.findall((text or "").lower())
    return Counter(tuple(tokens[i:i + size]) for i in range(max(len(tokens) - size + 1, 1)))


def precision_recall(predicted: str, truth: str) -> tuple[float, float]:
    p, t = shingles(predicted), shingles(truth)
    overlap = sum((p & t).values())
    return (overlap / sum(p.values()) if p else 0.0), (overlap / sum(t.values()) if t else 0.0)


def run_trafilatura(html: str) -> str:
    return trafilatura.extract(html, include_comments=False, include_tables=False) or ""


def run_justext(html: str) -> str:
    paragraphs = justext.justext(html, justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def run_masthead(html: str) -> str:
    try:
        extracted = extract_html(html.encode("utf-8"), None)
    except ValueError:
        return ""
    result = clean(extracted.text, extra_headlines=(extracted.title or "",), find_headlines=False)
    return "\n".join(result.body_paragraphs)


def zyte(data: Path, limit: int | None) -> list[tuple]:
    truth = json.loads((data / "zyte-article-extraction" / "ground-truth.json").read_text())
    pages = sorted(truth)[:limit]
    htmls = {k: gzip.decompress((data / "zyte-article-extraction" / "html" / f"{k}.html.gz")
                                .read_bytes()).decode("utf-8", errors="replace") for k in pages}
    extractors = (("trafilatura", run_trafilatura), ("jusText", run_justext),
                  ("Masthead (trafilatura + line cleanup)", run_masthead))
    # Page by page, each extractor in turn: on a shared, loaded machine a slow spell then
    # falls on all of them alike instead of on whichever ran during it.
    scores, elapsed = defaultdict(list), Counter()
    for key in pages:
        for name, extractor in extractors:
            began = time.perf_counter()
            output = extractor(htmls[key])
            elapsed[name] += time.perf_counter() - began
            scores[name].append(precision_recall(output, truth[key]["articleBody"]))
    rows = []
    for name, _extractor in extractors:
        precision = statistics.mean(s[0] for s in scores[name])
        recall = statistics.mean(s[1] for s in scores[name])
        f1 = 2 * precision * recall / (precision + recall)
        rows.append((name, precision, recall, f1, len(pages) / elapsed[name]))
    return rows


def load_saudinewsnet(data: Path) -> list[dict]:
    articles = []
    for archive in sorted((data / "saudinewsnet").glob("*.zip")):
        with zipfile.ZipFile(archive) as zipped:
            articles += json.loads(zipped.read(zipped.namelist()[0]))
    return articles


def learn(articles: list[dict]) -> dict[str, Learned]:
    learned: dict[str, Learned] = defaultdict(Learned)
    for article in articles:
        stats = learned[article["source"]]
        stats.articles += 1
        for key in learning_keys([fold(line) for line in split_lines(article["content"])]):
            stats.counts[key] = stats.counts.get(key, 0) + 1
    return learned


def saudinewsnet(data: Path, limit: int | None) -> tuple[list[tuple], tuple[float, float],
                                                         dict[str, Learned], list[dict]]:
    """The per-source table, (docs per CPU second, per second), and the statistics and
    articles it was computed on."""
    articles = load_saudinewsnet(data)[:limit]
    learned = learn(articles)
    recurring, long_lines = Counter(), Counter()
    removed_recurring, kept_long = Counter(), Counter()
    began, began_cpu = time.perf_counter(), time.process_time()
    results = [clean(a["content"], language="ar", learned=learned[a["source"]]) for a in articles]
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    templates = Counter()
    for article, result in zip(articles, results, strict=True):
        stats, source = learned[article["source"]], article["source"]
        templates[source] += sum(d.rule.startswith("learned:template") for d in result.decisions)
        # A line whose byline/dateline prefix moved to its fields is kept if its sentence is.
        body = set(result.body_paragraphs) | {r["line"] for r in result.removed
                                              if r["kind"] == "lead" and r["kept"] in result.body_paragraphs}
        for line in split_lines(article["content"]):
            count = stats.counts[line_key(fold(line))]
            if count >= 5 and count >= 0.01 * stats.articles:
                recurring[source] += 1
                removed_recurring[source] += line not in body
            elif count == 1 and len(TOKENS.findall(line)) >= 20:
                long_lines[source] += 1
                kept_long[source] += line in body
    rows = [(source, learned[source].articles, recurring[source],
             removed_recurring[source] / recurring[source] if recurring[source] else None,
             long_lines[source], kept_long[source] / long_lines[source] if long_lines[source] else None,
             templates[source])
            for source in sorted(learned)]
    rows.append(("all", len(articles), sum(recurring.values()),
                 sum(removed_recurring.values()) / max(sum(recurring.values()), 1),
                 sum(long_lines.values()), sum(kept_long.values()) / max(sum(long_lines.values()), 1),
                 sum(templates.values())))
    return rows, (len(articles) / cpu, len(articles) / elapsed), learned, articles


def plain_text_speed(articles: list[dict], learned: dict[str, Learned],
                     every: int = 10) -> dict[str, float]:
    """Documents per CPU second of Masthead's cleanup and of jusText (each line a paragraph
    of a minimal page, its Arabic stoplist) on the same articles (every ``every``-th),
    article by article in turn."""
    sample = articles[::every]
    stoplist = justext.get_stoplist("Arabic")
    tools = {
        "Masthead": lambda a: clean(a["content"], language="ar", learned=learned[a["source"]]),
        "jusText": lambda a: justext.justext(_as_page(a["content"]), stoplist),
    }
    cpu = Counter()
    for article in sample:
        for name, tool in tools.items():
            began = time.process_time()
            tool(article)
            cpu[name] += time.process_time() - began
    return {name: len(sample) / cpu[name] for name in tools}


def _as_page(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in split_lines(text))
    return f"<html><body>{paragraphs}</body></html>"


def percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None, help="first N documents of each set")
    args = parser.parse_args()

    print("Zyte article-extraction benchmark")
    print("| extractor | precision | recall | F1 | docs/s |")
    print("|---|---:|---:|---:|---:|")
    for name, precision, recall, f1, speed in zyte(args.data, args.limit):
        print(f"| {name} | {precision:.3f} | {recall:.3f} | {f1:.3f} | {speed:.1f} |")

    rows, (per_cpu_second, per_second), learned, corpus = saudinewsnet(args.data, args.limit)
    print(f"\nSaudiNewsNet: {len(corpus)} articles, cleanup {per_cpu_second:.0f} docs per CPU second "
          f"on one core ({per_second:.0f} docs/s wall clock; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    print("| source | articles | recurring lines | recurring removed | long body lines | long lines kept "
          "| removed as templates |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for source, articles, recurring, removed, long_lines, kept, templates in rows:
        print(f"| {source} | {articles} | {recurring} | {percent(removed)} | {long_lines} "
              f"| {percent(kept)} | {templates} |")

    speeds = plain_text_speed(corpus, learned)
    print(f"\nPlain text, the same {len(corpus[::10])} articles (every 10th), in turn: "
          + ", ".join(f"{name} {speed:.0f} docs per CPU second" for name, speed in speeds.items())
          + f" (Masthead / jusText: {speeds['Masthead'] / speeds['jusText']:.1f}x)")


if __name__ == "__main__":
    main()
