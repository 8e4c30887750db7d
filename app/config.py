"""Settings, read from environment variables only, with embedded defaults.

The defaults run everything on one machine without servers: a SQLite database and
Celery's filesystem broker, both under ``instance/``. Every variable is listed in
``.env.example``.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _instance_dir() -> Path:
    return Path(os.environ.get("MASTHEAD_INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _experiment_config() -> dict:
    """Headline tests: lifecycle, the public serving cache and event ingestion."""
    return {
        "EXPERIMENTS_AUTOSTART": _bool("EXPERIMENTS_AUTOSTART", True),
        # The policy (app/experiments/engine.py; measured by bench/experiment_replay.py).
        "EXPERIMENT_METRIC": os.environ.get("EXPERIMENT_METRIC", "clicks"),
        "EXPERIMENT_MARGIN": _float("EXPERIMENT_MARGIN", 0.10),
        "EXPERIMENT_ALPHA": _float("EXPERIMENT_ALPHA", 0.05),
        "EXPERIMENT_EQUIVALENCE_CONFIDENCE": _float("EXPERIMENT_EQUIVALENCE_CONFIDENCE", 0.95),
        "EXPERIMENT_SHARPNESS": _float("EXPERIMENT_SHARPNESS", 2.0),
        "EXPERIMENT_EXPLORATION": _float("EXPERIMENT_EXPLORATION", 0.05),
        "EXPERIMENT_PRIOR_MIN_TESTS": _int("EXPERIMENT_PRIOR_MIN_TESTS", 30),
        "ENGAGED_SECONDS": _int("ENGAGED_SECONDS", 15),
        "EXPERIMENT_MIN_IMPRESSIONS": _int("EXPERIMENT_MIN_IMPRESSIONS", 200),
        "EXPERIMENT_MAX_IMPRESSIONS": _int("EXPERIMENT_MAX_IMPRESSIONS", 500_000),
        "EXPERIMENT_MIN_SECONDS": _int("EXPERIMENT_MIN_SECONDS", 600),
        "EXPERIMENT_MAX_HOURS": _int("EXPERIMENT_MAX_HOURS", 72),
        "EXPERIMENT_PERIOD_SECONDS": _int("EXPERIMENT_PERIOD_SECONDS", 300),
        "EXPERIMENT_RECOMPUTE_SECONDS": _int("EXPERIMENT_RECOMPUTE_SECONDS", 60),
        "EVENTS_REDIS_URL": os.environ.get("EVENTS_REDIS_URL", ""),
        "EVENT_BATCH_MAX": _int("EVENT_BATCH_MAX", 500),
        "EVENTS_MAX_BYTES": _int("EVENTS_MAX_BYTES", 256 * 1024),
        "EVENT_DEDUP_HOURS": _int("EVENT_DEDUP_HOURS", 24),
        "SERVING_REFRESH_SECONDS": _float("SERVING_REFRESH_SECONDS", 2.0),
        "SERVING_MAX_ARTICLES": _int("SERVING_MAX_ARTICLES", 100),
        "SERVING_CACHE_SECONDS": _int("SERVING_CACHE_SECONDS", 30),
        "PUBLIC_RATE_LIMIT_PER_MINUTE": _int("PUBLIC_RATE_LIMIT_PER_MINUTE", 6000),
    }


def _publishing_config() -> dict:
    """Delivery to outlets: webhook client, retries, leases, the circuit breaker, feeds."""
    return {
        # Any one step of an attempt (connect, TLS, sending, a silence while reading) ...
        "WEBHOOK_TIMEOUT_SECONDS": _float("WEBHOOK_TIMEOUT_SECONDS", 10.0),
        # ... and the whole attempt, DNS to the last byte of the answer read.
        "WEBHOOK_DEADLINE_SECONDS": _float("WEBHOOK_DEADLINE_SECONDS", 15.0),
        "WEBHOOK_ALLOWED_NETWORKS": os.environ.get("WEBHOOK_ALLOWED_NETWORKS", ""),
        "DELIVERY_MAX_ATTEMPTS": _int("DELIVERY_MAX_ATTEMPTS", 12),
        "DELIVERY_BACKOFF_BASE_SECONDS": _float("DELIVERY_BACKOFF_BASE_SECONDS", 5.0),
        "DELIVERY_BACKOFF_MAX_SECONDS": _float("DELIVERY_BACKOFF_MAX_SECONDS", 3600.0),
        "DELIVERY_LEASE_SECONDS": _float("DELIVERY_LEASE_SECONDS", 60.0),
        "DELIVERY_SWEEP_SECONDS": _float("DELIVERY_SWEEP_SECONDS", 10.0),
        "DELIVERY_SWEEP_AGE_SECONDS": _float("DELIVERY_SWEEP_AGE_SECONDS", 30.0),
        "OUTLET_BREAKER_FAILURES": _int("OUTLET_BREAKER_FAILURES", 5),
        "OUTLET_BREAKER_COOLDOWN_SECONDS": _float("OUTLET_BREAKER_COOLDOWN_SECONDS", 60.0),
        # Deliveries of one outlet being sent at once, across all workers: keep it below
        # the workers' concurrency, so a slow outlet never holds every slot.
        "OUTLET_MAX_IN_FLIGHT": _int("OUTLET_MAX_IN_FLIGHT", 1),
        "FEED_MAX_ENTRIES": _int("FEED_MAX_ENTRIES", 50),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000"),
    }


# tasks/publishing.py's soft time limit, less room for the claim and the record.
MAX_WEBHOOK_DEADLINE_SECONDS = 30.0


def check_publishing(config: dict) -> None:
    """Refuse settings under which an attempt could outlive its lease or its task: then a
    second worker could send the same delivery while the first is still sending it."""
    deadline = config["WEBHOOK_DEADLINE_SECONDS"]
    if not 0 < deadline <= MAX_WEBHOOK_DEADLINE_SECONDS:
        raise ValueError(f"WEBHOOK_DEADLINE_SECONDS must be in (0, {MAX_WEBHOOK_DEADLINE_SECONDS:g}].")
    if config["DELIVERY_LEASE_SECONDS"] <= deadline:
        raise ValueError("DELIVERY_LEASE_SECONDS must be longer than WEBHOOK_DEADLINE_SECONDS.")
    if config["OUTLET_MAX_IN_FLIGHT"] < 1:
        raise ValueError("OUTLET_MAX_IN_FLIGHT must be at least 1.")


def load_config() -> dict:
    """Build the Flask config mapping from the environment."""
    instance = _instance_dir()
    return {
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'masthead.db'}"),
        "DATABASE_ECHO": _bool("DATABASE_ECHO", False),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "filesystem://"),
        "CELERY_BROKER_DIR": os.environ.get("CELERY_BROKER_DIR", str(instance / "broker")),
        "CELERY_ALWAYS_EAGER": _bool("CELERY_ALWAYS_EAGER", False),
        "BEAT_HEARTBEAT_SECONDS": _int("BEAT_HEARTBEAT_SECONDS", 30),
        "SCHEDULER_INTERVAL_SECONDS": _int("SCHEDULER_INTERVAL_SECONDS", 5),
        "SCHEDULER_BATCH_SIZE": _int("SCHEDULER_BATCH_SIZE", 500),
        "FOUR_EYES_REQUIRED": _bool("FOUR_EYES_REQUIRED", True),
        "CLEANUP_SWEEP_AGE_SECONDS": _int("CLEANUP_SWEEP_AGE_SECONDS", 300),
        "CLEANUP_SWEEP_SECONDS": _float("CLEANUP_SWEEP_SECONDS", 60.0),
        "CLEANUP_TIME_LIMIT_SECONDS": _float("CLEANUP_TIME_LIMIT_SECONDS", 120.0),
        "CLEANUP_LEASE_SECONDS": _float("CLEANUP_LEASE_SECONDS", 60.0),
        "CLEANUP_MAX_ATTEMPTS": _int("CLEANUP_MAX_ATTEMPTS", 4),
        "MAX_CONTENT_LENGTH": _int("MAX_BODY_BYTES", 1024 * 1024),
        "IMPORT_MAX_BYTES": _int("IMPORT_MAX_BYTES", 10 * 1024 * 1024),
        "IDEMPOTENCY_TTL_HOURS": _int("IDEMPOTENCY_TTL_HOURS", 24),
        "HEARTBEAT_RETENTION_HOURS": _int("HEARTBEAT_RETENTION_HOURS", 24),
        "TOKEN_TOUCH_SECONDS": _int("TOKEN_TOUCH_SECONDS", 60),
        # How long a worker process trusts a token it found live (app/platform/users.py).
        "TOKEN_CACHE_SECONDS": _float("TOKEN_CACHE_SECONDS", 5.0),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "CORS_ORIGINS": os.environ.get("CORS_ORIGINS", ""),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "RATE_LIMIT_STORAGE_URL": os.environ.get("RATE_LIMIT_STORAGE_URL", "memory://"),
        "EDITORIAL_RATE_LIMIT_PER_MINUTE": _int("EDITORIAL_RATE_LIMIT_PER_MINUTE", 1200),
        "FAILED_AUTH_PER_MINUTE": _int("FAILED_AUTH_PER_MINUTE", 120),
        "PUBLIC_CORS_ORIGINS": os.environ.get("PUBLIC_CORS_ORIGINS", "*"),
        **_experiment_config(),
        **_publishing_config(),
        # flask-smorest / OpenAPI
        "API_TITLE": "Masthead",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
