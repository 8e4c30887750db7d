"""Running the cleanup of an import: decode or extract, learn, classify, write a revision.

A run is idempotent: a finished run is never executed again, a redelivered or retried
one re-does its work inside one transaction, and a source learns from each raw input
once. Bad input ends in a failed run with a reason; the raw bytes are kept regardless.
"""

import time
from dataclasses import dataclass

from sqlalchemy import select

from app.cleanup.engine import CleanupResult, clean, split_lines
from app.cleanup.extract import (
    ExtractionError,
    decode_text,
    detect_language,
    extract_html,
    parse_content_type,
)
from app.errors import NotFound
from app.extensions import db
from app.models import CleanupRun, RawInput, RevisionOrigin, RunStatus, Source, utcnow
from app.services import articles, audit, headlines, sources
from app.services.uow import locked, transaction
from app.text import fold

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Prepared:
    text: str
    title: str | None
    language: str | None
    is_html: bool


def prepare(content: bytes, content_type: str, language: str | None) -> Prepared:
    """Bytes to text (raises ExtractionError with a reason)."""
    mimetype, charset = parse_content_type(content_type)
    is_html = mimetype in HTML_TYPES
    if not content.strip():
        raise ExtractionError("The input is empty.")
    if is_html:
        extracted = extract_html(content, language)
        text, title = extracted.text, extracted.title
    else:
        text, title = decode_text(content, charset), None
    if not text.strip():
        raise ExtractionError("The input has no text.")
    return Prepared(text, title, language or detect_language(text), is_html)


def classify(prepared: Prepared, learned) -> CleanupResult:
    result = clean(prepared.text, language=prepared.language, learned=learned,
                   extra_headlines=(prepared.title,) if prepared.title else (),
                   find_headlines=not prepared.is_html)
    if not result.body_paragraphs:
        raise ExtractionError("No article text was left after cleanup (all lines were "
                              "boilerplate or headlines).")
    return result


def preview(content: bytes, content_type: str, source_name: str, language: str | None) -> dict:
    """The cleanup result for ``content`` without storing or learning anything."""
    prepared = prepare(content, content_type, language)
    source = db.session.scalar(select(Source).where(Source.name == source_name.strip().lower()))
    folded = [fold(line) for line in split_lines(prepared.text)]
    learned = sources.learned_for(source.id, folded) if source else None
    return classify(prepared, learned).to_dict()


def execute(run_id: str) -> CleanupRun:
    """Carry out a queued run (called by the Celery task)."""
    started = _mark_running(run_id)
    if started is None:
        return db.session.get(CleanupRun, run_id)
    began = time.perf_counter()
    try:
        with transaction():
            run = _locked_run(run_id)
            if run.status == RunStatus.RUNNING:
                _apply(run)
                _finish(run, RunStatus.SUCCEEDED, began)
    except ExtractionError as error:
        with transaction():
            run = _locked_run(run_id)
            run.error = str(error)
            _finish(run, RunStatus.FAILED, began)
            audit.record(articles.get_article(run.article_id), None, "cleanup_failed",
                         details={"run_id": run.id, "error": run.error})
    return db.session.get(CleanupRun, run_id)


def _mark_running(run_id: str) -> CleanupRun | None:
    with transaction():
        run = _locked_run(run_id)
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            return None
        run.status, run.started_at = RunStatus.RUNNING, run.started_at or utcnow()
        run.attempts += 1
    return run


def _locked_run(run_id: str) -> CleanupRun:
    run = locked(CleanupRun, run_id)
    if run is None:
        raise NotFound(f"No cleanup run {run_id}.")
    return run


def _apply(run: CleanupRun) -> None:
    raw: RawInput = run.raw_input
    prepared = prepare(raw.content, raw.content_type, raw.language)
    folded = [fold(line) for line in split_lines(prepared.text)]
    sources.learn(raw, folded)
    result = classify(prepared, sources.learned_for(raw.source_id, folded))
    article = articles.locked_for_system(run.article_id)
    top = result.headline_candidates[0]["text"] if result.headline_candidates else None
    text = {"body": "\n".join(result.body_paragraphs)}
    text.update({k: v for k, v in (("headline", top), ("byline", result.metadata.get("byline")),
                                   ("dateline", result.metadata.get("dateline"))) if v})
    revision = articles.add_system_revision(
        article, run.requested_by_id, text, RevisionOrigin.CLEANUP,
        language=prepared.language if not raw.language else None,
    )
    run.result = {k: v for k, v in result.to_dict().items() if k != "decisions"} | {
        "decisions": [{"index": d.index, "kind": d.kind, "rule": d.rule} for d in result.decisions],
        "extractor": "html" if prepared.is_html else "text",
    }
    run.revision_id = revision.id
    headlines.propose_extracted(article, run.requested_by_id,
                                [c["text"] for c in result.headline_candidates], run.id)


def _finish(run: CleanupRun, status: RunStatus, began: float) -> None:
    run.status = status
    run.finished_at = utcnow()
    run.duration_ms = round((time.perf_counter() - began) * 1000, 3)
