"""Replay of the Upworthy headline tests: the service's policy beside newsroom rules.

    .venv/bin/python bench/experiment_replay.py [--data ../shared/data] [--limit N]
        [--seeds 1,2,3] [--hours 2] [--workers 2] [--policies masthead,nyt,...]

Each real test (weeks 201326-201402 left out: a caching bug broke randomisation then)
becomes a simulation: every arm's observed CTR is its true rate, and the test's real
total traffic arrives evenly over ``--hours``. The service's cadence is modelled from its
settings: a look (verdict or new split) every EXPERIMENT_RECOMPUTE_SECONDS, counts kept per
EXPERIMENT_PERIOD_SECONDS, no verdict before EXPERIMENT_MIN_SECONDS, the caps. The
Masthead row calls ``app.experiments.engine.look`` with ``policy_from_settings`` of the
default settings, exactly as ``experiment_runs.step`` does; the first arm is the default
headline. After a verdict the kept arm gets all remaining traffic.

Scenarios: stationary rates; every rate x exp(-t/N) (t the traffic so far, N the test's
total); every rate x0.6 after half the traffic (step); and A/A versions of the first two
(every arm at the test's pooled CTR), where any winner is a false winner.

Reported per policy: share of tests with a verdict (a winner, or equivalent); among
verdicts, the share that kept the truly best arm and the share that kept an arm more than
10% worse than the best; regret (expected clicks lost against showing the best arm to all
traffic, as a share of the best arm's clicks) per scenario; A/A winners. Each number is
the mean over the seeds, with the range over seeds beside the headline ones.
"""

import argparse
import csv
import gzip
import math
import statistics
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import load_config  # noqa: E402
from app.experiments.engine import Outcome, look, policy_from_settings  # noqa: E402
from app.experiments.stats import ArmCounts  # noqa: E402

BROKEN_WEEKS = range(201326, 201403)
SCENARIOS = {  # name -> (A/A, shape of the rates over the test's traffic)
    "stationary": (False, "flat"), "decay": (False, "exp"), "step": (False, "step"),
    "A/A": (True, "flat"), "A/A decay": (True, "exp"),
}


@dataclass
class Test:
    impressions: np.ndarray  # per arm, as the real test served them
    clicks: np.ndarray

    @property
    def rates(self) -> np.ndarray:
        return self.clicks / self.impressions

    @property
    def traffic(self) -> int:
        return int(self.impressions.sum())


def load_tests(data: Path) -> list[Test]:
    arms = defaultdict(list)
    with gzip.open(data / "upworthy" / "upworthy-exploratory-packages.csv.gz", "rt") as rows:
        for row in csv.DictReader(rows):
            if int(row["test_week"]) in BROKEN_WEEKS or int(row["impressions"]) == 0:
                continue
            arms[row["clickability_test_id"]].append((int(row["impressions"]), int(row["clicks"])))
    tests = []
    for arm_list in arms.values():
        if len(arm_list) >= 2:
            tests.append(Test(np.array([a[0] for a in arm_list]), np.array([a[1] for a in arm_list])))
    return tests


@dataclass(frozen=True)
class Cadence:
    """The service's timing, mapped onto a test whose traffic lasts ``hours``."""

    looks: int
    look_seconds: float
    looks_per_period: int

    @classmethod
    def of(cls, settings: dict, hours: float) -> "Cadence":
        look_seconds = settings["EXPERIMENT_RECOMPUTE_SECONDS"]
        return cls(max(int(hours * 3600 / look_seconds), 1), look_seconds,
                   max(int(settings["EXPERIMENT_PERIOD_SECONDS"] / look_seconds), 1))


class Counts:
    """Impressions and clicks per period and arm, as the service's counts table holds them."""

    def __init__(self, arms: int, cadence: Cadence):
        periods = math.ceil(cadence.looks / cadence.looks_per_period)
        self.impressions = np.zeros((periods, arms), int)
        self.clicks = np.zeros((periods, arms), int)
        self.cadence = cadence

    def add(self, index: int, shown: np.ndarray, clicked: np.ndarray) -> None:
        period = index // self.cadence.looks_per_period
        self.impressions[period] += shown
        self.clicks[period] += clicked

    def periods(self, index: int) -> list[list[ArmCounts]]:
        last = index // self.cadence.looks_per_period + 1
        return [[ArmCounts(str(arm), int(n), int(c)) for arm, (n, c) in enumerate(zip(ns, cs, strict=True))]
                for ns, cs in zip(self.impressions[:last], self.clicks[:last], strict=True)]

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        return self.impressions.sum(axis=0), self.clicks.sum(axis=0)


# A policy sees the counts before look ``index`` and returns (weights, verdict), where the
# verdict is None or (kind, arm kept).
class Masthead:
    def __init__(self, settings: dict):
        self.policy = policy_from_settings(settings)

    def __call__(self, counts: Counts, index: int, progress: float, seed: int):
        result = look(counts.periods(index), self.policy, index * counts.cadence.look_seconds,
                      default_id="0", seed=seed)
        if result.verdict.outcome in (Outcome.WINNER, Outcome.EQUIVALENT):
            return None, (result.verdict.outcome.value, int(result.verdict.winner_id))
        return np.array(result.weights), None


def _beta_draws(counts: Counts, prior: tuple[float, float], seed: int) -> np.ndarray:
    impressions, clicks = counts.totals()
    rng = np.random.default_rng(seed)
    return rng.beta(prior[0] + clicks, prior[1] + impressions - clicks, size=(1000, len(clicks)))


def _p_best(samples: np.ndarray) -> np.ndarray:
    return np.bincount(samples.argmax(axis=1), minlength=samples.shape[1]) / len(samples)


class Thompson:
    """Thompson sampling on Beta posteriors; Chartbeat-style stopping rules when asked."""

    def __init__(self, prior=(1.0, 1.0), stop_at: float | None = None, soft: bool = False):
        self.prior, self.stop_at, self.soft = prior, stop_at, soft

    def __call__(self, counts: Counts, index: int, progress: float, seed: int):
        samples = _beta_draws(counts, self.prior, seed)
        p_best = _p_best(samples)
        leader = int(p_best.argmax())
        if self.stop_at is not None and p_best[leader] >= self.stop_at:
            return None, ("winner", leader)
        if self.soft and counts.impressions.sum() >= 2000 and \
                np.mean(samples.max(axis=1) <= 1.25 * samples[:, leader]) >= 0.95:
            return None, ("winner", leader)  # Chartbeat's soft converge
        return p_best, None


def nyt(counts: Counts, index: int, progress: float, seed: int):
    """Equal split for the first 20% of the traffic, then the leader."""
    impressions, clicks = counts.totals()
    if progress < 0.2:
        return np.full(len(impressions), 1 / len(impressions)), None
    return None, ("winner", int(np.argmax(clicks / np.maximum(impressions, 1))))


def fixed(counts: Counts, index: int, progress: float, seed: int):
    impressions = counts.impressions[0]
    return np.full(len(impressions), 1 / len(impressions)), None


def final_best(counts: Counts):
    impressions, clicks = counts.totals()
    return "winner", int(np.argmax(clicks / np.maximum(impressions, 1)))


def final_chi2(counts: Counts):
    impressions, clicks = counts.totals()
    table = np.array([clicks, impressions - clicks])
    if table.sum(axis=1).min() == 0 or stats.chi2_contingency(table)[1] >= 0.05:
        return None
    return final_best(counts)


POLICIES = {  # key -> (label, step factory, verdict at the end of the traffic)
    "masthead": ("**Masthead (the service's policy)**", Masthead, None),
    "nyt": ("NYT: equal split for 20%, then the leader", lambda s: nyt, None),
    "chartbeat": ("Chartbeat-style: Thompson, stop at P(best) >= 0.95",
                  lambda s: Thompson(stop_at=0.95), None),
    "soft": ("Chartbeat with soft converge (25% margin after 2,000 impressions)",
             lambda s: Thompson(stop_at=0.95, soft=True), None),
    "thompson": ("Thompson sampling that never stops, Beta(1,1)", lambda s: Thompson(), None),
    "thompson-eb": ("the same, empirical-Bayes prior Beta(1.84, 133.7)",
                    lambda s: Thompson(prior=(1.84, 133.7)), None),
    "fixed": ("equal split, best observed at the end", lambda s: fixed, final_best),
    "fixed-chi2": ("equal split, chi-square p < 0.05 at the end", lambda s: fixed, final_chi2),
}


def level(shape: str, progress: float) -> float:
    """How much of its rate every arm has left at this point of the test's traffic."""
    if shape == "exp":
        return math.exp(-progress)
    if shape == "step":
        return 0.6 if progress >= 0.5 else 1.0
    return 1.0


def simulate(test: Test, step, final, scenario: str, cadence: Cadence, seed: int) -> dict:
    aa, shape = SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    rates = np.full(len(test.rates), test.rates.mean()) if aa else test.rates
    counts = Counts(len(rates), cadence)
    arrivals = np.diff(np.linspace(0, test.traffic, cadence.looks + 1).round().astype(int))
    verdict, got, best = None, 0.0, 0.0
    for index, batch in enumerate(arrivals):
        progress = index / cadence.looks
        if verdict is None:
            weights, verdict = step(counts, index, progress, seed * 7919 + index)
        if verdict is not None:
            weights = np.eye(len(rates))[verdict[1]]
        now = rates * level(shape, progress)
        shown = rng.multinomial(batch, weights / weights.sum())
        counts.add(index, shown, rng.binomial(shown, now))
        got += float(shown @ now)
        best += batch * now.max()
    if verdict is None and final is not None:
        verdict = final(counts)
    truly_best = rates.max()
    kept = rates[verdict[1]] if verdict else None
    return {"kind": verdict[0] if verdict else None,
            "correct": kept is not None and kept >= truly_best,
            "bad": kept is not None and kept < 0.9 * truly_best,
            "regret": (best - got) / best if best else 0.0}


def run_job(job) -> tuple[str, str, int, list[dict]]:
    tests, first, key, scenario, seed, hours = job
    settings = load_config()
    cadence = Cadence.of(settings, hours)
    _label, factory, final = POLICIES[key]
    step = factory(settings)
    results = [simulate(t, step, final, scenario, cadence, seed * 1_000_003 + first + i)
               for i, t in enumerate(tests)]
    return key, scenario, seed, results


def summarise(results: list[dict]) -> dict:
    verdicts = [r for r in results if r["kind"]]
    share = max(len(verdicts), 1)
    return {"verdict": len(verdicts) / len(results),
            "winner": sum(r["kind"] == "winner" for r in results) / len(results),
            "equivalent": sum(r["kind"] == "equivalent" for r in results) / len(results),
            "correct": sum(r["correct"] for r in verdicts) / share,
            "bad": sum(r["bad"] for r in verdicts) / share,
            "regret": statistics.mean(r["regret"] for r in results)}


def cell(values: list[float], spread: bool) -> str:
    mean = statistics.mean(values)
    if not spread or len(values) < 2:
        return f"{mean:.1%}"
    return f"{mean:.1%} ({min(values):.1%}-{max(values):.1%})"


def report(summaries: dict, keys: list[str], seeds: list[int]) -> None:
    print("| policy | verdict in | winner / equivalent | best arm / verdict | >10% worse / verdict "
          "| regret | regret, decay | regret, step | A/A winners | A/A winners, decay |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        def values(scenario, metric, key=key):
            return [summaries[(key, scenario, seed)][metric] for seed in seeds]
        row = [cell(values("stationary", "verdict"), True),
               f"{cell(values('stationary', 'winner'), False)} / "
               f"{cell(values('stationary', 'equivalent'), False)}",
               cell(values("stationary", "correct"), False), cell(values("stationary", "bad"), True),
               cell(values("stationary", "regret"), True), cell(values("decay", "regret"), True),
               cell(values("step", "regret"), True), cell(values("A/A", "winner"), True),
               cell(values("A/A decay", "winner"), True)]
        print(f"| {POLICIES[key][0]} | " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None, help="the first N tests only")
    parser.add_argument("--sample", type=int, default=None, help="N tests drawn at random")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--hours", type=float, default=1.0, help="how long each test's traffic lasts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--chunk", type=int, default=200, help="tests per job")
    args = parser.parse_args()
    tests = load_tests(args.data)[:args.limit]
    if args.sample:
        tests = [tests[i] for i in np.random.default_rng(0).permutation(len(tests))[:args.sample]]
    seeds = [int(s) for s in args.seeds.split(",")]
    keys = args.policies.split(",")
    jobs = [(tests[i:i + args.chunk], i, key, scenario, seed, args.hours)
            for key in keys for scenario in SCENARIOS for seed in seeds
            for i in range(0, len(tests), args.chunk)]
    collected = defaultdict(list)
    with ProcessPoolExecutor(args.workers) as pool:
        for key, scenario, seed, results in pool.map(run_job, jobs):
            collected[(key, scenario, seed)] += results
    cadence = Cadence.of(load_config(), args.hours)
    print(f"{len(tests)} Upworthy tests; traffic over {args.hours:g} h: {cadence.looks} looks "
          f"({cadence.look_seconds:g} s apart), {cadence.looks_per_period} per counting period; "
          f"seeds {args.seeds} (mean, range over seeds in brackets)\n")
    report({k: summarise(v) for k, v in collected.items()}, keys, seeds)


if __name__ == "__main__":
    main()
