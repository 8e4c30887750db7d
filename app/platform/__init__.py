"""What every domain stands on: users and API tokens, one transaction per use case
(``uow``), the one door to Celery (``jobs``), Idempotency-Key replays, keyset pagination,
worker heartbeats and readiness (``system``) and the state half of /metrics."""
