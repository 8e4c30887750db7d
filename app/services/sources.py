"""Sources and what the service has learned of them: how often each line recurs."""

from urllib.parse import urlsplit

from sqlalchemy import select

from app.cleanup.engine import Learned, line_key
from app.errors import ValidationFailed
from app.extensions import db
from app.models import RawInput, Source, SourceLine, utcnow
from app.services.uow import upsert

LEARN_MIN_ARTICLES = 3
SOURCE_NAME_MAX = 200


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


def learn(raw: RawInput, folded_lines: list[str]) -> None:
    """Count this import's distinct lines for its source, once per raw input."""
    if raw.learned:
        return
    samples = {line_key(f): f for f in folded_lines}
    if samples:
        rows = [{"source_id": raw.source_id, "line_key": key, "sample": samples[key][:500],
                 "article_count": 1, "last_seen_at": utcnow()} for key in sorted(samples)]
        statement = upsert(SourceLine).values(rows)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[SourceLine.source_id, SourceLine.line_key],
            set_={"article_count": SourceLine.article_count + 1,
                  "last_seen_at": statement.excluded.last_seen_at},
        ))
    source = db.session.get(Source, raw.source_id, with_for_update=True)
    source.article_count += 1
    raw.learned = True


def learned_for(source_id: str, folded_lines: list[str]) -> Learned:
    keys = sorted({line_key(f) for f in folded_lines})
    source = db.session.get(Source, source_id)
    counts = dict(db.session.execute(
        select(SourceLine.line_key, SourceLine.article_count).where(
            SourceLine.source_id == source_id, SourceLine.line_key.in_(keys))
    ).all()) if keys else {}
    return Learned(articles=source.article_count, counts=counts, min_articles=LEARN_MIN_ARTICLES)
