"""The posterior of candidates' relative click rates, compared within periods.

Model: in period k, arm i's successes (clicks, or engaged clicks) are Poisson with mean
n_ik * exp(a_k + b_i): a_k is the period's level (the audience, the hour, the story's age)
and b_i the arm's log relative rate. Conditioning on each period's total successes removes
every a_k, so only within-period comparisons inform b (a stratified, conditional
likelihood: a CTR that decays over the story's life cannot favour the arm that got its
traffic early). The prior is b_i ~ N(0, prior_sd^2), fitted on finished tests (see
``fit_prior_sd``). The posterior is its Laplace approximation, found by Newton's method
(the log posterior is concave), and decisions are Monte Carlo draws from it.

A Poisson count is a close approximation of a binomial one at click-through rates of a
few per cent, which is where headline tests live.
"""

from dataclasses import dataclass

import numpy as np

NEWTON_STEPS = 30


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray  # log relative rate per arm
    cov: np.ndarray

    def draws(self, count: int, seed: int) -> np.ndarray:
        """Samples of the arms' log relative rates: shape (arms, count), one row per arm
        (the decisions reduce over draws, which is fastest along rows)."""
        factor = np.linalg.cholesky(self.cov + 1e-12 * np.eye(len(self.mean)))
        normal = np.random.default_rng(seed).standard_normal((len(self.mean), count))
        return self.mean[:, None] + factor @ normal


def informative(impressions: np.ndarray, successes: np.ndarray) -> np.ndarray:
    """Periods that compare arms: two or more arms shown, and at least one success."""
    return (successes.sum(axis=1) > 0) & ((impressions > 0).sum(axis=1) >= 2)


def posterior(impressions: np.ndarray, successes: np.ndarray, prior_sd: float) -> Posterior:
    """Laplace approximation of p(b | counts) from (periods, arms) arrays."""
    keep = informative(impressions, successes)
    n, s = impressions[keep].astype(float), successes[keep].astype(float)
    arms = impressions.shape[1]
    mode, hessian = np.zeros(arms), -np.eye(arms) / prior_sd ** 2
    for _ in range(NEWTON_STEPS):
        gradient, hessian = _derivatives(mode, n, s, prior_sd)
        step = np.linalg.solve(hessian, gradient)
        mode = mode - step
        if np.abs(step).max() < 1e-7:
            break
    return Posterior(mode, np.linalg.inv(-hessian))


def _derivatives(b: np.ndarray, n: np.ndarray, s: np.ndarray, prior_sd: float):
    """Gradient and Hessian of the log posterior at b."""
    weights = n * np.exp(b)
    shares = weights / weights.sum(axis=1, keepdims=True)  # each period's expected split
    totals = s.sum(axis=1, keepdims=True)
    expected = totals * shares
    gradient = s.sum(axis=0) - expected.sum(axis=0) - b / prior_sd ** 2
    hessian = (np.einsum("ki,kj->ij", expected, shares) - np.diag(expected.sum(axis=0))
               - np.eye(len(b)) / prior_sd ** 2)
    return gradient, hessian


def log_marginal(impressions: np.ndarray, successes: np.ndarray, prior_sd: float) -> float:
    """Laplace approximation of log p(counts | prior_sd), up to a constant in prior_sd."""
    fitted = posterior(impressions, successes, prior_sd)
    keep = informative(impressions, successes)
    n, s = impressions[keep].astype(float), successes[keep].astype(float)
    weights = n * np.exp(fitted.mean)
    shares = weights / weights.sum(axis=1, keepdims=True)
    likelihood = float((s * np.log(np.where(shares > 0, shares, 1.0))).sum())
    prior = -float((fitted.mean ** 2).sum()) / (2 * prior_sd ** 2) - len(fitted.mean) * np.log(prior_sd)
    return likelihood + prior + 0.5 * float(np.linalg.slogdet(fitted.cov)[1])


PRIOR_GRID = tuple(round(0.02 * step, 2) for step in range(2, 31))  # 0.04 ... 0.60


def fit_prior_sd(tests: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Empirical Bayes: the prior spread that makes finished tests most likely.

    ``tests`` holds each test's (impressions, successes) arrays of shape (periods, arms).
    """
    scores = [sum(log_marginal(n, s, sd) for n, s in tests) for sd in PRIOR_GRID]
    return PRIOR_GRID[int(np.argmax(scores))]
