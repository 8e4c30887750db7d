"""Write articles.json: the example front page's 20 stories, taken from the shared data.

English: ten real Upworthy headline tests (the Upworthy Research Archive, CC BY 4.0), two
of each test's real headlines, and the test's recorded numbers. Arabic: ten real
SaudiNewsNet articles (CC BY-NC-SA 4.0), one a site, with the title as one headline and
the lede's first clause as the other, and the first paragraphs as the body. The choice is
deterministic: run it again on the same data and the file is the same.

    python examples/front-page/make_articles.py [--data ../shared/data]
"""

import argparse
import csv
import gzip
import json
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPWORTHY_BROKEN_WEEKS = range(201326, 201403)  # randomisation broken by a caching bug then
SAUDI_DAY = "2015-08-10"
SAUDI_SITES = ("alriyadh", "was", "almadina", "aljazirah", "alyaum", "aleqtisadiya", "okaz",
               "alwatan", "aawsat", "3alyoum")
EACH = 10


def _folded(text: str) -> str:
    return re.sub(r"\W+", "", text).casefold()


def upworthy(data: Path) -> list[dict]:
    tests: dict[str, list[dict]] = {}
    archive = data / "upworthy" / "upworthy-exploratory-packages.csv.gz"
    with gzip.open(archive, "rt", encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            tests.setdefault(row["clickability_test_id"], []).append(row)
    stories, used = [], set()
    for test_id, arms in tests.items():
        pair = _distinct_pair(arms)
        if int(arms[0]["test_week"]) in UPWORTHY_BROKEN_WEEKS or pair is None:
            continue
        folded = {_folded(arm["headline"]) for arm in pair}
        if used & folded:
            continue  # one headline per front page: some tests reused another's
        used |= folded
        stories.append(_upworthy_story(test_id, pair))
        if len(stories) == EACH:
            return stories
    raise SystemExit("not enough Upworthy tests")


def _distinct_pair(arms: list[dict]) -> tuple[dict, dict] | None:
    first = arms[0]
    for other in arms[1:]:
        if _folded(other["headline"]) != _folded(first["headline"]):
            short = all(len(arm["headline"]) <= 110 for arm in (first, other))
            return (first, other) if short else None
    return None


def _upworthy_story(test_id: str, pair: tuple[dict, dict]) -> dict:
    numbers = "; ".join(f"“{arm['headline']}”: {arm['clicks']} clicks from {arm['impressions']} "
                        "impressions" for arm in pair)
    return {
        "language": "en", "headlines": [arm["headline"] for arm in pair],
        "body": f"An example story for the Masthead front-page snippet. Its two headlines come from "
                f"Upworthy headline test {test_id} (week {pair[0]['test_week']}). In that test: "
                f"{numbers}.",
        "source": f"Upworthy Research Archive, test {test_id} (CC BY 4.0)",
    }


def saudinewsnet(data: Path) -> list[dict]:
    with zipfile.ZipFile(data / "saudinewsnet" / f"{SAUDI_DAY}.zip") as archive:
        articles = json.loads(archive.read(f"{SAUDI_DAY}.json"))
    stories = []
    for site in SAUDI_SITES:
        story = next(filter(None, (_saudi_story(a) for a in articles if a["source"] == site)), None)
        if story is None:
            raise SystemExit(f"no usable {site} article on {SAUDI_DAY}")
        stories.append(story)
    return stories


def _saudi_story(article: dict) -> dict | None:
    title = " ".join(article["title"].split())
    paragraphs = [" ".join(p.split()) for p in article["content"].split("\n")]
    paragraphs = [p for p in paragraphs if len(p.split()) >= 12]
    if not 5 <= len(title.split()) <= 14 or len(paragraphs) < 2:
        return None
    lede = _lede_headline(paragraphs[0])
    if lede is None or _folded(lede) == _folded(title):
        return None
    return {"language": "ar", "headlines": [title, lede], "body": "\n\n".join(paragraphs[:3]),
            "source": f"SaudiNewsNet, {article['source']}, {article['url']} (CC BY-NC-SA 4.0)"}


def _lede_headline(paragraph: str) -> str | None:
    """The lede's first clause, without a leading dateline ("الرياض - واس:" and the like)."""
    text = re.sub(r"^[^:–\-]{0,40}[:–\-]\s*", "", paragraph)
    clause = re.split(r"[،,.؛:(\"“]", text)[0].split()
    return " ".join(clause) if 6 <= len(clause) <= 16 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    data = parser.parse_args().data
    stories = [item for pair in zip(saudinewsnet(data), upworthy(data), strict=True) for item in pair]
    (HERE / "articles.json").write_text(json.dumps(stories, ensure_ascii=False, indent=1) + "\n",
                                        encoding="utf-8")
    print(f"wrote {len(stories)} stories to {HERE / 'articles.json'}")


if __name__ == "__main__":
    main()
