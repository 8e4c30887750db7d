"""Per-period counts of an experiment: written by event ingestion, read by the engine.

A period is a fixed slice of wall-clock time (EXPERIMENT_PERIOD_SECONDS). The engine
compares arms within periods, so a headline's CTR decaying as the story ages does not
bias the comparison, and the results endpoint draws its time series from the same rows.
"""

from collections import defaultdict
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.experiments.stats import ArmCounts
from app.extensions import db
from app.models import Experiment, ExperimentCount
from app.services.uow import upsert

CountKey = tuple[str, str, datetime]  # experiment id, candidate id, period start


def period_start(when: datetime) -> datetime:
    seconds = current_app.config["EXPERIMENT_PERIOD_SECONDS"]
    epoch = int(when.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def add(counts: dict[CountKey, tuple[int, int]]) -> None:
    """Add impressions and clicks to the period rows (created on first use)."""
    if not counts:
        return
    rows = [{"experiment_id": e, "candidate_id": c, "period_start": p, "impressions": i, "clicks": k}
            for (e, c, p), (i, k) in sorted(counts.items())]
    statement = upsert(ExperimentCount).values(rows)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[ExperimentCount.experiment_id, ExperimentCount.candidate_id,
                        ExperimentCount.period_start],
        set_={"impressions": ExperimentCount.impressions + statement.excluded.impressions,
              "clicks": ExperimentCount.clicks + statement.excluded.clicks},
    ))


def rows(experiment: Experiment) -> list[ExperimentCount]:
    query = select(ExperimentCount).where(ExperimentCount.experiment_id == experiment.id)
    return list(db.session.scalars(query.order_by(ExperimentCount.period_start)))


def periods(experiment: Experiment) -> list[list[ArmCounts]]:
    """Chronological per-period counts, one ArmCounts per arm in the experiment's order
    (a single empty period before any event, so the arms are always known)."""
    by_period: dict[datetime, dict[str, ExperimentCount]] = defaultdict(dict)
    for row in rows(experiment):
        by_period[row.period_start][row.candidate_id] = row
    return [[_arm(by_period[start].get(arm), arm) for arm in experiment.arm_ids]
            for start in sorted(by_period)] or [[_arm(None, arm) for arm in experiment.arm_ids]]


def _arm(row: ExperimentCount | None, arm_id: str) -> ArmCounts:
    return ArmCounts(arm_id, row.impressions, row.clicks) if row else ArmCounts(arm_id, 0, 0)


def record_weights(experiment: Experiment, weights: list[float], now: datetime) -> None:
    """Set the traffic split, keeping the mean split of each period (recomputations come at
    a steady cadence, so the mean over them is the split intended over the period)."""
    start = period_start(now).isoformat()
    history = experiment.weight_history
    if history and history[-1][0] == start:
        _, mean, count = history[-1]
        mean = [(m * count + w) / (count + 1) for m, w in zip(mean, weights, strict=True)]
        history = [*history[:-1], [start, mean, count + 1]]
    else:
        history = [*history, [start, weights, 1]]
    experiment.weights, experiment.weight_history = weights, history
    experiment.weights_updated_at = now
