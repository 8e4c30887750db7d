"""The prior of every new test: fitted on this deployment's finished tests.

Until EXPERIMENT_PRIOR_MIN_TESTS tests with data have finished (per metric), the prior is
the one fitted on the Upworthy Research Archive (``engine.ARCHIVE_PRIOR_SD``). A test keeps
the prior it started with, so a refit never moves a running test's evidence.
"""

from datetime import datetime

import numpy as np
from flask import current_app
from sqlalchemy import select

from app.experiments import experiment_counts
from app.experiments.engine import ARCHIVE_PRIOR_SD, counts
from app.experiments.posterior import fit_prior_sd, informative
from app.extensions import db
from app.models import Experiment, ExperimentPrior, ExperimentStatus, Metric
from app.platform.uow import transaction, upsert

RECENT_TESTS = 1000  # the newest finished tests are enough, and keep the fit quick


def current(metric: Metric) -> float:
    row = db.session.get(ExperimentPrior, metric)
    return row.prior_sd if row is not None else ARCHIVE_PRIOR_SD


def refit(now: datetime) -> dict[str, float]:
    """Fit each metric's prior on its finished tests, where there are enough of them."""
    fitted = {}
    for metric in Metric:
        tests = _finished(metric)
        if len(tests) < current_app.config["EXPERIMENT_PRIOR_MIN_TESTS"]:
            continue
        fitted[metric.value] = fit_prior_sd(tests)
        with transaction():
            statement = upsert(ExperimentPrior).values(metric=metric, prior_sd=fitted[metric.value],
                                                       tests=len(tests), fitted_at=now)
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["metric"], set_={"prior_sd": statement.excluded.prior_sd,
                                                 "tests": statement.excluded.tests,
                                                 "fitted_at": statement.excluded.fitted_at}))
    return fitted


def _finished(metric: Metric) -> list[tuple[np.ndarray, np.ndarray]]:
    """(impressions, successes) per period and arm of recent finished tests that compared arms."""
    query = (select(Experiment).where(Experiment.status == ExperimentStatus.CONCLUDED,
                                      Experiment.metric == metric)
             .order_by(Experiment.ended_at.desc()).limit(RECENT_TESTS))
    tests = [counts(experiment_counts.periods(experiment), metric.value)
             for experiment in db.session.scalars(query)]
    return [(n, s) for n, s in tests if informative(n, s).any()]
