"""An experiment's numbers for editors: per-arm statistics, checks and a time series.

The probabilities come from the same posterior the engine decides on (compared within
periods); CTR and engaged-share intervals are plain Wilson intervals of the totals.
"""

from collections import defaultdict

import numpy as np

from app.experiments import experiment_counts, experiments
from app.experiments.engine import Assessment, totals
from app.experiments.stats import ArmCounts, ctr_interval, probability_lower, srm_pvalue
from app.models import Experiment, ExperimentCount, Metric

SRM_ALPHA = 0.001  # the usual threshold: a mismatch this unlikely means broken randomisation
CLICKBAIT_CONFIDENCE = 0.95  # how sure the guard must be that the winner keeps fewer readers
RESULTS_SEED = 0  # the same numbers on every read


def results(experiment: Experiment) -> dict:
    counted = experiment_counts.rows(experiment)
    periods = experiment_counts.periods(experiment, counted)
    policy = experiments.policy_for(experiment)
    assessment = Assessment.of(periods, policy, RESULTS_SEED)
    arm_totals = totals(periods)
    texts = dict(zip(experiment.arm_ids, experiment.arm_texts, strict=True))
    lift = _lift(assessment, experiment.arm_ids.index(experiment.default_candidate_id))
    arms = [_arm(experiment, arm, texts[arm.id], assessment, i, lift[i])
            for i, arm in enumerate(arm_totals)]
    return {"experiment": experiment, "metric": experiment.metric.value, "margin": policy.margin,
            "arms": arms, "verdict": experiment.verdict or None,
            "quality": _quality(experiment, arm_totals, assessment),
            "sample_ratio": _sample_ratio(experiment, counted, arm_totals),
            "series": _series(experiment, counted)}


def _lift(assessment: Assessment, default: int) -> list[tuple[float, float, float]]:
    """Each arm's rate relative to the default headline's: mean and 95% interval."""
    ratios = np.exp(assessment.samples - assessment.samples[default]) - 1
    low, high = np.percentile(ratios, [2.5, 97.5], axis=1)
    return list(zip(ratios.mean(axis=1).tolist(), low.tolist(), high.tolist(), strict=True))


def _arm(experiment: Experiment, arm: ArmCounts, text: str, assessment: Assessment, index: int,
         lift: tuple[float, float, float]) -> dict:
    low, high = ctr_interval(arm.clicks, arm.impressions)
    engaged_low, engaged_high = ctr_interval(arm.engaged, arm.clicks)
    return {"candidate_id": arm.id, "text": text, "impressions": arm.impressions,
            "clicks": arm.clicks, "engaged": arm.engaged, "ctr": arm.ctr, "ctr_low": low,
            "ctr_high": high, "engaged_share": arm.engaged / arm.clicks if arm.clicks else None,
            "engaged_share_low": engaged_low, "engaged_share_high": engaged_high,
            "probability_best": float(assessment.p_best[index]),
            "probability_within_margin": float(assessment.p_within[index]),
            "lift": lift[0], "lift_low": lift[1], "lift_high": lift[2],
            "weight": experiment.weights[index], "dropped_reason": experiment.dropped.get(arm.id),
            "is_default": arm.id == experiment.default_candidate_id,
            "is_winner": arm.id == experiment.winner_candidate_id}


def _quality(experiment: Experiment, arm_totals: list[ArmCounts], assessment: Assessment) -> dict:
    """The clickbait guard: a clicks winner (or leader) whose readers clearly stay less often
    than the runner-up's."""
    chosen = experiment.arm_ids.index(experiment.winner_candidate_id or
                                      experiment.arm_ids[assessment.leader])
    runner_up = next(int(i) for i in np.argsort(-assessment.p_best) if i != chosen)
    first, second = arm_totals[chosen], arm_totals[runner_up]
    worse = probability_lower(first.engaged, first.clicks, second.engaged, second.clicks)
    flagged = (experiment.metric == Metric.CLICKS and worse >= CLICKBAIT_CONFIDENCE
               and first.engaged + second.engaged > 0)
    return {"candidate_id": first.id, "compared_with": second.id,
            "probability_fewer_engaged": worse, "clickbait": flagged,
            "message": (f"Readers stay on the article less often after clicking this headline "
                        f"than after {second.id} (probability {worse:.0%}): consider testing "
                        "quality clicks." if flagged else None)}


def _sample_ratio(experiment: Experiment, counted: list[ExperimentCount],
                  arm_totals: list[ArmCounts]) -> dict:
    """Observed impressions against those the weights in force when they arrived intended."""
    expected = defaultdict(float)
    for row in counted:
        expected[row.candidate_id] += row.expected
    intended = [expected[arm] for arm in experiment.arm_ids]
    observed = [arm.impressions for arm in arm_totals]
    p_value = srm_pvalue(observed, intended)
    total = sum(intended)
    return {"p_value": p_value, "mismatch": p_value < SRM_ALPHA, "observed": observed,
            "expected": intended, "expected_share": [e / total if total else None for e in intended]}


def _series(experiment: Experiment, counted: list[ExperimentCount]) -> list[dict]:
    """Per period: each arm's traffic share, and its CTR and engaged share so far (95%)."""
    by_period = defaultdict(dict)
    for row in counted:
        by_period[row.period_start][row.candidate_id] = row
    so_far = {arm: ArmCounts(arm, 0, 0) for arm in experiment.arm_ids}
    series = []
    for start in sorted(by_period):
        total = sum(r.impressions for r in by_period[start].values()) or 1
        points = []
        for arm in experiment.arm_ids:
            row = by_period[start].get(arm)
            now = ArmCounts(arm, row.impressions, row.clicks, row.engaged) if row else ArmCounts(arm, 0, 0)
            seen = so_far[arm] = ArmCounts(arm, *(getattr(so_far[arm], k) + getattr(now, k)
                                                 for k in ("impressions", "clicks", "engaged")))
            low, high = ctr_interval(seen.clicks, seen.impressions)
            points.append({"candidate_id": arm, "impressions": now.impressions, "clicks": now.clicks,
                           "engaged": now.engaged, "share": now.impressions / total,
                           "ctr": seen.ctr if seen.impressions else None, "ctr_low": low,
                           "ctr_high": high,
                           "engaged_share": seen.engaged / seen.clicks if seen.clicks else None})
        series.append({"period_start": start, "arms": points})
    return series
