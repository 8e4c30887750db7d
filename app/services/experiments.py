"""Headline experiments: start, pause, resume, stop, pick a winner, conclude.

Control actions are declared as data (CONTROLS). Every change is audit-logged on the
article; a winner becomes the article's canonical headline and reaches outlets through
the publishing update hook.
"""

import secrets
from dataclasses import asdict

from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, NotFound, ValidationFailed
from app.experiments.engine import Policy, decide
from app.extensions import db
from app.models import (
    ACTIVE_STATUSES,
    Allocation,
    Article,
    ArticleState,
    Experiment,
    ExperimentOutcome,
    ExperimentStatus,
    HeadlineCandidate,
    User,
    utcnow,
)
from app.services import articles, audit, experiment_counts, publishing
from app.services.uow import locked, transaction
from app.text import fold

# action -> (statuses it applies to, status after it)
CONTROLS = {
    "pause": ({ExperimentStatus.RUNNING}, ExperimentStatus.PAUSED),
    "resume": ({ExperimentStatus.PAUSED}, ExperimentStatus.RUNNING),
    "stop": (set(ACTIVE_STATUSES), ExperimentStatus.CONCLUDED),
}


def policy_for(experiment: Experiment) -> Policy:
    return Policy(allocation=experiment.allocation.value, min_impressions=experiment.min_impressions,
                  max_impressions=experiment.max_impressions)


def current(article_id: str) -> Experiment | None:
    """The article's active experiment, else its most recent one."""
    query = select(Experiment).where(Experiment.article_id == article_id)
    return db.session.scalars(query.order_by(Experiment.started_at.desc(), Experiment.id.desc())
                              .limit(1)).first()


def read_current(actor: User, article_id: str) -> Experiment:
    articles.read_article(actor, article_id)
    experiment = current(article_id)
    if experiment is None:
        raise NotFound(f"Article {article_id} has no headline experiment.")
    return experiment


def start(actor: User, article_id: str, options: dict) -> Experiment:
    with transaction():
        article = articles.locked_for_write(actor, article_id, None, "experiment")
        if article.is_live and article.state != ArticleState.PUBLISHED:
            # A correction in review may have changed candidate texts since their approval.
            raise Conflict("The article has a correction in review; start the test once it is "
                           "published.", current_state=article.state)
        experiment = _create(article, actor, Allocation(options.get("allocation", "thompson")),
                             options.get("min_impressions"), options.get("max_impressions"))
    return experiment


def start_on_publish(article: Article) -> None:
    """Publishing side effect: test the live candidates when there are two or more."""
    config = current_app.config
    if not config["EXPERIMENTS_AUTOSTART"] or len(article.live_headline_ids) < 2:
        return
    active = _active(article.id)
    if active is not None and active.arm_ids == article.live_headline_ids:
        return  # a correction of the text: the same headlines stay under test
    if active is not None:
        _conclude(locked(Experiment, active.id), article, None, ExperimentOutcome.STOPPED, None,
                  "the approved headlines changed")
    _create(article, None, Allocation.THOMPSON, None, None)


def stop_on_takedown(article: Article) -> None:
    """Unpublishing side effect: a test of copy that is no longer live ends without a winner."""
    experiment = _active(article.id)
    if experiment is not None:
        _conclude(locked(Experiment, experiment.id), article, None, ExperimentOutcome.STOPPED, None,
                  "article taken down")


def control(actor: User, article_id: str, action: str) -> Experiment:
    statuses, after = CONTROLS[action]
    with transaction():
        article = articles.locked_for_write(actor, article_id, None, "experiment")
        experiment = _locked_active(article_id)
        if experiment.status not in statuses:
            raise Conflict(f"Cannot {action} a {experiment.status} experiment.",
                           current_status=experiment.status)
        if after == ExperimentStatus.CONCLUDED:
            _conclude(experiment, article, actor, ExperimentOutcome.STOPPED, None, "stopped by editor")
        else:
            experiment.status = after
            audit.record(article, actor, f"experiment_{action}d",
                         details={"experiment_id": experiment.id})
    return experiment


def pick_winner(actor: User, article_id: str, candidate_id: str) -> Experiment:
    """An editor's override: the statistical verdict at this moment is kept beside it."""
    with transaction():
        article = articles.locked_for_write(actor, article_id, None, "experiment")
        experiment = _locked_active(article_id)
        if candidate_id not in experiment.arm_ids:
            raise ValidationFailed("The winner must be one of the experiment's candidates.", errors=[{
                "location": "json", "field": "/candidate_id",
                "message": f"Not an arm of experiment {experiment.id}."}])
        verdict = decide(experiment_counts.periods(experiment), policy_for(experiment))
        experiment.verdict = asdict(verdict)
        _conclude(experiment, article, actor, ExperimentOutcome.OVERRIDE, candidate_id,
                  "winner picked by an editor")
    return experiment


def conclude_by_engine(experiment: Experiment, outcome: ExperimentOutcome,
                       winner_id: str | None, reason: str) -> None:
    """Called by the recompute task with the experiment locked."""
    article = articles.locked_for_system(experiment.article_id)
    _conclude(experiment, article, None, outcome, winner_id, reason)


def _create(article: Article, actor: User | None, allocation: Allocation,
            min_impressions: int | None, max_impressions: int | None) -> Experiment:
    arms = list(article.live_headline_ids)
    if not article.is_live or len(arms) < 2:
        raise Conflict("A headline test needs a live article with two or more approved candidates.",
                       current_state=article.state)
    if _active(article.id) is not None:
        raise Conflict("The article already has a running or paused experiment.")
    config = current_app.config
    experiment = Experiment(
        article_id=article.id, status=ExperimentStatus.RUNNING, allocation=allocation,
        salt=secrets.token_hex(16), arm_ids=arms, arm_texts=_texts(arms),
        weights=[1 / len(arms)] * len(arms),
        default_candidate_id=_default_arm(article, arms), started_by_id=actor.id if actor else None,
        min_impressions=min_impressions or config["EXPERIMENT_MIN_IMPRESSIONS"],
        max_impressions=max_impressions or config["EXPERIMENT_MAX_IMPRESSIONS"] or None,
        verdict={}, started_at=utcnow(),
    )
    db.session.add(experiment)
    db.session.flush()
    audit.record(article, actor, "experiment_started", details={
        "experiment_id": experiment.id, "arms": arms, "allocation": allocation.value})
    return experiment


def _texts(candidate_ids: list[str]) -> list[str]:
    found = dict(db.session.execute(select(HeadlineCandidate.id, HeadlineCandidate.text)
                                    .where(HeadlineCandidate.id.in_(candidate_ids))).all())
    return [found[candidate_id] for candidate_id in candidate_ids]


def _default_arm(article: Article, arms: list[str]) -> str:
    """The candidate matching the live headline, else the first in the editor's order."""
    live_headline = fold(article.live_revision.headline) if article.live_revision else ""
    for candidate_id in arms:
        candidate = db.session.get(HeadlineCandidate, candidate_id)
        if candidate is not None and candidate.folded == live_headline:
            return candidate_id
    return arms[0]


def _conclude(experiment: Experiment, article: Article, actor: User | None,
              outcome: ExperimentOutcome, winner_id: str | None, reason: str) -> None:
    experiment.status, experiment.outcome = ExperimentStatus.CONCLUDED, outcome
    experiment.winner_candidate_id, experiment.ended_at = winner_id, utcnow()
    audit.record(article, actor, "experiment_concluded", details={
        "experiment_id": experiment.id, "outcome": outcome.value, "winner": winner_id,
        "reason": reason})
    if winner_id is not None:
        _promote(article, actor, experiment, winner_id)


def _promote(article: Article, actor: User | None, experiment: Experiment, winner_id: str) -> None:
    text = experiment.arm_texts[experiment.arm_ids.index(winner_id)]
    previous = article.canonical_headline_id
    article.canonical_headline_id, article.canonical_headline_text = winner_id, text
    article.version += 1
    article.updated_at = utcnow()
    audit.record(article, actor, "headline_promoted", details={
        "experiment_id": experiment.id, "candidate_id": winner_id, "text": text,
        "previous_candidate_id": previous})
    publishing.notify_update(article)


def _active(article_id: str) -> Experiment | None:
    query = select(Experiment).where(Experiment.article_id == article_id,
                                     Experiment.status.in_(ACTIVE_STATUSES))
    return db.session.scalars(query).first()


def _locked_active(article_id: str) -> Experiment:
    """The active experiment under a row lock, re-checked: it may have just concluded."""
    experiment = _active(article_id)
    experiment = locked(Experiment, experiment.id) if experiment is not None else None
    if experiment is None or experiment.status not in ACTIVE_STATUSES:
        raise Conflict("The article has no running or paused experiment.")
    return experiment


def running_ids() -> list[str]:
    return list(db.session.scalars(select(Experiment.id)
                                   .where(Experiment.status == ExperimentStatus.RUNNING)))
