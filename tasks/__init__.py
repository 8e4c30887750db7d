"""Celery tasks. They take ids, re-read state, call services and are idempotent."""
