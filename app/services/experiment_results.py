"""An experiment's numbers for editors: per-arm statistics, checks and a time series."""

from collections import defaultdict
from datetime import datetime

from app.experiments.stats import (
    ArmCounts,
    ctr_interval,
    expected_loss,
    msprt_pvalue,
    probability_best,
    srm_pvalue,
)
from app.models import Experiment
from app.services import experiment_counts

SRM_ALPHA = 0.001  # the usual threshold: a mismatch this unlikely means broken randomisation


def results(experiment: Experiment) -> dict:
    rows = experiment_counts.rows(experiment)
    totals = _totals(experiment, rows)
    texts = dict(zip(experiment.arm_ids, experiment.arm_texts, strict=True))
    p_best, loss = probability_best(totals), expected_loss(totals)
    arms = [_arm(experiment, arm, texts.get(arm.id, ""), p_best[i], loss[i])
            for i, arm in enumerate(totals)]
    return {"experiment": experiment, "arms": arms, "sequential_test": _sequential(totals),
            "sample_ratio": _sample_ratio(experiment, rows, totals), "series": _series(experiment, rows)}


def _totals(experiment: Experiment, rows) -> list[ArmCounts]:
    sums = {arm: [0, 0] for arm in experiment.arm_ids}
    for row in rows:
        sums[row.candidate_id][0] += row.impressions
        sums[row.candidate_id][1] += row.clicks
    return [ArmCounts(arm, *sums[arm]) for arm in experiment.arm_ids]


def _arm(experiment: Experiment, arm: ArmCounts, text: str, p_best: float, loss: float) -> dict:
    low, high = ctr_interval(arm.clicks, arm.impressions)
    return {"candidate_id": arm.id, "text": text, "impressions": arm.impressions,
            "clicks": arm.clicks, "ctr": arm.ctr, "ctr_low": low, "ctr_high": high,
            "probability_best": p_best, "expected_loss": loss,
            "weight": experiment.weights[experiment.arm_ids.index(arm.id)],
            "is_default": arm.id == experiment.default_candidate_id,
            "is_winner": arm.id == experiment.winner_candidate_id}


def _sequential(totals: list[ArmCounts]) -> dict:
    """Always-valid p-value of the leader against the runner-up (safe to check at any time)."""
    leader, runner_up = sorted(totals, key=lambda a: a.ctr, reverse=True)[:2]
    return {"leader": leader.id, "runner_up": runner_up.id,
            "p_value": msprt_pvalue(runner_up, leader)}


def _sample_ratio(experiment: Experiment, rows, totals: list[ArmCounts]) -> dict:
    """Observed impressions against the split intended in each period."""
    per_period = defaultdict(int)
    for row in rows:
        per_period[row.period_start] += row.impressions
    expected = defaultdict(float)
    for start, period_total in per_period.items():
        for arm, weight in zip(experiment.arm_ids, _intended(experiment, start), strict=True):
            expected[arm] += weight * period_total
    observed = [a.impressions for a in totals]
    shares = [max(expected[a], 1e-9) for a in experiment.arm_ids]
    p_value = srm_pvalue(observed, shares)
    return {"p_value": p_value, "mismatch": p_value < SRM_ALPHA,
            "expected_share": [s / sum(shares) for s in shares]}


def _intended(experiment: Experiment, start: datetime) -> list[float]:
    weights = [1 / len(experiment.arm_ids)] * len(experiment.arm_ids)
    for entry_start, entry_weights, _count in experiment.weight_history:
        if datetime.fromisoformat(entry_start) <= start:
            weights = entry_weights
    return weights


def _series(experiment: Experiment, rows) -> list[dict]:
    """Per period: each arm's traffic share, and its CTR so far with a 95% interval."""
    by_period = defaultdict(dict)
    for row in rows:
        by_period[row.period_start][row.candidate_id] = row
    so_far = {arm: [0, 0] for arm in experiment.arm_ids}
    series = []
    for start in sorted(by_period):
        total = sum(r.impressions for r in by_period[start].values()) or 1
        points = []
        for arm in experiment.arm_ids:
            row = by_period[start].get(arm)
            impressions, clicks = (row.impressions, row.clicks) if row else (0, 0)
            so_far[arm][0] += impressions
            so_far[arm][1] += clicks
            seen, clicked = so_far[arm]
            low, high = ctr_interval(clicked, seen)
            points.append({"candidate_id": arm, "impressions": impressions, "clicks": clicks,
                           "share": impressions / total, "ctr": clicked / seen if seen else None,
                           "ctr_low": low, "ctr_high": high})
        series.append({"period_start": start, "arms": points})
    return series
