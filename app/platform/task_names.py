"""Every Celery task's name, in one place: the task modules declare their tasks with them,
the beat schedule and the queue routing use them, and use cases send them through
``app.platform.jobs``. Renaming one here renames it everywhere."""

CLEANUP_RUN = "masthead.cleanup.run"
CLEANUP_SWEEP = "masthead.cleanup.sweep"
COMPLETE_HEARTBEAT = "masthead.system.complete_heartbeat"
BEAT_HEARTBEAT = "masthead.system.beat_heartbeat"
PURGE_EXPIRED = "masthead.system.purge_expired"
PUBLISH_DUE = "masthead.workflow.publish_due"
DELIVER = "masthead.publishing.deliver"
DELIVERY_SWEEP = "masthead.publishing.sweep"
EXPERIMENTS_STEP = "masthead.experiments.step_all"
PURGE_EVENTS = "masthead.experiments.purge_events"
REFIT_PRIOR = "masthead.experiments.refit_prior"
