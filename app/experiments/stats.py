"""Statistics for headline tests, over per-arm impressions and clicks.

- ``ctr_interval``: Wilson score interval of a click-through rate (or an engaged share).
- ``probability_lower``: P(one rate < another) from Beta posteriors (the clickbait guard).
- ``srm_pvalue``: sample-ratio mismatch, a chi-square test of observed impressions
  against the intended ones (broken randomisation shows up here first).

The engine's own posterior (relative rates compared within periods) is in posterior.py.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class ArmCounts:
    id: str
    impressions: int
    clicks: int
    engaged: int = 0  # clicks after which the reader stayed on the article (quality clicks)

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


def probability_lower(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
                      draws: int = 20_000, seed: int = 0) -> float:
    """P(rate a < rate b) under uniform Beta priors (Monte Carlo with a fixed seed)."""
    rng = np.random.default_rng(seed)
    a = rng.beta(1 + successes_a, 1 + trials_a - successes_a, draws)
    b = rng.beta(1 + successes_b, 1 + trials_b - successes_b, draws)
    return float((a < b).mean())


def srm_pvalue(impressions: list[int], expected: list[float]) -> float:
    """Chi-square goodness of fit of observed impressions to the expected ones.

    Arms expected fewer than 5 impressions (dropped ones, say) are pooled into one cell,
    as the chi-square approximation needs, and left out if the pool is still that small.
    """
    observed, intended = np.array(impressions, dtype=float), np.array(expected, dtype=float)
    if intended.sum() <= 0 or observed.sum() == 0:
        return 1.0
    intended = intended / intended.sum() * observed.sum()
    small = intended < 5
    cells_observed = [*observed[~small], observed[small].sum()]
    cells_expected = [*intended[~small], intended[small].sum()]
    if cells_expected[-1] < 5:
        cells_observed, cells_expected = cells_observed[:-1], cells_expected[:-1]
    if len(cells_expected) < 2:
        return 1.0
    scale = sum(cells_observed) / sum(cells_expected)
    return float(stats.chisquare(cells_observed, np.array(cells_expected) * scale).pvalue)
