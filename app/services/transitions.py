"""Applying a workflow action to an article: the rules come from app.services.workflow."""

from datetime import datetime

from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models import Article, Comment, User, utcnow
from app.services import audit, experiments, headlines, publishing, workflow
from app.services.articles import locked_for_write
from app.services.uow import transaction
from app.services.workflow import Refusal

FORBIDDEN = {
    Refusal.ROLE: "Your role ({role}) may not {action} articles.",
    Refusal.OWNER: "Writers may only {action} their own or assigned articles.",
    Refusal.FOUR_EYES: "Four-eyes rule: you wrote part of this copy since it was last approved, "
                       "so another editor must {action} it.",
}
CONFLICT = {
    Refusal.STATE: "Cannot {action} an article that is {state}.",
    Refusal.NOT_LIVE: "Cannot {action}: the article is not live.",
    Refusal.LIVE: "Cannot {action} a live article; unpublish it first.",
}


def apply(actor: User, article_id: str, expected_version: int | None, action: str, *,
          comment: str | None, publish_at: datetime | None, four_eyes: bool) -> Article:
    with transaction():
        article = locked_for_write(actor, article_id, expected_version, "read")
        _refuse_unless_allowed(actor, article, action, four_eyes)
        rule = workflow.MACHINE[action]
        now = utcnow()
        _check_inputs(rule, article, comment, publish_at, now)
        from_state = article.state
        EFFECTS.get(action, _no_effect)(article, actor, now, comment, publish_at)
        article.state = rule.target
        audit.record(article, actor, action, from_state=from_state, to_state=rule.target,
                     comment=comment, details=_details(article, publish_at))
        article.version += 1
        article.updated_at = now
    return article


def _refuse_unless_allowed(actor: User, article: Article, action: str, four_eyes: bool) -> None:
    refusal = workflow.check(actor, article, action, four_eyes=four_eyes)
    if refusal is None:
        return
    words = {"role": actor.role, "action": action.replace("_", " "), "state": article.state}
    if refusal in FORBIDDEN:
        raise Forbidden(FORBIDDEN[refusal].format(**words))
    raise Conflict(
        CONFLICT[refusal].format(**words), current_state=article.state,
        allowed_actions=workflow.allowed_actions(actor, article, four_eyes=four_eyes),
    )


def _check_inputs(rule, article: Article, comment, publish_at, now: datetime) -> None:
    if rule.needs_comment and not (comment or "").strip():
        raise _invalid("/comment", f"A comment is required to {rule.action.replace('_', ' ')}.")
    if publish_at is not None and not rule.needs_publish_at:
        raise _invalid("/publish_at", f"publish_at only goes with schedule, not {rule.action}.")
    if rule.needs_publish_at:
        if publish_at is None:
            raise _invalid("/publish_at", "publish_at is required to schedule.")
        if publish_at <= now:
            raise _invalid("/publish_at", "publish_at must be in the future.")
        publishing.check_embargo(article, publish_at)
    if rule.publishes:
        publishing.check_embargo(article, now)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"location": "json", "field": field, "message": message}])


def _details(article: Article, publish_at: datetime | None) -> dict:
    details = {"version": article.version + 1}
    if publish_at:
        details["publish_at"] = publish_at.isoformat()
    if article.live_revision_id:
        details["live_revision_id"] = article.live_revision_id
    return details


def _no_effect(*_args) -> None:
    """Actions whose only effect is the change of state."""


def _submit(article, _actor, now, _comment, _publish_at) -> None:
    article.submitted_at = now


def _approve(article, _actor, _now, _comment, _publish_at) -> None:
    article.approved_revision_id = article.latest_revision_id
    article.approved_headline_ids = headlines.accepted_ids(article.id)


def _request_changes(article, actor, now, comment, _publish_at) -> None:
    article.approved_revision_id = None
    article.approved_headline_ids = []
    db.session.add(Comment(article_id=article.id, revision_id=article.latest_revision_id,
                           author_id=actor.id, body=comment, created_at=now))


def _schedule(article, _actor, _now, _comment, publish_at) -> None:
    article.publish_at = publish_at


def _unschedule(article, *_args) -> None:
    article.publish_at = None


def _publish(article, _actor, now, _comment, _publish_at) -> None:
    publishing.publish(article, now)
    experiments.start_on_publish(article)


def _unpublish(article, *_args) -> None:
    publishing.take_down(article)
    experiments.stop_on_takedown(article)


EFFECTS = {
    "submit": _submit, "approve": _approve, "request_changes": _request_changes,
    "schedule": _schedule, "unschedule": _unschedule, "publish": _publish,
    "unpublish": _unpublish,
}
