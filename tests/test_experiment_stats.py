"""The experiment statistics against known values computed with scipy."""

import numpy as np
import pytest
from scipy import integrate, stats

from app.experiments.stats import (
    ArmCounts,
    ctr_interval,
    expected_loss,
    msprt_pvalue,
    probability_best,
    srm_pvalue,
)


@pytest.mark.parametrize(("clicks", "impressions"), [(0, 10), (3, 100), (150, 3052), (999, 1000)])
def test_wilson_interval_matches_scipy(clicks, impressions):
    expected = stats.binomtest(clicks, impressions).proportion_ci(0.95, method="wilson")
    low, high = ctr_interval(clicks, impressions)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


def _exact_two_arm(a: ArmCounts, b: ArmCounts):
    """P(b > a) and E[max - a], E[max - b] by numerical integration of the Beta posteriors."""
    pa = stats.beta(1 + a.clicks, 1 + a.impressions - a.clicks)
    pb = stats.beta(1 + b.clicks, 1 + b.impressions - b.clicks)
    lo, hi = min(pa.ppf(1e-9), pb.ppf(1e-9)), max(pa.isf(1e-9), pb.isf(1e-9))
    p_b_best = integrate.quad(lambda x: pb.pdf(x) * pa.cdf(x), lo, hi, limit=200)[0]
    # E[max(A,B) - A] = E[(B - A)+] = integral over x of P(B > x) * density of A ... use samples-free form
    loss_a = integrate.quad(lambda x: pa.cdf(x) * pb.sf(x), lo, hi, limit=200)[0]
    loss_b = integrate.quad(lambda x: pb.cdf(x) * pa.sf(x), lo, hi, limit=200)[0]
    return p_b_best, loss_a, loss_b


@pytest.mark.parametrize(("a", "b"), [
    (ArmCounts("a", 3052, 150), ArmCounts("b", 3033, 122)),
    (ArmCounts("a", 500, 10), ArmCounts("b", 500, 14)),
    (ArmCounts("a", 40, 2), ArmCounts("b", 45, 2)),
])
def test_probability_best_and_expected_loss_match_integration(a, b):
    p_b_best, loss_a, loss_b = _exact_two_arm(a, b)
    assert probability_best([a, b], draws=400_000)[1] == pytest.approx(p_b_best, abs=0.004)
    losses = expected_loss([a, b], draws=400_000)
    assert losses[0] == pytest.approx(loss_a, rel=0.03, abs=2e-5)
    assert losses[1] == pytest.approx(loss_b, rel=0.03, abs=2e-5)


def test_msprt_matches_the_mixture_likelihood_ratio():
    a, b = ArmCounts("a", 4000, 80), ArmCounts("b", 4100, 115)
    tau = 0.004
    variance = a.ctr * (1 - a.ctr) / a.impressions + b.ctr * (1 - b.ctr) / b.impressions
    d = b.ctr - a.ctr
    numerator = integrate.quad(lambda theta: stats.norm.pdf(d, theta, np.sqrt(variance))
                               * stats.norm.pdf(theta, 0, tau), -0.1, 0.1, points=[0, d], limit=200)[0]
    likelihood_ratio = numerator / stats.norm.pdf(d, 0, np.sqrt(variance))
    assert msprt_pvalue(a, b, tau=tau) == pytest.approx(min(1.0, 1 / likelihood_ratio), rel=1e-6)


def test_msprt_edge_cases():
    assert msprt_pvalue(ArmCounts("a", 0, 0), ArmCounts("b", 10, 1)) == 1.0
    assert msprt_pvalue(ArmCounts("a", 10, 0), ArmCounts("b", 10, 0)) == 1.0
    assert msprt_pvalue(ArmCounts("a", 100_000, 1000), ArmCounts("b", 100_000, 1500)) < 1e-6


def test_srm_matches_scipy_chisquare():
    observed, weights = [5200, 4800], [0.5, 0.5]
    assert srm_pvalue(observed, weights) == pytest.approx(stats.chisquare(observed).pvalue)
    assert srm_pvalue([0, 0], weights) == 1.0
    assert srm_pvalue([6200, 3800], weights) < 1e-6


def test_continuous_monitoring_keeps_the_false_winner_rate_low():
    """A/A tests checked after every batch: the always-valid p-value crosses 0.05 in at most
    5% of them (a repeatedly checked fixed-horizon test would cross far more often)."""
    rng = np.random.default_rng(7)
    false_winners, naive = 0, 0
    runs, batches, batch = 400, 60, 200
    for _ in range(runs):
        ctr = rng.uniform(0.005, 0.05)
        clicks = rng.binomial(batch, ctr, size=(batches, 2)).cumsum(axis=0)
        crossed = naive_crossed = False
        for step in range(batches):
            n = (step + 1) * batch
            a, b = ArmCounts("a", n, int(clicks[step, 0])), ArmCounts("b", n, int(clicks[step, 1]))
            crossed = crossed or msprt_pvalue(a, b) < 0.05
            table = [[a.clicks, n - a.clicks], [b.clicks, n - b.clicks]]
            naive_crossed = naive_crossed or (a.clicks + b.clicks > 0 and
                                              stats.chi2_contingency(table)[1] < 0.05)
        false_winners += crossed
        naive += naive_crossed
    assert false_winners / runs <= 0.05
    assert naive / runs > 2 * max(false_winners / runs, 0.05)  # peeking breaks chi-square
