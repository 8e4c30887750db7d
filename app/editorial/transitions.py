"""Applying a workflow action to an article: the rules come from app.editorial.workflow."""

from dataclasses import dataclass
from datetime import datetime

from app.editorial import audit, headlines, policy, workflow
from app.editorial.articles import locked_for_write
from app.editorial.workflow import Refusal
from app.errors import Conflict, Forbidden, ValidationFailed
from app.experiments import experiments
from app.extensions import db
from app.models import Article, Comment, User, utcnow
from app.platform.uow import transaction
from app.publishing import publishing

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


@dataclass(frozen=True)
class Step:
    """One action being applied: who, when, and the action's inputs."""

    actor: User | None  # None: the scheduler
    now: datetime
    comment: str | None = None
    publish_at: datetime | None = None
    scheduled_for: datetime | None = None  # the due time of a scheduled publish


def apply(actor: User, article_id: str, expected_version: int | None, action: str, *,
          comment: str | None, publish_at: datetime | None) -> Article:
    with transaction():
        article = locked_for_write(actor, article_id, expected_version, "read")
        _refuse_unless_allowed(actor, article, action)
        step = Step(actor, utcnow(), comment, publish_at)
        _check_inputs(workflow.MACHINE[action], article, step)
        _perform(article, action, step)
    return article


def publish_scheduled(article: Article, now: datetime) -> None:
    """The scheduler's publish of a due article it holds locked: the same effects, audit and
    version bump as a publish by hand, with no actor."""
    _perform(article, "publish", Step(None, now, scheduled_for=article.publish_at))


def _perform(article: Article, action: str, step: Step) -> None:
    """The one place an article changes state: effects, state, audit, version."""
    rule = workflow.MACHINE[action]
    from_state = article.state
    EFFECTS.get(action, _no_effect)(article, step)
    article.state = rule.target
    audit.record(article, step.actor, action, from_state=from_state, to_state=rule.target,
                 comment=step.comment, details=_details(article, step))
    article.version += 1
    article.updated_at = step.now


def _refuse_unless_allowed(actor: User, article: Article, action: str) -> None:
    refusal = policy.workflow_refusal(actor, article, action)
    if refusal is None:
        return
    words = {"role": actor.role, "action": action.replace("_", " "), "state": article.state}
    if refusal in FORBIDDEN:
        raise Forbidden(FORBIDDEN[refusal].format(**words))
    raise Conflict(
        CONFLICT[refusal].format(**words), current_state=article.state,
        allowed_actions=policy.allowed_actions(actor, article),
    )


def _check_inputs(rule, article: Article, step: Step) -> None:
    comment, publish_at, now = step.comment, step.publish_at, step.now
    if rule.needs_comment and not (comment or "").strip():
        raise ValidationFailed.at("/comment", f"A comment is required to {rule.action.replace('_', ' ')}.")
    if publish_at is not None and not rule.needs_publish_at:
        raise ValidationFailed.at("/publish_at", f"publish_at only goes with schedule, not {rule.action}.")
    if rule.needs_publish_at:
        if publish_at is None:
            raise ValidationFailed.at("/publish_at", "publish_at is required to schedule.")
        if publish_at <= now:
            raise ValidationFailed.at("/publish_at", "publish_at must be in the future.")
        publishing.check_embargo(article, publish_at)
    if rule.publishes:
        publishing.check_embargo(article, now)


def _details(article: Article, step: Step) -> dict:
    details = {"version": article.version + 1}
    if step.publish_at:
        details["publish_at"] = step.publish_at.isoformat()
    if article.live_revision_id:
        details["live_revision_id"] = article.live_revision_id
    if step.scheduled_for:
        details["scheduled_for"] = step.scheduled_for.isoformat()
        details["lateness_seconds"] = article.publish_lateness_seconds
    return details


def _no_effect(_article, _step) -> None:
    """Actions whose only effect is the change of state."""


def _submit(article, step: Step) -> None:
    article.submitted_at = step.now


def _approve(article, _step) -> None:
    article.approved_revision_id = article.latest_revision_id
    article.approved_headline_ids = headlines.accepted_ids(article.id)


def _request_changes(article, step: Step) -> None:
    article.approved_revision_id = None
    article.approved_headline_ids = []
    db.session.add(Comment(article_id=article.id, revision_id=article.latest_revision_id,
                           author_id=step.actor.id, body=step.comment, created_at=step.now))


def _schedule(article, step: Step) -> None:
    article.publish_at = step.publish_at


def _unschedule(article, _step) -> None:
    article.publish_at = None


def _publish(article, step: Step) -> None:
    publishing.publish(article, step.now, scheduled_for=step.scheduled_for)
    experiments.start_on_publish(article)


def _unpublish(article, _step) -> None:
    publishing.take_down(article)
    experiments.stop_on_takedown(article)


EFFECTS = {
    "submit": _submit, "approve": _approve, "request_changes": _request_changes,
    "schedule": _schedule, "unschedule": _unschedule, "publish": _publish,
    "unpublish": _unpublish,
}
