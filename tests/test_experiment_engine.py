"""The experiment engine's allocation and stopping rule, with simulated traffic."""

import numpy as np
import pytest

from app.experiments.engine import Outcome, Policy, allocate, decide, totals
from app.experiments.stats import ArmCounts


def _simulate(rates: list[float], policy: Policy, batches: int, batch: int, seed: int,
              decay: bool = False):
    """Run an experiment on simulated visitors, one period per batch; return (verdict, periods).

    With ``decay`` every arm's CTR decays over the test, p(t) = p exp(-t/N).
    """
    rng = np.random.default_rng(seed)
    periods = [[ArmCounts(str(i), 0, 0) for i in range(len(rates))]]
    for step in range(batches):
        verdict = decide(periods, policy)
        if verdict.outcome != Outcome.RUNNING:
            return verdict, periods
        shown = rng.multinomial(batch, allocate(periods, policy, seed=seed * 1000 + step))
        now = np.array(rates) * (np.exp(-step / batches) if decay else 1.0)
        clicked = rng.binomial(shown, now)
        periods.append([ArmCounts(str(i), int(shown[i]), int(clicked[i])) for i in range(len(rates))])
    return decide(periods, policy), periods


def test_allocation_favours_the_better_arms_and_drops_hopeless_ones():
    arms = [ArmCounts("a", 5000, 100), ArmCounts("b", 5000, 130), ArmCounts("c", 5000, 40)]
    weights = allocate([arms], Policy())
    assert abs(sum(weights) - 1) < 1e-9
    assert weights[2] == 0.0  # hopeless after the minimum sample
    assert weights[1] > 0.3 and weights[0] > 0.3  # top two share the traffic


def test_even_split_before_any_data():
    weights = allocate([[ArmCounts("a", 0, 0), ArmCounts("b", 0, 0)]], Policy())
    assert abs(weights[0] - 0.5) < 0.05


def test_fixed_allocation_splits_equally_whatever_the_counts():
    arms = [ArmCounts("a", 5000, 100), ArmCounts("b", 5000, 130), ArmCounts("c", 5000, 40)]
    assert allocate([arms], Policy(allocation="fixed")) == [1 / 3] * 3


def test_periods_are_summed():
    periods = [[ArmCounts("a", 10, 1), ArmCounts("b", 20, 2)], [ArmCounts("a", 5, 0), ArmCounts("b", 1, 1)]]
    assert totals(periods) == [ArmCounts("a", 15, 1), ArmCounts("b", 21, 3)]


def test_declares_the_better_arm_when_the_difference_is_real():
    policy = Policy(min_impressions=500)
    winners = [_simulate([0.02, 0.03], policy, batches=200, batch=400, seed=s)[0] for s in range(10)]
    assert sum(v.outcome == Outcome.WINNER for v in winners) >= 8
    assert all(v.winner_id == "1" for v in winners if v.outcome == Outcome.WINNER)


@pytest.mark.parametrize("decay", [False, True])
def test_aa_tests_rarely_declare_a_winner(decay):
    """Checked after every batch, as the service does: at most 5% false winners."""
    policy = Policy(min_impressions=500, max_impressions=60_000)
    verdicts = [_simulate([0.02, 0.02], policy, batches=150, batch=400, seed=100 + s, decay=decay)[0]
                for s in range(40)]
    false_winners = sum(v.outcome == Outcome.WINNER for v in verdicts)
    assert false_winners / len(verdicts) <= 0.05 + 1e-9
    assert any(v.outcome == Outcome.NO_WINNER for v in verdicts)


def test_no_verdict_before_the_minimum_sample():
    verdict = decide([[ArmCounts("a", 100, 1), ArmCounts("b", 100, 30)]], Policy())
    assert verdict.outcome == Outcome.RUNNING and "minimum" in verdict.reason
    assert decide([[ArmCounts("a", 10, 1)]], Policy()).outcome == Outcome.NO_WINNER
