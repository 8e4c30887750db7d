"""Replay of the Upworthy headline tests: allocation and stopping policies side by side.

    .venv/bin/python bench/experiment_replay.py [--data ../shared/data] [--limit N]
        [--batches 50] [--seed 1]

Each real test (weeks 201326-201402 left out: a caching bug broke randomisation then)
becomes a simulation: every arm's observed CTR is its true rate, and the test's real
total traffic arrives in --batches equal batches. A policy sets each batch's traffic
split and may declare a winner, after which the winner gets all remaining traffic.
Scenarios: stationary rates; rates decaying over the article's life, p(t) = p exp(-t/N)
with t the traffic so far and N the test's total; and A/A versions of both (every arm at
the test's pooled CTR), where any declared winner is false.

Reported per policy: share of tests with a declared winner; among those, the share that
picked the truly best arm and the share that picked an arm more than 10% worse; traffic
used until the decision (share of the test's total); regret (expected clicks lost against
showing the best arm to all traffic, as a share of the best arm's clicks).
"""

import argparse
import csv
import gzip
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

from app.experiments.engine import Outcome, Policy, allocate, decide  # noqa: E402
from app.experiments.stats import ArmCounts, probability_best  # noqa: E402

BROKEN_WEEKS = range(201326, 201403)


@dataclass
class Test:
    rates: np.ndarray
    traffic: int


def load_tests(data: Path) -> list[Test]:
    arms = defaultdict(list)
    with gzip.open(data / "upworthy" / "upworthy-exploratory-packages.csv.gz", "rt") as rows:
        for row in csv.DictReader(rows):
            week = int(row["test_week"])
            if week in BROKEN_WEEKS or int(row["impressions"]) == 0:
                continue
            arms[row["clickability_test_id"]].append((int(row["impressions"]), int(row["clicks"])))
    tests = []
    for arm_list in arms.values():
        if len(arm_list) >= 2:
            impressions = np.array([a[0] for a in arm_list])
            clicks = np.array([a[1] for a in arm_list])
            tests.append(Test(clicks / impressions, int(impressions.sum())))
    return tests


# Policies: (weights, winner) given counts so far; winner is an arm index or None.
def fixed_split(imps, clicks, progress):
    return np.full(len(imps), 1 / len(imps)), None


def fixed_final_pick(imps, clicks):
    return int(np.argmax(clicks / np.maximum(imps, 1)))


def fixed_final_chi2(imps, clicks):
    table = np.array([clicks, imps - clicks])
    if table.sum(axis=1).min() == 0:
        return None
    return fixed_final_pick(imps, clicks) if stats.chi2_contingency(table)[1] < 0.05 else None


def nyt(imps, clicks, progress):
    if progress < 0.2:
        return np.full(len(imps), 1 / len(imps)), None
    return None, int(np.argmax(clicks / np.maximum(imps, 1)))


def chartbeat(imps, clicks, progress, seed=0):
    arms = [ArmCounts(str(i), int(n), int(c)) for i, (n, c) in enumerate(zip(imps, clicks, strict=True))]
    p_best = np.array(probability_best(arms, draws=1000, seed=seed))
    if p_best.max() >= 0.95 and imps.min() > 0:
        return None, int(p_best.argmax())
    return p_best if p_best.sum() > 0 else np.full(len(imps), 1 / len(imps)), None


ENGINE = Policy(min_impressions=300, draws=1000)


def configure_engine(options) -> None:
    global ENGINE
    ENGINE = Policy(min_impressions=options.min_impressions, draws=1000, alpha=options.alpha,
                    max_relative_loss=options.max_loss, tau_scale=options.tau_scale,
                    top_two_share=options.top_two_share)


def masthead(imps, clicks, progress, seed=0):
    arms = [ArmCounts(str(i), int(n), int(c)) for i, (n, c) in enumerate(zip(imps, clicks, strict=True))]
    verdict = decide([arms], ENGINE)
    if verdict.outcome == Outcome.WINNER:
        return None, int(verdict.winner_id)
    return np.array(allocate([arms], ENGINE, seed=seed)), None


POLICIES = {
    "fixed split, best observed": (fixed_split, fixed_final_pick),
    "fixed split + chi-square p<0.05": (fixed_split, fixed_final_chi2),
    "NYT: 20% split, then leader": (nyt, None),
    "Chartbeat-style Thompson, P(best)>=0.95": (chartbeat, None),
    "Masthead engine": (masthead, None),
}


def simulate(test: Test, policy: str, decay: bool, aa: bool, batches: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    rates = np.full(len(test.rates), test.rates.mean()) if aa else test.rates
    step, final = POLICIES[policy]
    imps, clicks = np.zeros(len(rates), int), np.zeros(len(rates), int)
    batch = max(test.traffic // batches, 1)
    winner, decided_at, got, best = None, None, 0.0, 0.0
    for index in range(batches):
        shown_so_far = index * batch
        now = rates * (np.exp(-shown_so_far / test.traffic) if decay else 1.0)
        if winner is None:
            kwargs = {"seed": seed + index} if step in (chartbeat, masthead) else {}
            weights, winner = step(imps, clicks, index / batches, **kwargs)
            if winner is not None:
                decided_at = shown_so_far
        if winner is not None:
            weights = np.eye(len(rates))[winner]
        shown = rng.multinomial(batch, weights / weights.sum())
        imps += shown
        clicks += rng.binomial(shown, now)
        got += float(shown @ now)
        best += batch * now.max()
    if winner is None and final is not None:
        winner, decided_at = final(imps, clicks), test.traffic
    truly_best = int(np.argmax(rates))
    return {"declared": winner is not None,
            "correct": winner is not None and rates[winner] >= rates[truly_best],
            "bad": winner is not None and rates[winner] < 0.9 * rates[truly_best],
            "used": (decided_at if decided_at is not None else test.traffic) / test.traffic,
            "regret": (best - got) / best if best else 0.0}


def run_scenario(args) -> tuple[str, str, dict]:
    tests, policy, decay, aa, batches, seed, options = args
    configure_engine(options)
    results = [simulate(t, policy, decay, aa, batches, seed + i) for i, t in enumerate(tests)]
    declared = [r for r in results if r["declared"]]
    summary = {
        "declared": len(declared) / len(results),
        "correct": sum(r["correct"] for r in declared) / max(len(declared), 1),
        "bad": sum(r["bad"] for r in declared) / max(len(declared), 1),
        "used": statistics.mean(r["used"] for r in declared) if declared else 1.0,
        "regret": statistics.mean(r["regret"] for r in results),
    }
    return policy, f"{'decay' if decay else 'stationary'}{' A/A' if aa else ''}", summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--alpha", type=float, default=Policy.alpha)
    parser.add_argument("--max-loss", type=float, default=Policy.max_relative_loss)
    parser.add_argument("--tau-scale", type=float, default=Policy.tau_scale)
    parser.add_argument("--min-impressions", type=int, default=300)
    parser.add_argument("--top-two-share", type=float, default=Policy.top_two_share)
    parser.add_argument("--only", choices=["masthead", "all"], default="all")
    args = parser.parse_args()
    tests = load_tests(args.data)[:args.limit]
    policies = ["Masthead engine"] if args.only == "masthead" else list(POLICIES)
    jobs = [(tests, policy, decay, aa, args.batches, args.seed, args)
            for decay in (False, True) for aa in (False, True) for policy in policies]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run_scenario, jobs))
    print(f"{len(tests)} Upworthy tests, {args.batches} batches each")
    for scenario in ("stationary", "decay"):
        print(f"\n{scenario}")
        print("| policy | winner declared | best arm | >10% worse | traffic to decide | regret "
              "| A/A false winners |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        table = {(p, s): r for p, s, r in results}
        for policy in policies:
            r, aa = table[(policy, scenario)], table[(policy, f"{scenario} A/A")]
            print(f"| {policy} | {r['declared']:.1%} | {r['correct']:.1%} | {r['bad']:.1%} "
                  f"| {r['used']:.1%} | {r['regret']:.1%} | {aa['declared']:.1%} |")


if __name__ == "__main__":
    main()
