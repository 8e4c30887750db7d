"""Sources and what the service has learned of them: how often each line recurs."""

from urllib.parse import urlsplit

from sqlalchemy import select

from app.cleanup.engine import Learned, learning_keys
from app.errors import ValidationFailed
from app.extensions import db
from app.models import RawInput, Source, SourceLine, utcnow
from app.platform.uow import batches, upsert

LEARN_MIN_ARTICLES = 3
SOURCE_NAME_MAX = 200
# A page can hold hundreds of thousands of distinct lines; one statement for all of them
# would pass PostgreSQL's 65,535 bind parameters (SQLite's 32,766). Rows are written and
# looked up in batches far inside both: 1,000 rows of 5 columns, 1,000 keys.
BATCH = 1000


def source_for(name: str | None, url: str | None) -> Source:
    """The source named ``name`` (or by the URL's host), created on first use."""
    name = (name or (urlsplit(url).hostname if url else None) or "").strip().lower()
    if len(name) > SOURCE_NAME_MAX:
        raise ValidationFailed("The source name is too long.", errors=[{
            "location": "json", "field": "/source",
            "message": f"At most {SOURCE_NAME_MAX} characters."}])
    if not name:
        raise ValidationFailed("Name the source (source.name) or give its URL.", errors=[
            {"location": "json", "field": "/source", "message": "A name or a URL is required."}])
    source = db.session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, base_url=url)
        db.session.add(source)
        db.session.flush()
    return source


def page_lines(folded_lines: list[str]) -> list[tuple[str, str]]:
    """A page's distinct lines and templates as (key, sample), in key order: the order they
    are learned in (concurrent imports of one source lock its line rows in the same order)."""
    return sorted((key, sample[:500]) for key, sample in learning_keys(folded_lines).items())


def learn_next_batch(raw: RawInput, page: list[tuple[str, str]]) -> bool:
    """Count the next BATCH of ``page``'s lines (``raw`` row-locked by the caller); True
    once all are, when the import has taught its source (exactly once: the count and the
    progress commit together)."""
    if raw.learned:
        return True
    lines = page[raw.learned_lines:raw.learned_lines + BATCH]
    if lines:
        _count_lines(raw.source_id, dict(lines), utcnow())
        raw.learned_lines += len(lines)
    if raw.learned_lines < len(page):
        return False
    source = db.session.get(Source, raw.source_id, with_for_update=True)
    source.article_count += 1
    raw.learned = True
    return True


def _count_lines(source_id: str, samples: dict[str, str], now) -> None:
    """One upsert statement, compiled once and executed for many rows (executemany), in
    key order: two imports of one source lock its rows in the same order (no deadlock)."""
    statement = upsert(SourceLine)
    statement = statement.on_conflict_do_update(
        index_elements=[SourceLine.source_id, SourceLine.line_key],
        set_={"article_count": SourceLine.article_count + 1,
              "last_seen_at": statement.excluded.last_seen_at},
    )
    rows = [{"source_id": source_id, "line_key": key, "sample": sample, "article_count": 1,
             "last_seen_at": now} for key, sample in sorted(samples.items())]
    db.session.connection().execute(statement, rows)


def learned_for(source_id: str, lines: list[str], *, folded: bool = True) -> Learned:
    """How often the source's articles had each of ``lines`` and their templates (folded
    lines, or the keys of ``page_lines`` with ``folded=False``)."""
    source = db.session.get(Source, source_id)
    counts = {}
    for keys in batches(sorted(learning_keys(lines) if folded else set(lines)), BATCH):
        counts.update(db.session.execute(
            select(SourceLine.line_key, SourceLine.article_count).where(
                SourceLine.source_id == source_id, SourceLine.line_key.in_(keys))).all())
    return Learned(articles=source.article_count, counts=counts, min_articles=LEARN_MIN_ARTICLES)


def learned_once_taught(raw: RawInput, page: list[tuple[str, str]]) -> Learned:
    """What the source will know once ``raw`` has taught it: the counts as they are, plus
    this page's lines not counted yet. The same as learning and then reading in one
    transaction, without holding a write transaction while a big page is classified."""
    keys = [key for key, _sample in page]
    learned = learned_for(raw.source_id, keys, folded=False)
    if raw.learned:
        return learned
    counted = set(keys[:raw.learned_lines])  # by an attempt that stopped half-way
    counts = {key: learned.counts.get(key, 0) + (key not in counted) for key in keys}
    return Learned(articles=learned.articles + 1, counts=counts, min_articles=learned.min_articles)
