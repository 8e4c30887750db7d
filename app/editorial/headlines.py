"""Headline candidates: add, edit, accept or reject, reorder, remove.

Candidates are part of the content: changing them on approved or scheduled copy sends it
back to review (the same rule as a text edit), and approval pins the accepted ones.
"""

from sqlalchemy import func, select

from app.editorial import articles, audit
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Article, CandidateOrigin, CandidateStatus, HeadlineCandidate, User, utcnow
from app.platform.uow import transaction
from app.text import fold

LIVE_STATUSES = (CandidateStatus.PROPOSED, CandidateStatus.ACCEPTED, CandidateStatus.REJECTED)


def list_candidates(actor: User, article_id: str) -> list[HeadlineCandidate]:
    articles.read_article(actor, article_id)
    return _candidates(article_id)


def _candidates(article_id: str) -> list[HeadlineCandidate]:
    query = select(HeadlineCandidate).where(HeadlineCandidate.article_id == article_id,
                                            HeadlineCandidate.status.in_(LIVE_STATUSES))
    return list(db.session.scalars(query.order_by(HeadlineCandidate.position,
                                                  HeadlineCandidate.id)))


def add_candidate(actor: User, article_id: str, expected_version: int | None,
                  text: str) -> HeadlineCandidate:
    with transaction():
        article = articles.locked_for_write(actor, article_id, expected_version, "edit")
        candidate = _insert(article, actor.id, text, CandidateOrigin.MANUAL,
                            CandidateStatus.ACCEPTED)
        _changed(article, actor, "headline_added", {"candidate_id": candidate.id, "text": text})
    return candidate


def propose_extracted(article: Article, actor_id: str, texts: list[str], run_id: str) -> int:
    """Add the cleanup's candidates as proposals, skipping ones the article already has."""
    known = {c.folded for c in _candidates(article.id)}
    added = 0
    for text in texts:
        if fold(text) not in known:
            candidate = _insert(article, actor_id, text, CandidateOrigin.EXTRACTED,
                                CandidateStatus.PROPOSED)
            candidate.source_run_id = run_id
            known.add(candidate.folded)
            added += 1
    return added


def update_candidate(actor: User, article_id: str, candidate_id: str,
                     expected_version: int | None, changes: dict) -> HeadlineCandidate:
    with transaction():
        article = articles.locked_for_write(actor, article_id, expected_version, "edit")
        candidate = _get(article_id, candidate_id)
        if "text" in changes and changes["text"] != candidate.text:
            _check_unique(article_id, changes["text"], exclude=candidate.id)
            candidate.text, candidate.folded = changes["text"], fold(changes["text"])
            articles.note_contributor(article, actor.id)
        if "status" in changes and changes["status"] != candidate.status:
            candidate.status, candidate.decided_at = CandidateStatus(changes["status"]), utcnow()
        _changed(article, actor, "headline_changed", {"candidate_id": candidate.id, **changes})
    return candidate


def remove_candidate(actor: User, article_id: str, candidate_id: str,
                     expected_version: int | None) -> None:
    with transaction():
        article = articles.locked_for_write(actor, article_id, expected_version, "edit")
        candidate = _get(article_id, candidate_id)
        candidate.status, candidate.decided_at = CandidateStatus.REMOVED, utcnow()
        _changed(article, actor, "headline_removed", {"candidate_id": candidate.id})


def reorder(actor: User, article_id: str, expected_version: int | None,
            ids: list[str]) -> list[HeadlineCandidate]:
    with transaction():
        article = articles.locked_for_write(actor, article_id, expected_version, "edit")
        current = _candidates(article_id)
        if sorted(ids) != sorted(c.id for c in current):
            raise ValidationFailed("Name every candidate exactly once.", errors=[{
                "location": "json", "field": "/ids",
                "message": "Must be a permutation of the article's candidate ids."}])
        by_id = {c.id: c for c in current}
        for position, candidate_id in enumerate(ids):
            by_id[candidate_id].position = position
        _changed(article, actor, "headlines_reordered", {"ids": ids})
    return _candidates(article_id)


def accepted_ids(article_id: str) -> list[str]:
    return [c.id for c in _candidates(article_id) if c.status == CandidateStatus.ACCEPTED]


def _insert(article: Article, actor_id: str, text: str, origin: CandidateOrigin,
            status: CandidateStatus) -> HeadlineCandidate:
    _check_unique(article.id, text)
    articles.note_contributor(article, actor_id)
    position = db.session.scalar(select(func.coalesce(func.max(HeadlineCandidate.position), -1))
                                 .where(HeadlineCandidate.article_id == article.id)) + 1
    candidate = HeadlineCandidate(article_id=article.id, text=text, folded=fold(text),
                                  origin=origin, status=status, position=position,
                                  created_by_id=actor_id)
    db.session.add(candidate)
    db.session.flush()
    return candidate


def _check_unique(article_id: str, text: str, exclude: str | None = None) -> None:
    folded = fold(text)
    if any(c.folded == folded and c.id != exclude for c in _candidates(article_id)):
        raise Conflict("The article already has this headline (ignoring case and diacritics).")


def _get(article_id: str, candidate_id: str) -> HeadlineCandidate:
    candidate = db.session.get(HeadlineCandidate, candidate_id)
    if candidate is None or candidate.article_id != article_id or \
            candidate.status == CandidateStatus.REMOVED:
        raise NotFound(f"No headline candidate {candidate_id} on article {article_id}.")
    return candidate


def _changed(article: Article, actor: User, action: str, details: dict) -> None:
    """Candidates are content: approved or scheduled copy goes back to review."""
    from_state = articles.return_to_review(article)
    audit.record(article, actor, action, from_state=from_state, to_state=article.state,
                 details=details)
    article.version += 1
    article.updated_at = utcnow()
