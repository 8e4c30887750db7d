"""The experiment engine: how traffic is split and when a winner is declared.

Allocation is top-two Thompson sampling: the leader is drawn from the posterior, and
half the time the traffic goes instead to the best of the other arms in the same draw,
so exploration is spent on the two arms that can still win rather than spread as floors
over clearly inferior ones; arms whose probability of being best falls below
``drop_below`` (after the minimum sample) get no more traffic. ``allocation="fixed"``
splits traffic equally instead (same stopping rule).

The input is the per-period history (``periods[k][i]``: arm i's counts in period k, the
service's counting periods); this engine decides on the totals. Comparing arms within
periods (so a CTR decaying over the article's life cannot favour the arm that got its
traffic early) is the next step; the replay shows what that costs today.

A winner is declared when the always-valid mSPRT p-value of the leader against the
runner-up is below ``alpha`` (so continuous checking does not inflate false winners)
and the leader's expected loss is below ``max_relative_loss`` of its CTR, after
``min_impressions`` per arm. "No winner" is declared at ``max_impressions``: the editor's
default headline stays.
"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from app.experiments.stats import ArmCounts, expected_loss, msprt_pvalue, posterior_draws


class Outcome(StrEnum):
    RUNNING = "running"
    WINNER = "winner"
    NO_WINNER = "no_winner"


@dataclass(frozen=True)
class Policy:
    allocation: str = "thompson"  # or "fixed": an equal split throughout
    alpha: float = 0.05
    max_relative_loss: float = 0.01
    min_impressions: int = 1000  # per arm, before any verdict
    max_impressions: int | None = None  # in total; None: run until stopped
    top_two_share: float = 0.5
    drop_below: float = 0.01
    prior: tuple[float, float] = (1.0, 1.0)
    draws: int = 4000
    tau_scale: float = 0.1  # mSPRT mixing scale, as a share of the pooled CTR


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    winner_id: str | None
    reason: str
    p_value: float | None = None


def totals(periods: list[list[ArmCounts]]) -> list[ArmCounts]:
    """Each arm's counts summed over the periods (every period lists the arms in one order)."""
    return [ArmCounts(arm.id, sum(p[i].impressions for p in periods), sum(p[i].clicks for p in periods))
            for i, arm in enumerate(periods[0])]


def allocate(periods: list[list[ArmCounts]], policy: Policy, seed: int = 0) -> list[float]:
    """Traffic weights per arm (they sum to 1)."""
    arms = totals(periods)
    if policy.allocation == "fixed":
        return [1 / len(arms)] * len(arms)
    samples = posterior_draws(arms, policy.prior, policy.draws, seed)
    order = np.argsort(-samples, axis=1)
    leaders, challengers = order[:, 0], order[:, 1] if len(arms) > 1 else order[:, 0]
    rng = np.random.default_rng(seed + 1)
    chosen = np.where(rng.random(policy.draws) < policy.top_two_share, challengers, leaders)
    weights = np.bincount(chosen, minlength=len(arms)).astype(float)
    p_best = np.bincount(leaders, minlength=len(arms)) / policy.draws
    settled = min(a.impressions for a in arms) >= policy.min_impressions
    if settled:
        weights[p_best < policy.drop_below] = 0.0
    if weights.sum() == 0:
        weights[:] = 1.0
    return (weights / weights.sum()).tolist()


def decide(periods: list[list[ArmCounts]], policy: Policy) -> Verdict:
    arms = totals(periods)
    if len(arms) < 2:
        return Verdict(Outcome.NO_WINNER, None, "an experiment needs two arms")
    total = sum(a.impressions for a in arms)
    if policy.max_impressions is not None and total >= policy.max_impressions:
        return Verdict(Outcome.NO_WINNER, None, "maximum sample reached without a clear winner")
    active = [a for a in arms if a.impressions > 0]
    if len(active) < 2 or min(a.impressions for a in arms) < policy.min_impressions:
        return Verdict(Outcome.RUNNING, None, "collecting the minimum sample")
    ranked = sorted(arms, key=lambda a: a.ctr, reverse=True)
    leader, runner_up = ranked[0], ranked[1]
    pooled = sum(a.clicks for a in arms) / max(total, 1)
    p_value = msprt_pvalue(runner_up, leader, tau=max(policy.tau_scale * pooled, 1e-6))
    loss = expected_loss(arms, policy.prior, policy.draws)[arms.index(leader)]
    if p_value < policy.alpha and loss <= policy.max_relative_loss * max(leader.ctr, 1e-9):
        return Verdict(Outcome.WINNER, leader.id, "leader is ahead beyond doubt", p_value)
    return Verdict(Outcome.RUNNING, None, "no arm is ahead beyond doubt yet", p_value)
