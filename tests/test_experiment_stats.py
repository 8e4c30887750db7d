"""The experiment statistics against known values computed with scipy."""

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from app.experiments.posterior import fit_prior_sd, posterior
from app.experiments.stats import ctr_interval, probability_lower, srm_pvalue


@pytest.mark.parametrize(("clicks", "impressions"), [(0, 10), (3, 100), (150, 3052), (999, 1000)])
def test_wilson_interval_matches_scipy(clicks, impressions):
    expected = stats.binomtest(clicks, impressions).proportion_ci(0.95, method="wilson")
    low, high = ctr_interval(clicks, impressions)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


@pytest.mark.parametrize(("a", "b"), [((150, 3052), (122, 3033)), ((10, 500), (14, 500)), ((2, 40), (2, 45))])
def test_probability_lower_matches_integration(a, b):
    pa, pb = (stats.beta(1 + s, 1 + n - s) for s, n in (a, b))
    exact = integrate.quad(lambda x: pa.pdf(x) * pb.sf(x), 0, 1, limit=200)[0]
    assert probability_lower(*a, *b, draws=400_000) == pytest.approx(exact, abs=0.004)


def _log_posterior(b, n, s, prior_sd):
    """The stratified conditional log posterior, written out independently of the module."""
    total = 0.0
    for period_n, period_s in zip(n, s, strict=True):
        weights = period_n * np.exp(b)
        total += float((period_s * np.log(np.where(weights > 0, weights / weights.sum(), 1))).sum())
    return total - float((b ** 2).sum()) / (2 * prior_sd ** 2)


def test_posterior_mode_and_curvature_match_a_direct_optimisation():
    n = np.array([[1000, 900, 0], [400, 500, 600], [0, 300, 300]], dtype=float)
    s = np.array([[20, 30, 0], [9, 12, 20], [0, 4, 9]], dtype=float)
    fitted = posterior(n, s, 0.3)
    direct = optimize.minimize(lambda b: -_log_posterior(b, n, s, 0.3), np.zeros(3), method="BFGS",
                               options={"gtol": 1e-9})
    assert fitted.mean == pytest.approx(direct.x, abs=1e-4)
    # Laplace: the covariance is the inverse of the negative Hessian at the mode.
    step, hessian = 1e-4, np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            e_i, e_j = np.eye(3)[i] * step, np.eye(3)[j] * step
            hessian[i, j] = (_log_posterior(direct.x + e_i + e_j, n, s, 0.3)
                             - _log_posterior(direct.x + e_i - e_j, n, s, 0.3)
                             - _log_posterior(direct.x - e_i + e_j, n, s, 0.3)
                             + _log_posterior(direct.x - e_i - e_j, n, s, 0.3)) / (4 * step ** 2)
    assert fitted.cov == pytest.approx(np.linalg.inv(-hessian), rel=1e-3, abs=1e-6)


def test_comparisons_within_periods_undo_a_decaying_audience():
    """Arm a got its traffic early, when everyone clicked more; within periods it is worse.
    Summed, a looks 60% better (Simpson's paradox); the posterior is not fooled."""
    n = np.array([[9000, 1000], [1000, 9000]], dtype=float)
    s = np.array([[450, 60], [10, 120]], dtype=float)  # 5% vs 6% early; 1% vs 1.33% late
    assert s[:, 0].sum() / n[:, 0].sum() > 1.6 * s[:, 1].sum() / n[:, 1].sum()
    fitted = posterior(n, s, 0.5)
    assert fitted.mean[1] - fitted.mean[0] > 0.15


def test_no_information_leaves_the_prior():
    fitted = posterior(np.array([[100.0, 0.0]]), np.array([[3.0, 0.0]]), 0.24)
    assert fitted.mean == pytest.approx([0, 0]) and np.diag(fitted.cov) == pytest.approx([0.24 ** 2] * 2)


def test_fitted_prior_recovers_the_spread_of_simulated_tests():
    rng = np.random.default_rng(3)
    tests = []
    for _ in range(300):
        effects = rng.normal(0, 0.2, 4)
        n = np.full((1, 4), 8000.0)
        tests.append((n, rng.poisson(n * 0.02 * np.exp(effects)).astype(float)))
    assert fit_prior_sd(tests) == pytest.approx(0.2, abs=0.04)


def test_srm_matches_scipy_chisquare():
    observed = [5200, 4800]
    assert srm_pvalue(observed, [5000.0, 5000.0]) == pytest.approx(stats.chisquare(observed).pvalue)
    assert srm_pvalue([0, 0], [1.0, 1.0]) == 1.0
    assert srm_pvalue([6200, 3800], [5000.0, 5000.0]) < 1e-6


def test_srm_pools_arms_expected_too_few_impressions():
    """A dropped arm (expected ~0) that still got a few late impressions is no alarm."""
    assert srm_pvalue([5000, 4990, 3], [5000.0, 4993.0, 0.01]) > 0.5
    expected = stats.chisquare([5000, 4990], np.array([5000.0, 4993.0]) * 9990 / 9993).pvalue
    assert srm_pvalue([5000, 4990, 3], [5000.0, 4993.0, 0.01]) == pytest.approx(expected)
