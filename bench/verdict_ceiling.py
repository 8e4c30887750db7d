"""How many Upworthy tests hold enough information for a verdict at all.

    .venv/bin/python bench/verdict_ceiling.py [--data ../shared/data] [--sample N]

Each real test's whole sample (its arms were split equally) goes through the engine's
posterior once, as if the test had run to its end with an equal split: the share of tests
whose leader is best with probability >= c, or beaten by no arm by more than the margin
with probability >= c. That is how many tests' whole information supports a verdict at
that confidence. A sequential rule that looks every minute ends more tests than this (it
stops when the posterior crosses the threshold on a lucky run of clicks), and pays for
them in wrong verdicts: compare the replay's confidence table in the README.
"""

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from experiment_replay import load_tests  # noqa: E402

from app.experiments.engine import ARCHIVE_PRIOR_SD, Assessment, Policy  # noqa: E402
from app.experiments.stats import ArmCounts  # noqa: E402

CONFIDENCES = (0.95, 0.925, 0.9, 0.875, 0.85)
PRIORS = {"fitted prior (0.24)": ARCHIVE_PRIOR_SD, "nearly flat prior (3.0)": 3.0}


def verdict_shares(tests, prior_sd: float) -> list[float]:
    """Per confidence, the share of tests where either verdict statement holds."""
    strongest = []  # per test, the higher of the two statements' probabilities
    for test in tests:
        arms = [ArmCounts(str(i), int(n), int(c))
                for i, (n, c) in enumerate(zip(test.impressions, test.clicks, strict=True))]
        assessment = Assessment.of([arms], Policy(prior_sd=prior_sd), seed=0)
        leader = assessment.leader
        strongest.append(max(assessment.p_best[leader], assessment.p_within[leader]))
    return [float(np.mean(np.array(strongest) >= c)) for c in CONFIDENCES]

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sample", type=int, default=None, help="N tests drawn at random")
    args = parser.parse_args()
    tests = load_tests(args.data)
    if args.sample:
        tests = [tests[i] for i in np.random.default_rng(0).permutation(len(tests))[:args.sample]]
    clicks = [int(t.clicks.sum()) for t in tests]
    print(f"{len(tests)} Upworthy tests; clicks per test: median {statistics.median(clicks):g}\n")
    print("| posterior | verdict possible at " + " | at ".join(f"{c:g}" for c in CONFIDENCES) + " |")
    print("|---|" + "---:|" * len(CONFIDENCES))
    for label, prior_sd in PRIORS.items():
        print(f"| {label} | " + " | ".join(f"{s:.1%}" for s in verdict_shares(tests, prior_sd)) + " |")


if __name__ == "__main__":
    main()
