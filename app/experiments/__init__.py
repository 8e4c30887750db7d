"""Headline experiments: tests of a published article's candidates on live traffic.

Pure statistics (no Flask, database or Celery): ``engine`` (the policy: looks, verdicts,
allocation), ``posterior``, ``stats`` and ``chart`` (the SVG). Use cases: ``experiments``
(start, pause, resume, stop, pick a winner, conclude), ``experiment_runs.step`` (the
periodic look), ``experiment_counts`` (per-period counts), ``experiment_results`` (what
editors read), ``experiment_priors`` (the prior fitted on finished tests), ``events`` and
``event_stores`` (ingestion, durable before the 2xx), ``serving`` (the in-memory snapshot
front pages read) and ``sites`` (publishable keys).
"""
