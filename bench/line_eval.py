"""A line-labelled evaluation of the cleanup on SaudiNewsNet: every line of every article is
labelled body or boilerplate by rules written from reading the corpus (below), then the
cleanup's output is scored against the labels.

    .venv/bin/python bench/line_eval.py [--data ../shared/data] [--limit N] [--sample N]

The labels do not call the cleanup. A line without a letter or digit ("***") is
boilerplate, a line of more than 25 words is body (copy, even in a duplicated article or
when it mentions SMS); a shorter line is boilerplate when:

1. it recurs: its folded text is in at least 3 of its source's articles (site chrome,
   syndication credits, SMS and contact lines, wire markers; read by hand, a short line
   that three articles print is not their copy), unless it is a sentence (five words or
   more ending in a full stop, a question or an exclamation mark): copy that recurs;
   or it is what any news page prints around a story (``CHROME``: a link alone, "for more
   information", "click here", wire end markers, an agency credit alone, "write to the
   author");
2. it is a site habit read in the corpus (``SITE_HABITS``): alweeam's link line before the
   article's own title, WAS's time stamps, 3alyoum's gallery navigation glued to a credit,
   a columnist's contact line with its SMS code;
3. it is a whole credit, byline or dateline line among an article's first three
   (``LEAD_LINE``: "<names> – <outlet>", "<outlet> – <place>"; WAS's "<place> <date> واس"):
   it belongs in the fields, not the body; or a columnist's contact details (an address
   alone, an SMS code line).

A short line above the article's first sentence that is none of these is a heading (a
title, a kicker, a caption), one below its last sentence a trailer (a signature, a
biography, a caption, related links, tags, or closing verse): whether such a line is copy
is a matter of reading each article, so headings and trailers are counted apart and not
scored. Every other line is body. Scored: the share of body lines the cleanup keeps (a line whose
byline/dateline prefix moved to the fields counts as kept when its sentence is in the
body), and the share of boilerplate lines it leaves out of the body; per source and in
all. ``--sample N`` prints N random lines of each label (seeded) to be read by hand: the
labels' precision in the README comes from reading such a sample.
"""

import argparse
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cleanup.engine import clean, line_key, split_lines  # noqa: E402
from app.text import fold  # noqa: E402
from bench.cleanup_eval import learn, load_saudinewsnet  # noqa: E402

SENTENCE = re.compile(r"[.!?؟…]\s*[»\"”)]?\s*$")
WORDS = re.compile(r"\w+")
SITE_HABITS = {
    "alweeam": re.compile(r"^رابط الخبر بصحيف[ةه] الوئام\s*:"),
    "was": re.compile(r"^\d{1,2}:\d{2} ت م( nnnn)?$", re.IGNORECASE),
    "3alyoum": re.compile(r"^next previous\b(\W*\w+){0,10}\W*$", re.IGNORECASE),
    "*": re.compile(r"^للتواصل مع الكاتب"),
}
OUTLETS = r"(عين اليوم|سبق|الوئام|واس|الرياض|عكاظ|المدينة|اليوم|الجزيرة|الوطن|الاقتصادية)"
# What any news page prints around a story, read in this corpus: a link alone, "more
# information:" and "read the whole interview: click here", wire end markers, an agency
# credit alone, "write to the author:".
CHROME = re.compile(r"^(https?://|www\.)\S+$|^للمزيد\b|\b(انقر|اضغط) هن|^[/\s(-]*(انتهي|يتبع)[/\s)-]*$|"
                    r"^\(?(واس|رويترز|ا ف ب|د ب ا|ا ش ا)\)?$|^(لمراسله|لمراسلة) الكاتب", re.IGNORECASE)
# A columnist's contact details: an address alone, or an SMS code line.
CONTACT = re.compile(r"^\S+@\S+\.[a-z]{2,}$|\bsms\b|تبدا بالرمز|^ثم الرساله$", re.IGNORECASE)
SHORT_WORDS = 25  # chrome is short; a longer line holds copy whatever else it holds
# WAS: "<place> 25 شوال 1436 هـ الموافق 10 أغسطس 2015 م واس" (folded).
WIRE_DATELINE = re.compile(r"^[^.!?؟]{2,40}\s\d{1,2}\s+\S+\s+\d{4}\s*ه.{0,4}الموافق.{4,40}واس$")
LEAD_LINE = re.compile(rf"^[^.!?؟:]{{2,60}}\s[-–—ـ]+\s*{OUTLETS}$|^{OUTLETS}\s*[-–—ـ]+\s*[^.!?؟]{{2,40}}$")


def label(line: str, index: int, source: str, count: int, outside: str | None) -> str:
    words = len(WORDS.findall(line))
    if words == 0:
        return "boilerplate"  # a separator: "***", "."
    if words > SHORT_WORDS:
        return "body"  # copy, even when a duplicated article repeats it or it mentions SMS
    if count >= 3 and not _sentence(line):
        return "boilerplate"
    folded = fold(line)
    if CHROME.search(folded) or any(SITE_HABITS[key].search(folded)
                                    for key in (source, "*") if key in SITE_HABITS):
        return "boilerplate"
    if CONTACT.search(folded) or (index < 3 and (LEAD_LINE.match(line) or WIRE_DATELINE.match(folded))):
        return "boilerplate"
    return outside or "body"


def _sentence(line: str) -> bool:
    return bool(SENTENCE.search(line)) and len(WORDS.findall(line)) >= 5


def evaluate(articles: list[dict]) -> tuple[dict, list[tuple], dict]:
    """Per source: [body lines, kept, boilerplate lines, removed]; every labelled line; and
    the unscored headings and trailers: [lines, kept]."""
    learned = learn(articles)  # also how many of its source's articles hold each line
    scores, labelled = defaultdict(lambda: [0, 0, 0, 0]), []
    trailers = {"heading": [0, 0], "trailer": [0, 0]}
    for article in articles:
        source = article["source"]
        result = clean(article["content"], language="ar", learned=learned[source])
        kept = set(result.body_paragraphs) | {r["line"] for r in result.removed
                                              if r["kind"] == "lead" and r["kept"] in result.body_paragraphs}
        lines = split_lines(article["content"])
        sentences = [i for i, line in enumerate(lines) if _sentence(line)] or [len(lines)]
        for index, line in enumerate(lines):
            outside = "heading" if index < sentences[0] else "trailer" if index > sentences[-1] else None
            count = learned[source].counts[line_key(fold(line))]
            truth = label(line, index, source, count, outside)
            score = scores[source]
            if truth in ("heading", "trailer"):
                trailers[truth][0] += 1
                trailers[truth][1] += line in kept
                continue
            if truth == "body":
                score[0] += 1
                score[1] += line in kept
            else:
                score[2] += 1
                score[3] += line not in kept
            labelled.append((truth, source, index, line, line in kept))
    return scores, labelled, trailers


def report(scores: dict) -> None:
    print("| source | body lines | body kept | boilerplate lines | boilerplate removed |")
    print("|---|---:|---:|---:|---:|")
    total = [0, 0, 0, 0]
    for source in sorted(scores):
        total = [a + b for a, b in zip(total, scores[source], strict=True)]
        _row(source, scores[source])
    _row("all", total)


def _row(name: str, score: list[int]) -> None:
    body, kept, boilerplate, removed = score
    print(f"| {name} | {body} | {_share(kept, body)} | {boilerplate} | {_share(removed, boilerplate)} |")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sample", type=int, default=0, help="print N random lines of each label")
    parser.add_argument("--errors", type=int, default=0, help="print N random misclassified lines")
    args = parser.parse_args()
    scores, labelled, unscored = evaluate(load_saudinewsnet(args.data)[:args.limit])
    report(scores)
    print("\nNot scored: " + "; ".join(f"{count:,} {name}s ({kept:,} kept in the body)"
                                       for name, (count, kept) in unscored.items()))
    rng = random.Random(7)
    for truth in ("body", "boilerplate"):
        lines = [item for item in labelled if item[0] == truth]
        wrong = [item for item in lines if item[4] != (truth == "body")]
        for title, chosen in (("sample", rng.sample(lines, min(args.sample, len(lines)))),
                              ("errors", rng.sample(wrong, min(args.errors, len(wrong))))):
            for _truth, source, index, line, kept in chosen:
                print(f"{title} {truth}\t{source}\t{index}\t{'kept' if kept else 'removed'}\t{line[:160]}")


if __name__ == "__main__":
    main()
