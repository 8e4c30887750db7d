"""The archive prior: the spread of log relative CTRs between a test's headlines, fitted by
empirical Bayes (app.experiments.posterior.fit_prior_sd, the function the service refits
its own prior with) on the Upworthy Research Archive.

    .venv/bin/python bench/fit_prior.py [--data ../shared/data]

Prints the fitted value; ``ARCHIVE_PRIOR_SD`` in app/experiments/engine.py is this number.
"""

import argparse
import csv
import gzip
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.experiments.engine import ARCHIVE_PRIOR_SD  # noqa: E402
from app.experiments.posterior import fit_prior_sd  # noqa: E402
from bench.experiment_replay import BROKEN_WEEKS  # noqa: E402


def archive_tests(data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each test's (impressions, clicks) as one period of its arms."""
    arms = defaultdict(list)
    with gzip.open(data / "upworthy" / "upworthy-exploratory-packages.csv.gz", "rt") as rows:
        for row in csv.DictReader(rows):
            if int(row["test_week"]) not in BROKEN_WEEKS and int(row["impressions"]) > 0:
                arms[row["clickability_test_id"]].append((int(row["impressions"]), int(row["clicks"])))
    return [(np.array([[n for n, _ in found]], float), np.array([[c for _, c in found]], float))
            for found in arms.values() if len(found) >= 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    tests = archive_tests(parser.parse_args().data)
    fitted = fit_prior_sd(tests)
    print(f"{len(tests)} tests: prior sd of log relative CTR {fitted} (engine uses {ARCHIVE_PRIOR_SD})")


if __name__ == "__main__":
    main()
