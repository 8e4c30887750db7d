"""The experiment engine: at each look, a verdict or the next traffic split.

``look`` is the one function the service's periodic step and ``bench/experiment_replay.py``
both call, with a ``Policy`` that both build with ``policy_from_settings``; what the replay
measures is what the service runs.

Every decision reads the posterior of the arms' relative rates, compared within periods
(app/experiments/posterior.py), with an informative prior fitted on finished tests.

Verdicts (``margin`` is the practical difference, 10% relative by default):

- ``winner``: the leader is the best arm with probability >= 1 - alpha (which bounds the
  chance that any of the other arms, however many there are, is better), and against
  each other arm the Bayes factor for a difference is at least (arms - 1) / alpha: an
  always-valid test (Ville's inequality, Bonferroni over the arms), so looking every
  minute cannot turn an A/A test into a false winner more than alpha of the time.
- ``equivalent``: no meaningful difference. With probability >= ``equivalence`` (0.95 by
  default) no arm beats the default headline by more than the margin: the default is kept,
  without a promotion (an A/A test ends here). Or, with that probability, no arm beats the
  leader by more than the margin, the default is more likely than not more than the
  margin behind it (else promoting the leader would be churn), and an arm other than the
  default may still be as good as the leader (else the leader is waiting to be the
  winner): the leader is kept. Its confidence is a setting of
  its own because it decides how often a test ends at all, at a price: on the Upworthy
  replay (README) 0.95 ends 6% of tests and no verdict keeps an arm more than 10% worse
  than the best; 0.875 ends 42%, but 6% of those verdicts keep such an arm.
- ``no_verdict``: the sample or time cap came first; the default headline stays.

Allocation (``thompson``): each arm's probability of being best, raised to ``sharpness``
(a sharpened Thompson sampling: headline tests are short, so the clicks a test may still
earn are worth more than what one more look at a weak arm would teach). Every arm keeps
at least ``exploration / arms`` of the traffic until the evidence shows it worse than the
leader (the winner's Bayes factor, and a chance of beating the leader below
alpha / (arms - 1)), so the sample a verdict needs keeps coming instead of starving; arms
that are clearly behind (chances of being best and of beating the leader by the margin
both negligible) are dropped, with that reason. Once no arm beats the leader by the
margin, the default keeps at least its equal share until it is settled: whether it may be
kept is then all the test has left to learn, and a starved default would hold the
``equivalent`` verdict back for a long time. ``fixed`` splits equally throughout,
with the same verdicts.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from app.experiments.posterior import Posterior, posterior
from app.experiments.stats import ArmCounts

# The spread of log relative CTRs between candidates of one test, fitted on the Upworthy
# Research Archive (bench/fit_prior.py): the prior until a deployment has enough finished
# tests of its own.
ARCHIVE_PRIOR_SD = 0.24
DROP_BELOW = 0.001  # an arm is dropped when its chances are below this (see module doc)


class Outcome(StrEnum):
    RUNNING = "running"
    WINNER = "winner"
    EQUIVALENT = "equivalent"
    NO_VERDICT = "no_verdict"


QUALITY_CLICKS = "quality_clicks"  # the metric that counts engaged clicks instead of clicks


@dataclass(frozen=True)
class Policy:
    allocation: str = "thompson"  # or "fixed": an equal split throughout
    metric: str = "clicks"  # or QUALITY_CLICKS
    prior_sd: float = ARCHIVE_PRIOR_SD
    margin: float = 0.10
    alpha: float = 0.05
    equivalence: float = 0.95  # the confidence an ``equivalent`` verdict needs
    sharpness: float = 2.0
    exploration: float = 0.05
    min_impressions: int = 0  # in total, before any verdict
    max_impressions: int | None = None  # in total; None: no cap
    min_seconds: float = 0.0  # before any verdict
    max_seconds: float | None = None
    draws: int = 2000


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    winner_id: str | None  # the arm kept: the winner, or the headline kept when equivalent
    reason: str
    leader_id: str | None = None
    probability_best: float | None = None  # the leader's
    probability_within_margin: float | None = None  # no arm beats the leader by the margin


@dataclass(frozen=True)
class Look:
    verdict: Verdict
    weights: list[float]
    dropped: dict[str, str] = field(default_factory=dict)  # arm id -> why it gets no traffic


def policy_from_settings(settings: Mapping, **overrides) -> Policy:
    """The policy the service runs, from its settings (and a test's own choices)."""
    max_hours = settings["EXPERIMENT_MAX_HOURS"]
    base = {
        "metric": settings["EXPERIMENT_METRIC"],
        "margin": settings["EXPERIMENT_MARGIN"],
        "alpha": settings["EXPERIMENT_ALPHA"],
        "equivalence": settings["EXPERIMENT_EQUIVALENCE_CONFIDENCE"],
        "sharpness": settings["EXPERIMENT_SHARPNESS"],
        "exploration": settings["EXPERIMENT_EXPLORATION"],
        "min_impressions": settings["EXPERIMENT_MIN_IMPRESSIONS"],
        "max_impressions": settings["EXPERIMENT_MAX_IMPRESSIONS"] or None,
        "min_seconds": settings["EXPERIMENT_MIN_SECONDS"],
        "max_seconds": max_hours * 3600 if max_hours else None,
    }
    return Policy(**{**base, **{k: v for k, v in overrides.items() if v is not None}})


@dataclass(frozen=True)
class Assessment:
    """What the posterior says about each arm at one look."""

    ids: list[str]
    p_best: np.ndarray
    p_within: np.ndarray  # P(no arm beats this one by more than the margin)
    threat: np.ndarray  # P(this arm beats the leader by more than the margin)
    beats: np.ndarray  # P(this arm beats the leader)
    behind: np.ndarray  # P(the leader beats this arm by more than the margin)
    evidence: np.ndarray  # log Bayes factor that the leader and this arm differ
    leader: int
    samples: np.ndarray  # posterior draws of the log relative rates: (arms, draws)

    @classmethod
    def of(cls, periods: list[list[ArmCounts]], policy: Policy, seed: int) -> "Assessment":
        impressions, successes = counts(periods, policy.metric)
        fitted = posterior(impressions, successes, policy.prior_sd)
        samples = fitted.draws(policy.draws, seed)
        margin, share = math.log1p(policy.margin), 1 / policy.draws
        p_best = np.bincount(samples.argmax(axis=0), minlength=len(samples)) * share
        p_within = np.count_nonzero(samples.max(axis=0) - samples <= margin, axis=1) * share
        leader = int(np.argmax(p_best + 1e-9 * p_within))
        lead = samples[leader] - samples
        return cls([arm.id for arm in periods[0]], p_best, p_within,
                   *(np.count_nonzero(test, axis=1) * share
                     for test in (lead < -margin, lead < 0, lead > margin)),
                   _evidence(fitted, leader, policy.prior_sd), leader, samples)


def _evidence(fitted: Posterior, leader: int, prior_sd: float) -> np.ndarray:
    """log Bayes factor of "the leader and arm j differ" against "they are equal", per arm.

    Savage-Dickey: the prior density of the difference at 0 over its posterior density at
    0 (the prior of a difference of two arms is N(0, 2 prior_sd^2)). Under "equal" this
    Bayes factor is a nonnegative martingale, so by Ville's inequality it ever reaches
    1/alpha with probability at most alpha, however often it is looked at.
    """
    difference = fitted.mean[leader] - fitted.mean
    variance = fitted.cov[leader, leader] + np.diag(fitted.cov) - 2 * fitted.cov[leader]
    variance[leader] = 1.0  # the leader against itself: no evidence, set below
    evidence = 0.5 * np.log(variance / (2 * prior_sd ** 2)) + difference ** 2 / (2 * variance)
    evidence[leader] = np.inf
    return evidence


def counts(periods: list[list[ArmCounts]], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(periods, arms) arrays of impressions and of the successes the metric counts."""
    impressions = np.array([[arm.impressions for arm in period] for period in periods], dtype=float)
    key = "engaged" if metric == QUALITY_CLICKS else "clicks"
    successes = np.array([[getattr(arm, key) for arm in period] for period in periods], dtype=float)
    return impressions, successes


def totals(periods: list[list[ArmCounts]]) -> list[ArmCounts]:
    """Each arm's counts summed over the periods (every period lists the arms in one order)."""
    return [ArmCounts(arm.id, *(sum(getattr(p[i], key) for p in periods)
                                for key in ("impressions", "clicks", "engaged")))
            for i, arm in enumerate(periods[0])]


def look(periods: list[list[ArmCounts]], policy: Policy, age_seconds: float, default_id: str,
         seed: int = 0) -> Look:
    """The verdict at this look, and the traffic split until the next one."""
    if len(periods[0]) < 2:
        return Look(Verdict(Outcome.NO_VERDICT, None, "a test needs two arms"), [1.0])
    assessment = Assessment.of(periods, policy, seed)
    default = assessment.ids.index(default_id) if default_id in assessment.ids else None
    verdict = _gated(decide(assessment, policy, default), periods, policy, age_seconds)
    if verdict.outcome != Outcome.RUNNING:
        return Look(verdict, [float(arm.id == verdict.winner_id) for arm in periods[0]])
    weights, dropped = allocate(assessment, policy, default)
    return Look(verdict, weights, dropped)


def decide(assessment: Assessment, policy: Policy, default: int | None) -> Verdict:
    """The statistical verdict, before the sample and duration rules (``default``: the
    default headline's arm, None if it is not among them)."""
    ids, leader, confident = assessment.ids, assessment.leader, 1 - policy.alpha
    numbers = {"leader_id": ids[leader], "probability_best": float(assessment.p_best[leader]),
               "probability_within_margin": float(assessment.p_within[leader])}
    always_valid = assessment.evidence.min() >= _evidence_needed(policy, len(ids))
    if assessment.p_best[leader] >= confident and always_valid:
        return Verdict(Outcome.WINNER, ids[leader], "the leader beats every other candidate",
                       **numbers)
    default = leader if default is None else default
    margin, equivalent = f"{policy.margin:.0%}", policy.equivalence
    if assessment.p_within[default] >= equivalent:
        return Verdict(Outcome.EQUIVALENT, ids[default], f"no meaningful difference: no candidate "
                       f"beats the default by more than {margin}; the default is kept", **numbers)
    rivals = np.delete(assessment.behind, sorted({leader, default}))
    contested = bool((rivals < confident).any())  # a clear leader waits for ``winner`` instead
    default_behind = assessment.behind[default] > 0.5  # more likely than not: no churn otherwise
    if assessment.p_within[leader] >= equivalent and default_behind and contested:
        return Verdict(Outcome.EQUIVALENT, ids[leader], f"no meaningful difference among the "
                       f"leading candidates: none beats the leader by more than {margin}, and the "
                       f"default is probably more than {margin} behind it: the leader is kept",
                       **numbers)
    return Verdict(Outcome.RUNNING, None, "no candidate is ahead beyond doubt yet", **numbers)


def _gated(verdict: Verdict, periods: list[list[ArmCounts]], policy: Policy,
           age_seconds: float) -> Verdict:
    """The sample and duration rules around the statistical verdict."""
    total = sum(arm.impressions for period in periods for arm in period)
    numbers = {"leader_id": verdict.leader_id, "probability_best": verdict.probability_best,
               "probability_within_margin": verdict.probability_within_margin}
    if verdict.outcome != Outcome.RUNNING:
        if total < policy.min_impressions:
            return Verdict(Outcome.RUNNING, None, "collecting the minimum sample", **numbers)
        if age_seconds < policy.min_seconds:
            return Verdict(Outcome.RUNNING, None, f"the verdict '{verdict.outcome}' is in reach; "
                           "waiting for the minimum duration", **numbers)
        return verdict
    if policy.max_impressions is not None and total >= policy.max_impressions:
        return Verdict(Outcome.NO_VERDICT, None, "maximum sample reached without a verdict", **numbers)
    if policy.max_seconds is not None and age_seconds >= policy.max_seconds:
        return Verdict(Outcome.NO_VERDICT, None, "maximum duration reached without a verdict",
                       **numbers)
    return verdict


def allocate(assessment: Assessment, policy: Policy,
             default: int | None = None) -> tuple[list[float], dict[str, str]]:
    """Traffic weights (summing to 1) and the arms dropped, with the reason."""
    arms = len(assessment.ids)
    if policy.allocation == "fixed":
        return [1 / arms] * arms, {}
    weights = assessment.p_best ** policy.sharpness
    weights = weights / weights.sum()
    proven = assessment.evidence >= _evidence_needed(policy, arms)
    settled = proven & (assessment.beats <= policy.alpha / (arms - 1))
    floor = np.where(settled, 0.0, policy.exploration / arms)
    if default is not None and assessment.p_within[assessment.leader] >= policy.equivalence:
        # Nothing beats the leader by the margin any more: what is left to learn is whether
        # the default may be kept, so it gets its equal share until that is settled.
        floor[default] = 0.0 if settled[default] else 1 / arms
    weights = _floored(weights, floor)
    behind = (assessment.p_best < DROP_BELOW) & (assessment.threat < DROP_BELOW)
    behind[assessment.leader] = False
    weights[behind] = 0.0
    dropped = {assessment.ids[i]: _drop_reason(policy) for i in np.flatnonzero(behind)}
    return (weights / weights.sum()).tolist(), dropped


def _evidence_needed(policy: Policy, arms: int) -> float:
    """The log Bayes factor a winner needs against each other arm."""
    return math.log((arms - 1) / policy.alpha)


def _floored(weights: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Weights raised to their floors, the difference taken from the arms above theirs."""
    raised = np.maximum(weights, floor)
    room = raised - floor
    return raised - (raised.sum() - 1) * room / room.sum()


def _drop_reason(policy: Policy) -> str:
    return (f"clearly behind: below {DROP_BELOW:.1%} to be the best and to beat the leader by "
            f"{policy.margin:.0%}")
