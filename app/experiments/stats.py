"""Statistics for headline tests, over per-arm impressions and clicks.

- ``ctr_interval``: Wilson score interval of a click-through rate.
- ``probability_best`` / ``expected_loss``: Bayesian, from Beta posteriors (Monte Carlo
  with a fixed seed, so a result is reproducible).
- ``msprt_pvalue``: an always-valid p-value (mixture sequential probability ratio test,
  Johari et al. 2017) for the difference of two CTRs: it may be checked after every batch
  of events without inflating the false-winner rate, unlike a repeated chi-square test.
- ``srm_pvalue``: sample-ratio mismatch, a chi-square test of observed impressions
  against the intended allocation (broken randomisation shows up here first).
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class ArmCounts:
    id: str
    impressions: int
    clicks: int

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0


def ctr_interval(clicks: int, impressions: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval; (0, 1) when there is no data."""
    if impressions == 0:
        return 0.0, 1.0
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = clicks / impressions
    denominator = 1 + z * z / impressions
    centre = (p + z * z / (2 * impressions)) / denominator
    half = z * np.sqrt(p * (1 - p) / impressions + z * z / (4 * impressions ** 2)) / denominator
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def posterior_draws(arms: list[ArmCounts], prior: tuple[float, float] = (1.0, 1.0),
                    draws: int = 20_000, seed: int = 0) -> np.ndarray:
    """Samples of each arm's CTR from its Beta posterior: shape (draws, arms)."""
    rng = np.random.default_rng(seed)
    alpha = np.array([prior[0] + a.clicks for a in arms], dtype=float)
    beta = np.array([prior[1] + a.impressions - a.clicks for a in arms], dtype=float)
    return rng.beta(alpha, beta, size=(draws, len(arms)))


def probability_best(arms: list[ArmCounts], prior=(1.0, 1.0), draws: int = 20_000,
                     seed: int = 0) -> list[float]:
    samples = posterior_draws(arms, prior, draws, seed)
    wins = np.bincount(samples.argmax(axis=1), minlength=len(arms))
    return (wins / draws).tolist()


def expected_loss(arms: list[ArmCounts], prior=(1.0, 1.0), draws: int = 20_000,
                  seed: int = 0) -> list[float]:
    """E[max CTR - this arm's CTR]: the clicks per impression lost by choosing the arm."""
    samples = posterior_draws(arms, prior, draws, seed)
    return (samples.max(axis=1, keepdims=True) - samples).mean(axis=0).tolist()


def msprt_pvalue(a: ArmCounts, b: ArmCounts, tau: float | None = None) -> float:
    """Always-valid p-value for "a and b have the same CTR".

    Normal approximation of the difference d = ctr_b - ctr_a with variance v, mixed over
    effects theta ~ N(0, tau^2): Lambda = sqrt(v / (v + tau^2)) *
    exp(d^2 tau^2 / (2 v (v + tau^2))), and p = min(1, 1/Lambda). The default tau is a
    tenth of the pooled CTR: headline effects are relative and small.
    """
    if min(a.impressions, b.impressions) == 0:
        return 1.0
    pooled = (a.clicks + b.clicks) / (a.impressions + b.impressions)
    tau = tau if tau is not None else max(0.1 * pooled, 1e-6)
    # An arm with no clicks yet (or only clicks) borrows the pooled variance.
    variance = sum((arm.ctr * (1 - arm.ctr) if 0 < arm.ctr < 1 else pooled * (1 - pooled))
                   / arm.impressions for arm in (a, b))
    if variance <= 0:
        return 1.0
    d = b.ctr - a.ctr
    t2 = tau * tau
    log_lambda = 0.5 * np.log(variance / (variance + t2)) + d * d * t2 / (2 * variance * (variance + t2))
    return float(min(1.0, np.exp(-log_lambda)))


def srm_pvalue(impressions: list[int], weights: list[float]) -> float:
    """Chi-square goodness of fit of observed impressions to the intended weights."""
    total = sum(impressions)
    if total == 0:
        return 1.0
    expected = np.array(weights, dtype=float) / sum(weights) * total
    return float(stats.chisquare(impressions, expected).pvalue)
