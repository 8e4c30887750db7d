"""The periodic step of every running experiment: new weights, or a verdict.

Each experiment is decided in its own transaction under a row lock, so two overlapping
runs (a slow worker and the next beat tick) cannot both conclude it.
"""

import logging
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select

from app.editorial import articles
from app.experiments import experiment_counts, experiments
from app.experiments.engine import Outcome
from app.experiments.event_stores import event_store
from app.extensions import db
from app.models import Experiment, ExperimentStatus
from app.platform.uow import locked, transaction

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
        result = experiments.look(experiment, now)
        experiment.verdict = asdict(result.verdict)
        if result.verdict.outcome == Outcome.RUNNING:
            experiment_counts.record_weights(experiment, result.weights, result.dropped, now)
        else:
            experiments.conclude_by_engine(experiment, result.verdict)
            log.info("experiment %s concluded: %s (%s)", experiment.id, result.verdict.outcome,
                     result.verdict.reason)
    return result.verdict.outcome
