"""Import use cases: accept raw copy, find duplicates, queue cleanup, re-run, restore."""

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.cleanup.extract import parse_content_type
from app.editorial import articles, audit, sources
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import CleanupRun, RawInput, RevisionOrigin, RunStatus, User
from app.platform import task_names
from app.platform.jobs import enqueue
from app.platform.uow import transaction

SUPPORTED_TYPES = ("text/plain", "text/html", "application/xhtml+xml")


def create_import(actor: User, content: bytes, content_type: str, *, source_name: str | None,
                  source_url: str | None, language: str | None,
                  enqueue_cleanup: bool = True) -> tuple[RawInput, bool]:
    """Store the bytes and a draft, queue the cleanup. Returns (import, created): the same
    bytes for the same source are the existing import while its draft exists.

    ``enqueue_cleanup=False`` leaves the queued run for the caller to execute in-process
    (the bulk import CLI without workers)."""
    content_type = _normalised_content_type(content_type)
    digest = hashlib.sha256(content).hexdigest()
    try:
        with transaction():
            source = sources.source_for(source_name, source_url)
            existing = _current_import(source.id, digest)
            if existing is not None:
                return existing, False
            raw, run = _store(actor, source, content, content_type, digest, source_url, language)
    except IntegrityError:  # the same page imported at the same moment: that import
        db.session.rollback()
        with transaction():
            existing = _current_import(sources.source_for(source_name, source_url).id, digest)
        if existing is None:
            raise
        return existing, False
    if enqueue_cleanup:
        enqueue(task_names.CLEANUP_RUN, run.id)
    return raw, True


def _current_import(source_id: str, digest: str) -> RawInput | None:
    """The import of these bytes for this source, if its draft was not deleted. A deleted
    draft's import stops answering for its bytes (importing them again makes a new one):
    it can no longer be read, so pointing to it would be a pointer to a 404."""
    existing = db.session.scalar(select(RawInput).where(
        RawInput.source_id == source_id, RawInput.dedup_sha256 == digest))
    if existing is None or articles.get_article(existing.article_id,
                                                include_deleted=True).deleted_at is None:
        return existing
    existing.dedup_sha256 = None
    db.session.flush()
    return None


def _store(actor: User, source, content: bytes, content_type: str, digest: str,
           source_url: str | None, language: str | None) -> tuple[RawInput, CleanupRun]:
    article = articles.create_article(actor, {
        "language": language or "und", "source_name": source.name, "source_url": source_url,
    }, origin=RevisionOrigin.IMPORT)
    raw = RawInput(article_id=article.id, source_id=source.id, content=content,
                   content_type=content_type, sha256=digest, dedup_sha256=digest,
                   size=len(content), source_url=source_url, language=language,
                   created_by_id=actor.id)
    db.session.add(raw)
    db.session.flush()
    run = _new_run(raw, actor)
    audit.record(article, actor, "import", details={"import_id": raw.id, "bytes": len(content),
                                                     "content_type": content_type})
    return raw, run


def _normalised_content_type(content_type: str) -> str:
    """The media type and its charset only (what decoding needs), or 422."""
    mimetype, charset = parse_content_type(content_type)
    if mimetype not in SUPPORTED_TYPES:
        raise ValidationFailed("Import text/plain or text/html.", errors=[{
            "location": "json", "field": "/content_type",
            "message": f"One of {', '.join(SUPPORTED_TYPES)}."}])
    return f"{mimetype}; charset={charset}" if charset else mimetype


def _new_run(raw: RawInput, actor: User) -> CleanupRun:
    run = CleanupRun(raw_input_id=raw.id, article_id=raw.article_id, requested_by_id=actor.id)
    db.session.add(run)
    db.session.flush()
    return run


def get_import(actor: User, import_id: str) -> RawInput:
    raw = db.session.get(RawInput, import_id)
    if raw is None:
        raise NotFound(f"No import {import_id}.")
    articles.read_article(actor, raw.article_id)
    return raw


def latest_import(actor: User, article_id: str) -> RawInput:
    articles.read_article(actor, article_id)
    raw = db.session.scalar(select(RawInput).where(RawInput.article_id == article_id)
                            .order_by(RawInput.created_at.desc()).limit(1))
    if raw is None:
        raise NotFound(f"Article {article_id} was not imported.")
    return raw


def rerun(actor: User, article_id: str, expected_version: int | None) -> CleanupRun:
    """Queue a new cleanup of the article's import; it will add a revision, not overwrite."""
    with transaction():
        article = articles.locked_for_write(actor, article_id, expected_version, "edit")
        raw = latest_import(actor, article.id)
        run = _new_run(raw, actor)
        audit.record(article, actor, "cleanup_requested", details={"run_id": run.id})
    enqueue(task_names.CLEANUP_RUN, run.id)
    return run


def restore_line(actor: User, article_id: str, expected_version: int | None, index: int) -> None:
    """Put a line the latest cleanup removed back into the body, where it stood."""
    with transaction():
        article = articles.locked_for_write(actor, article_id, expected_version, "edit")
        run = _latest_succeeded_run(article_id)
        removed = {item["index"]: item for item in run.result["removed"]}
        if index not in removed:
            raise NotFound(f"The latest cleanup removed no line {index}.")
        line = removed[index]["line"]
        body = article.latest_revision.body.split("\n") if article.latest_revision.body else []
        if line in body:
            raise Conflict("That line is already in the body.")
        _put_back(body, removed[index], _position(run.result, index, body))
        articles.add_system_revision(article, actor.id, {"body": "\n".join(body)},
                                     RevisionOrigin.RESTORE,
                                     details={"run_id": run.id, "index": index, "line": line,
                                              "reason": removed[index]["reason"]})


def _put_back(body: list[str], item: dict, position: int) -> None:
    """A line that only lost its byline/dateline prefix (``kept`` is what stayed) is made
    whole again where it stands; a removed line is inserted."""
    kept = item.get("kept")
    if kept in body:
        body[body.index(kept)] = item["line"]
    else:
        body.insert(position, item["line"])


def _latest_succeeded_run(article_id: str) -> CleanupRun:
    run = db.session.scalar(select(CleanupRun).where(
        CleanupRun.article_id == article_id, CleanupRun.status == RunStatus.SUCCEEDED)
        .order_by(CleanupRun.finished_at.desc()).limit(1))
    if run is None:
        raise NotFound(f"Article {article_id} has no finished cleanup.")
    return run


def _position(result: dict, index: int, body: list[str]) -> int:
    """After the nearest earlier line of the original that is still in the body."""
    lines = {d["index"]: d for d in result["decisions"]}
    originals = {item["index"]: item["line"] for item in result["removed"]}
    kept = iter(result["body_paragraphs"])
    for i in sorted(lines):
        if lines[i]["kind"] == "body":
            originals[i] = next(kept)
    for earlier in range(index - 1, -1, -1):
        text = originals.get(earlier)
        if text in body:
            return body.index(text) + 1
    return 0
