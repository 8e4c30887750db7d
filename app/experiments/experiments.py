"""Headline experiments: start, pause, resume, stop, pick a winner, conclude.

Control actions are declared as data (CONTROLS). Every change is audit-logged on the
article; a winner becomes the article's canonical headline and reaches outlets through
the publishing update hook.
"""

import secrets
import zlib
from dataclasses import asdict, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.editorial import articles, audit
from app.errors import Conflict, NotFound, ValidationFailed
from app.experiments import experiment_counts, experiment_priors
from app.experiments.engine import Look, Outcome, Policy, Verdict, policy_from_settings
from app.experiments.engine import look as engine_look
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
    Metric,
    User,
    utcnow,
)
from app.platform.uow import locked, transaction
from app.publishing import publishing
from app.text import fold

# action -> (statuses it applies to, status after it)
CONTROLS = {
    "pause": ({ExperimentStatus.RUNNING}, ExperimentStatus.PAUSED),
    "resume": ({ExperimentStatus.PAUSED}, ExperimentStatus.RUNNING),
    "stop": (set(ACTIVE_STATUSES), ExperimentStatus.CONCLUDED),
}


# How the engine's verdicts end a test.
CONCLUSIONS = {Outcome.WINNER: ExperimentOutcome.WINNER, Outcome.EQUIVALENT: ExperimentOutcome.EQUIVALENT,
               Outcome.NO_VERDICT: ExperimentOutcome.NO_VERDICT}


def policy_for(experiment: Experiment) -> Policy:
    """The settings' policy with the test's own choices (the replay builds it the same way)."""
    return policy_from_settings(
        current_app.config, allocation=experiment.allocation.value, metric=experiment.metric.value,
        prior_sd=experiment.prior_sd, min_impressions=experiment.min_impressions,
        max_impressions=experiment.max_impressions)


def look(experiment: Experiment, now: datetime) -> Look:
    """The engine's verdict and split for the experiment at ``now``."""
    seed = zlib.crc32(f"{experiment.id}{now.isoformat()}".encode())
    return engine_look(experiment_counts.periods(experiment), policy_for(experiment),
                       (now - experiment.started_at).total_seconds(), experiment.default_candidate_id,
                       seed)


def final_verdict(experiment: Experiment, now: datetime, why: str) -> Verdict:
    """The verdict when an editor ends a test: the engine's, or no verdict yet."""
    verdict = look(experiment, now).verdict
    if verdict.outcome != Outcome.RUNNING:
        return verdict
    return replace(verdict, outcome=Outcome.NO_VERDICT, winner_id=None,
                   reason=f"{why} before a verdict: {verdict.reason}")


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
        experiment = _create(article, actor, options)
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
    _create(article, None, {})


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
            experiment.verdict = asdict(final_verdict(experiment, utcnow(), "stopped"))
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
        experiment.verdict = asdict(final_verdict(experiment, utcnow(), "overridden"))
        _conclude(experiment, article, actor, ExperimentOutcome.OVERRIDE, candidate_id,
                  "winner picked by an editor")
    return experiment


def conclude_by_engine(experiment: Experiment, verdict: Verdict) -> None:
    """Called by the periodic step with the experiment locked."""
    article = articles.locked_for_system(experiment.article_id)
    _conclude(experiment, article, None, CONCLUSIONS[verdict.outcome], verdict.winner_id,
              verdict.reason)


def _create(article: Article, actor: User | None, options: dict) -> Experiment:
    arms = list(article.live_headline_ids)
    if not article.is_live or len(arms) < 2:
        raise Conflict("A headline test needs a live article with two or more approved candidates.",
                       current_state=article.state)
    if _active(article.id) is not None:
        raise Conflict("The article already has a running or paused experiment.")
    config = current_app.config
    metric = Metric(options.get("metric") or config["EXPERIMENT_METRIC"])
    experiment = Experiment(
        article_id=article.id, status=ExperimentStatus.RUNNING,
        allocation=Allocation(options.get("allocation", "thompson")), metric=metric,
        prior_sd=experiment_priors.current(metric),
        salt=secrets.token_hex(16), arm_ids=arms, arm_texts=_texts(arms),
        weights=[1 / len(arms)] * len(arms), dropped={},
        default_candidate_id=_default_arm(article, arms), started_by_id=actor.id if actor else None,
        min_impressions=options.get("min_impressions") or config["EXPERIMENT_MIN_IMPRESSIONS"],
        max_impressions=options.get("max_impressions") or config["EXPERIMENT_MAX_IMPRESSIONS"] or None,
        verdict={}, started_at=utcnow(),
    )
    db.session.add(experiment)
    db.session.flush()
    audit.record(article, actor, "experiment_started", details={
        "experiment_id": experiment.id, "arms": arms, "allocation": experiment.allocation.value,
        "metric": metric.value})
    return experiment


def _texts(candidate_ids: list[str]) -> list[str]:
    found = dict(db.session.execute(select(HeadlineCandidate.id, HeadlineCandidate.text)
                                    .where(HeadlineCandidate.id.in_(candidate_ids))).all())
    return [found[candidate_id] for candidate_id in candidate_ids]


def _default_arm(article: Article, arms: list[str]) -> str:
    """The headline shown outside the test: an earlier test's kept headline, else the
    candidate matching the live headline, else the first in the editor's order."""
    if article.canonical_headline_id in arms:
        return article.canonical_headline_id
    live_headline = fold(article.live_revision.headline) if article.live_revision else ""
    for candidate_id in arms:
        candidate = db.session.get(HeadlineCandidate, candidate_id)
        if candidate is not None and candidate.folded == live_headline:
            return candidate_id
    return arms[0]


def _conclude(experiment: Experiment, article: Article, actor: User | None,
              outcome: ExperimentOutcome, kept_id: str | None, reason: str) -> None:
    """End the test; the headline it keeps is promoted unless it is the one already shown."""
    experiment.status, experiment.outcome = ExperimentStatus.CONCLUDED, outcome
    experiment.winner_candidate_id, experiment.ended_at = kept_id, utcnow()
    shown = article.canonical_headline_id or experiment.default_candidate_id
    promoted = kept_id is not None and kept_id != shown
    audit.record(article, actor, "experiment_concluded", details={
        "experiment_id": experiment.id, "outcome": outcome.value, "winner": kept_id,
        "reason": reason, "promoted": promoted,
        "summary": _summary(outcome, promoted)})
    if promoted:
        _promote(article, actor, experiment, kept_id)


def _summary(outcome: ExperimentOutcome, promoted: bool) -> str:
    """One line for the article's history."""
    if outcome == ExperimentOutcome.EQUIVALENT:
        return ("No meaningful difference between the leading headlines: the leader replaces "
                "the default, which was further behind." if promoted else
                "No meaningful difference: the default headline is kept, without a promotion.")
    if outcome in (ExperimentOutcome.WINNER, ExperimentOutcome.OVERRIDE):
        return "The winner becomes the headline." if promoted else "The default headline won."
    return "The default headline stays."


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
