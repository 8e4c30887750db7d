"""Headline experiments, stepped by beat every EXPERIMENT_RECOMPUTE_SECONDS."""

from celery import shared_task
from redis.exceptions import ConnectionError as RedisConnectionError

from app.experiments import experiment_priors, experiment_runs
from app.experiments.event_stores import event_store
from app.models import utcnow
from app.platform import task_names
from tasks.system import COMMON, RETRY

REDIS_RETRY = {**RETRY, "autoretry_for": (*RETRY["autoretry_for"], RedisConnectionError)}


# A run not started within a minute is dropped: beat sends a fresh one every few seconds.
@shared_task(name=task_names.EXPERIMENTS_STEP, **COMMON, **REDIS_RETRY, expires=60)
def step_all() -> dict:
    """Flush accepted events to the database, then reweigh or conclude each running test."""
    return experiment_runs.run_all(utcnow())


@shared_task(name=task_names.PURGE_EVENTS, **COMMON, **REDIS_RETRY)
def purge_events() -> int:
    """Forget event ids (or flush records) older than they need to be kept."""
    return event_store().purge(utcnow())


@shared_task(name=task_names.REFIT_PRIOR, **COMMON, **RETRY)
def refit_prior() -> dict:
    """Fit new tests' prior on this deployment's finished tests (once there are enough)."""
    return experiment_priors.refit(utcnow())
