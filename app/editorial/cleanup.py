"""Running the cleanup of an import: decode or extract, learn, classify, write a revision.

A run is idempotent: a finished run is never executed again, a redelivered or retried
one re-does its work inside one transaction, and a source learns from each raw input
once. Bad input, a time limit or an error that would recur ends in a failed run with a
reason; only transient errors propagate (the task retries them), and a run that was
tried CLEANUP_MAX_ATTEMPTS times ends failed. The raw bytes are kept regardless. Who may
run it (leases, the sweeper) is app.editorial.cleanup_runs.
"""

import logging
import secrets
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.cleanup.engine import CleanupResult, clean, split_lines
from app.cleanup.extract import (
    ExtractionError,
    decode_text,
    detect_language,
    extract_html,
    parse_content_type,
)
from app.editorial import articles, audit, cleanup_runs, headlines, sources
from app.errors import NotFound
from app.extensions import db
from app.models import CleanupRun, RawInput, RevisionOrigin, RunStatus, Source, utcnow
from app.platform.jobs import hit_time_limit
from app.platform.uow import is_transient, locked, transaction
from app.text import fold

log = logging.getLogger(__name__)
HTML_TYPES = ("text/html", "application/xhtml+xml")
# A page of many short unpunctuated lines has as many headline-shaped ones; the best ranked
# become proposals (all stay in the run's result).
PROPOSALS_MAX = 20


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


def classify(prepared: Prepared, learned, folded: list[str] | None = None) -> CleanupResult:
    result = clean(prepared.text, language=prepared.language, learned=learned,
                   extra_headlines=(prepared.title,) if prepared.title else (),
                   find_headlines=not prepared.is_html, folded=folded)
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


def execute(run_id: str, holder: str | None = None) -> CleanupRun:
    """Carry out a queued run (the Celery task passes its task id as ``holder``).

    Bad input, the task's time limit and any error that would recur end the run failed
    with a reason; transient errors (see ``is_transient``) propagate, for a retry."""
    holder = holder or secrets.token_hex(16)
    if _claim(run_id, holder):
        began = time.perf_counter()
        with cleanup_runs.LeaseKeeper(run_id, holder):
            try:
                _clean(run_id, holder, began)
            except Exception as error:
                if is_transient(error):
                    raise
                _fail(run_id, holder, _reason(error), began)
    return db.session.get(CleanupRun, run_id, populate_existing=True)


def _claim(run_id: str, holder: str) -> bool:
    with transaction():
        run = locked(CleanupRun, run_id)
        if run is None:
            raise NotFound(f"No cleanup run {run_id}.")
        now = utcnow()
        if cleanup_runs.taken(run, holder, now):
            return False
        if cleanup_runs.out_of_attempts(run):
            _end(run, RunStatus.FAILED, None, f"Gave up after {run.attempts} attempts: the worker "
                 "was lost or the database unavailable each time. The raw bytes are kept; "
                 "re-run the cleanup to try again.")
            return False
        cleanup_runs.claim(run, holder, now)
        return True


def _reason(error: Exception) -> str:
    if isinstance(error, ExtractionError):
        return str(error)
    if hit_time_limit(error):
        limit = current_app.config["CLEANUP_TIME_LIMIT_SECONDS"]
        return (f"The cleanup did not finish within its time limit ({limit:g} s): the page is "
                "too large or too complex to clean. The raw bytes are kept.")
    log.exception("cleanup failed")
    return (f"The cleanup failed with an internal error ({type(error).__name__}). The raw "
            "bytes are kept; re-run the cleanup to try again.")


def _clean(run_id: str, holder: str, began: float) -> None:
    """Classify outside any write transaction (for a big page that is most of the work,
    and on SQLite a write transaction holds the database's only write lock), then learn
    in batches and store the result, in short transactions, each only while the lease is
    ours."""
    prepared, page, result = _classify(run_id)
    if not _learn(run_id, holder, page):
        return
    with transaction():
        run = cleanup_runs.held(run_id, holder)
        if run is not None:
            _store(run, prepared, result)
            _end(run, RunStatus.SUCCEEDED, began)


def _classify(run_id: str) -> tuple[Prepared, list[tuple[str, str]], CleanupResult]:
    """What needs no write: decode or extract, fold, read what the source knows, classify."""
    with transaction():
        raw = db.session.get(CleanupRun, run_id).raw_input
        content, content_type, language = raw.content, raw.content_type, raw.language
    prepared = prepare(content, content_type, language)
    folded = [fold(line) for line in split_lines(prepared.text)]
    page = sources.page_lines(folded)
    with transaction():
        db.session.refresh(raw, ["learned", "learned_lines"])
        learned = sources.learned_once_taught(raw, page)
    return prepared, page, classify(prepared, learned, folded)


def _learn(run_id: str, holder: str, page: list[tuple[str, str]]) -> bool:
    """Teach the source this page, a batch per transaction (160,000 lines in one would hold
    SQLite's write lock for seconds), resuming where an earlier attempt stopped; False if
    the lease was lost meanwhile."""
    while True:
        with transaction():
            run = cleanup_runs.held(run_id, holder)
            if run is None:
                return False
            if sources.learn_next_batch(locked(RawInput, run.raw_input_id), page):
                return True


def _fail(run_id: str, holder: str, reason: str, began: float) -> None:
    with transaction():
        run = cleanup_runs.held(run_id, holder)
        if run is not None:
            _end(run, RunStatus.FAILED, began, reason)


def _store(run: CleanupRun, prepared: Prepared, result: CleanupResult) -> None:
    """The result as a new revision of the draft, the run's record and headline proposals."""
    raw = run.raw_input
    article = articles.locked_for_system(run.article_id)
    top = result.headline_candidates[0]["text"] if result.headline_candidates else None
    text = {"body": "\n".join(result.body_paragraphs)}
    text.update({k: v for k, v in (("headline", top), ("byline", result.metadata.get("byline")),
                                   ("dateline", result.metadata.get("dateline"))) if v})
    revision = articles.add_system_revision(
        article, run.requested_by_id, text, RevisionOrigin.CLEANUP,
        language=prepared.language if not raw.language else None,
    )
    run.result = result.record() | {"extractor": "html" if prepared.is_html else "text"}
    run.revision_id = revision.id
    headlines.propose_extracted(article, run.requested_by_id,
                                [c["text"] for c in result.headline_candidates[:PROPOSALS_MAX]],
                                run.id)


def _end(run: CleanupRun, status: RunStatus, began: float | None, error: str | None = None) -> None:
    run.status, run.error = status, error
    run.finished_at = utcnow()
    if began is not None:
        run.duration_ms = round((time.perf_counter() - began) * 1000, 3)
    cleanup_runs.release(run)
    if status == RunStatus.FAILED:
        audit.record(articles.get_article(run.article_id, include_deleted=True), None,
                     "cleanup_failed", details={"run_id": run.id, "error": error})
