"""The experiment engine's verdicts and allocation, with simulated traffic looked at the way
the service looks at it (one look a minute, five-minute periods)."""

import numpy as np
import pytest

from app.config import load_config
from app.experiments.engine import Outcome, Policy, look, policy_from_settings, totals
from app.experiments.stats import ArmCounts

MINUTE = 60.0


def _simulate(rates, policy: Policy, looks: int, per_look: int, seed: int, decay: bool = False,
              default: str = "0"):
    """Run a test on simulated visitors; return the final Look and the periods."""
    rng = np.random.default_rng(seed)
    periods = [[ArmCounts(str(i), 0, 0) for i in range(len(rates))]]
    result = None
    for index in range(looks):
        result = look(periods, policy, index * MINUTE, default, seed=seed * 1000 + index)
        if result.verdict.outcome != Outcome.RUNNING:
            return result, periods
        if index % 5 == 0 and index:
            periods.append([ArmCounts(str(i), 0, 0) for i in range(len(rates))])
        shown = rng.multinomial(per_look, result.weights)
        now = np.array(rates) * (np.exp(-index / looks) if decay else 1.0)
        clicked = rng.binomial(shown, now)
        periods[-1] = [ArmCounts(a.id, a.impressions + int(n), a.clicks + int(c))
                       for a, n, c in zip(periods[-1], shown, clicked, strict=True)]
    return result, periods


def test_even_split_before_any_data():
    result = look([[ArmCounts("a", 0, 0), ArmCounts("b", 0, 0)]], Policy(), 0, "a")
    assert result.verdict.outcome == Outcome.RUNNING
    assert result.weights == pytest.approx([0.5, 0.5], abs=0.05)


def test_fixed_allocation_splits_equally_whatever_the_counts():
    arms = [ArmCounts("a", 5000, 100), ArmCounts("b", 5000, 103), ArmCounts("c", 5000, 98)]
    assert look([arms], Policy(allocation="fixed"), 0, "a").weights == [1 / 3] * 3


def test_traffic_follows_the_leader_and_keeps_a_share_for_contenders():
    arms = [ArmCounts("a", 3000, 60), ArmCounts("b", 3000, 75), ArmCounts("c", 3000, 66)]
    weights = look([arms], Policy(), 0, "a").weights
    assert abs(sum(weights) - 1) < 1e-9
    assert weights[1] == max(weights) and weights[1] > 0.5
    assert min(weights) >= Policy().exploration / 3 - 1e-9  # a and c could still beat b


def test_a_starved_default_gets_its_share_once_the_leader_is_safe():
    """Two equal headlines, the other one ahead by chance and sampled far more: nothing beats
    it by the margin, so the open question is whether the default may be kept."""
    arms = [ArmCounts("a", 300, 140), ArmCounts("b", 7000, 3500)]
    result = look([arms], Policy(min_seconds=10 ** 9), 0, "a")
    assert result.verdict.probability_within_margin >= Policy().equivalence
    assert result.weights[0] >= 0.5 - 1e-9
    assert look([arms], Policy(min_seconds=10 ** 9), 0, "b").weights[0] < 0.5  # b is the default


def test_clearly_behind_arms_are_dropped_with_the_reason():
    arms = [ArmCounts("a", 20000, 400), ArmCounts("b", 20000, 430), ArmCounts("c", 20000, 120)]
    result = look([arms], Policy(min_seconds=10 ** 9), 0, "a")
    assert result.weights[2] == 0.0 and set(result.dropped) == {"c"}
    assert "clearly behind" in result.dropped["c"]


def test_keeps_the_better_arm_when_the_difference_is_real():
    """50% better: the test ends keeping it, as the winner or as the leader nothing beats."""
    policy = Policy(min_seconds=600)
    verdicts = [_simulate([0.02, 0.03], policy, looks=300, per_look=400, seed=s)[0].verdict
                for s in range(10)]
    assert sum(v.outcome != Outcome.RUNNING for v in verdicts) >= 8
    assert all(v.winner_id == "1" for v in verdicts if v.outcome != Outcome.RUNNING)


def test_a_clear_winner_is_declared_as_such():
    verdicts = [_simulate([0.02, 0.06], Policy(min_seconds=600), looks=100, per_look=3000, seed=s)[0].verdict
                for s in range(10)]
    assert all(v.outcome == Outcome.WINNER and v.winner_id == "1" for v in verdicts)


@pytest.mark.parametrize("decay", [False, True])
def test_aa_tests_rarely_declare_a_winner(decay):
    """Looked at every minute, as the service does: at most 5% false winners; the rest end
    equivalent (correct: there is no difference) or run on."""
    policy = Policy(min_seconds=600, max_impressions=200_000)
    verdicts = [_simulate([0.02, 0.02, 0.02], policy, looks=200, per_look=1000, seed=100 + s,
                          decay=decay)[0].verdict for s in range(40)]
    assert sum(v.outcome == Outcome.WINNER for v in verdicts) / len(verdicts) <= 0.05
    assert any(v.outcome == Outcome.EQUIVALENT for v in verdicts)


def test_equivalent_keeps_the_default_when_it_is_within_the_margin():
    arms = [ArmCounts("a", 400_000, 8000), ArmCounts("b", 400_000, 8040)]
    verdict = look([arms], Policy(), 3600, "a").verdict
    assert verdict.outcome == Outcome.EQUIVALENT and verdict.winner_id == "a"
    assert verdict.leader_id == "b" and "default" in verdict.reason


def test_equivalent_keeps_the_leader_when_the_default_is_far_behind():
    arms = [ArmCounts("a", 200_000, 2000), ArmCounts("b", 200_000, 4000), ArmCounts("c", 200_000, 4010)]
    verdict = look([arms], Policy(), 3600, "a").verdict
    assert verdict.outcome == Outcome.EQUIVALENT and verdict.winner_id in {"b", "c"}
    assert verdict.winner_id == verdict.leader_id


def test_equivalent_keeps_the_leader_when_the_default_is_probably_behind():
    """The default is probably more than the margin behind, though not surely: the leading
    pair is equivalent, and the leader is kept rather than running on."""
    arms = [ArmCounts("a", 200_000, 3550), ArmCounts("b", 200_000, 4000), ArmCounts("c", 200_000, 4010)]
    verdict = look([arms], Policy(), 3600, "a").verdict
    assert verdict.outcome == Outcome.EQUIVALENT and verdict.winner_id == verdict.leader_id != "a"
    assert "leading candidates" in verdict.reason


def test_equivalence_confidence_is_its_own_setting():
    arms = [ArmCounts("a", 40_000, 800), ArmCounts("b", 40_000, 804)]
    assert look([arms], Policy(), 3600, "a").verdict.outcome == Outcome.EQUIVALENT
    assert look([arms], Policy(equivalence=0.99), 3600, "a").verdict.outcome == Outcome.RUNNING


def test_the_minimum_duration_holds_a_verdict_back_and_says_so():
    arms = [ArmCounts("a", 5000, 50), ArmCounts("b", 5000, 250)]
    held = look([arms], Policy(min_seconds=600), 300, "a").verdict
    assert held.outcome == Outcome.RUNNING and "minimum duration" in held.reason
    assert held.reason.startswith("the verdict 'winner' is in reach")
    assert held.leader_id == "b"
    assert look([arms], Policy(min_seconds=600), 600, "a").verdict.outcome == Outcome.WINNER


def test_caps_end_a_test_with_no_verdict():
    arms = [ArmCounts("a", 5000, 100), ArmCounts("b", 5000, 101)]
    by_sample = look([arms], Policy(max_impressions=10_000), 60, "a").verdict
    by_time = look([arms], Policy(max_seconds=3600), 3600, "a").verdict
    assert by_sample.outcome == by_time.outcome == Outcome.NO_VERDICT
    assert by_sample.winner_id is None and "maximum" in by_time.reason


def test_quality_clicks_decide_on_engaged_clicks():
    """b gets more clicks, but a keeps its readers: a wins a quality-clicks test."""
    arms = [ArmCounts("a", 20000, 400, 300), ArmCounts("b", 20000, 600, 120)]
    assert look([arms], Policy(), 3600, "a").verdict.winner_id == "b"
    assert look([arms], Policy(metric="quality_clicks"), 3600, "a").verdict.winner_id == "a"


def test_totals_sum_periods():
    periods = [[ArmCounts("a", 10, 1, 1), ArmCounts("b", 20, 2)],
               [ArmCounts("a", 5, 0), ArmCounts("b", 1, 1)]]
    assert totals(periods) == [ArmCounts("a", 15, 1, 1), ArmCounts("b", 21, 3, 0)]


def test_a_test_needs_two_arms():
    assert look([[ArmCounts("a", 10, 1)]], Policy(), 0, "a").verdict.outcome == Outcome.NO_VERDICT


def test_settings_build_the_policy_the_replay_measures():
    policy = policy_from_settings(load_config())
    assert policy.min_seconds == 600 and policy.max_seconds == 72 * 3600
    assert (policy.margin, policy.alpha, policy.sharpness, policy.exploration) == (0.1, 0.05, 2.0, 0.05)
    assert policy_from_settings(load_config(), metric="quality_clicks", max_impressions=None).metric \
        == "quality_clicks"
