"""The periodic step of every running experiment: new weights, or a verdict.

Each experiment is decided in its own transaction under a row lock, so two overlapping
runs (a slow worker and the next beat tick) cannot both conclude it.
"""

import logging
import zlib
from dataclasses import asdict, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.experiments.engine import Outcome, Verdict, allocate, decide
from app.extensions import db
from app.models import Experiment, ExperimentOutcome, ExperimentStatus
from app.services import articles, experiment_counts, experiments
from app.services.event_stores import event_store
from app.services.uow import locked, transaction

log = logging.getLogger(__name__)


def run_all(now: datetime) -> dict:
    """Flush pending events, then step every running experiment."""
    flushed = event_store().flush()
    outcomes = [_step_or_log(experiment_id, now) for experiment_id in experiments.running_ids()]
    return {"flushed_events": flushed, "experiments": len(outcomes),
            "concluded": sum(o not in (Outcome.RUNNING, None) for o in outcomes),
            "failed": outcomes.count(None)}


def _step_or_log(experiment_id: str, now: datetime) -> Outcome | None:
    """One test's failure must not stop the others from being stepped."""
    try:
        return step(experiment_id, now)
    except Exception:
        log.exception("experiment %s could not be stepped", experiment_id)
        return None


def step(experiment_id: str, now: datetime) -> Outcome:
    with transaction():
        # The article first, then the experiment: the order editors' actions lock them in.
        article_id = db.session.scalar(select(Experiment.article_id).where(Experiment.id == experiment_id))
        articles.locked_for_system(article_id)
        experiment = locked(Experiment, experiment_id)
        if experiment.status != ExperimentStatus.RUNNING:
            return Outcome.RUNNING
        periods = experiment_counts.periods(experiment)
        policy = experiments.policy_for(experiment)
        verdict = _gated(decide(periods, policy), experiment, now)
        experiment.verdict = asdict(verdict)
        if verdict.outcome == Outcome.RUNNING:
            seed = zlib.crc32(f"{experiment.id}{now.isoformat()}".encode())
            experiment_counts.record_weights(experiment, allocate(periods, policy, seed), now)
        else:
            outcome = ExperimentOutcome.WINNER if verdict.outcome == Outcome.WINNER \
                else ExperimentOutcome.NO_WINNER
            experiments.conclude_by_engine(experiment, outcome, verdict.winner_id, verdict.reason)
            log.info("experiment %s concluded: %s (%s)", experiment.id, outcome, verdict.reason)
    return verdict.outcome


def _gated(verdict: Verdict, experiment: Experiment, now: datetime) -> Verdict:
    """The duration rules around the engine's verdict: a minimum before a winner, a maximum."""
    config = current_app.config
    age = now - experiment.started_at
    if verdict.outcome == Outcome.WINNER and age < timedelta(seconds=config["EXPERIMENT_MIN_SECONDS"]):
        return replace(verdict, outcome=Outcome.RUNNING, winner_id=None,
                       reason="a winner is ahead; waiting for the minimum duration")
    if verdict.outcome == Outcome.RUNNING and age >= timedelta(hours=config["EXPERIMENT_MAX_HOURS"]):
        return replace(verdict, outcome=Outcome.NO_WINNER, winner_id=None,
                       reason="maximum duration reached without a clear winner")
    return verdict
