"""Per-period counts of an experiment: written by event ingestion, read by the engine.

A period is a fixed slice of wall-clock time (EXPERIMENT_PERIOD_SECONDS). The engine
compares arms within periods (app/experiments/posterior.py), so a headline's CTR decaying
as the story ages does not bias the comparison, and the results endpoint draws its time
series from the same rows. Each row also carries ``expected``: for every impression
counted, the arm's weight in force when it arrived, summed (the split the test intended,
which the sample-ratio check compares with).
"""

from collections import defaultdict
from datetime import UTC, datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select

from app.experiments.stats import ArmCounts
from app.extensions import db
from app.models import Experiment, ExperimentCount
from app.platform.uow import upsert

CountKey = tuple[str, str, datetime]  # experiment id, candidate id, period start


class Tally(NamedTuple):
    impressions: int = 0
    clicks: int = 0
    engaged: int = 0
    expected: float = 0.0

    def __add__(self, other):  # element-wise, unlike a tuple's concatenation
        return Tally(*(a + b for a, b in zip(self, other, strict=True)))


FIELDS = {"i": "impressions", "c": "clicks", "e": "engaged"}  # event kind -> its counter


def period_start(when: datetime) -> datetime:
    seconds = current_app.config["EXPERIMENT_PERIOD_SECONDS"]
    epoch = int(when.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def add(counts: dict[CountKey, Tally]) -> None:
    """Add events to the period rows (created on first use)."""
    if not counts:
        return
    rows = [{"experiment_id": e, "candidate_id": c, "period_start": p, **tally._asdict()}
            for (e, c, p), tally in sorted(counts.items())]
    statement = upsert(ExperimentCount).values(rows)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[ExperimentCount.experiment_id, ExperimentCount.candidate_id,
                        ExperimentCount.period_start],
        set_={name: getattr(ExperimentCount, name) + getattr(statement.excluded, name)
              for name in Tally._fields},
    ))


def rows(experiment: Experiment) -> list[ExperimentCount]:
    query = select(ExperimentCount).where(ExperimentCount.experiment_id == experiment.id)
    return list(db.session.scalars(query.order_by(ExperimentCount.period_start)))


def periods(experiment: Experiment, counted: list[ExperimentCount] | None = None) -> list[list[ArmCounts]]:
    """Chronological per-period counts, one ArmCounts per arm in the experiment's order
    (a single empty period before any event, so the arms are always known)."""
    by_period: dict[datetime, dict[str, ExperimentCount]] = defaultdict(dict)
    for row in rows(experiment) if counted is None else counted:
        by_period[row.period_start][row.candidate_id] = row
    return [[_arm(by_period[start].get(arm), arm) for arm in experiment.arm_ids]
            for start in sorted(by_period)] or [[_arm(None, arm) for arm in experiment.arm_ids]]


def _arm(row: ExperimentCount | None, arm_id: str) -> ArmCounts:
    return ArmCounts(arm_id, row.impressions, row.clicks, row.engaged) if row else ArmCounts(arm_id, 0, 0)


def record_weights(experiment: Experiment, weights: list[float], dropped: dict[str, str],
                   now: datetime) -> None:
    """Set the traffic split (the serving snapshot picks it up) and the arms it drops."""
    experiment.weights, experiment.dropped = weights, dropped
    experiment.weights_updated_at = now
