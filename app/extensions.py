"""Extension objects, created unbound and initialised by the app factory."""

import time
from pathlib import Path

import msgspec
from celery import Celery, Task
from flask import Flask, current_app, g
from kombu import Queue
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from app.openapi import ProblemApi
from app.platform import task_names

# A pooled connection used less than this long ago is handed out without a ping: under
# load that saves a round trip per request. One idle for longer (where a server restart,
# an idle timeout or a proxy may have closed it) is pinged first and replaced if dead.
PING_AFTER_IDLE_SECONDS = 1.0


class Database:
    """One engine per app and one session per app context (closed on teardown).

    A request whose view only reads (``g.db_reads_only``, set by the API layer) gets a
    session in autocommit mode on PostgreSQL: each statement is its own transaction, which
    saves the BEGIN and ROLLBACK round trips of a two-query read. SQLite keeps its one
    transaction per request (its driver's autocommit switch would undo our pragmas)."""

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # JSON columns (an article's tags and id lists) decoded in C: the stdlib decoder was
        # a tenth of a 25-article page.
        engine = create_engine(url, echo=app.config["DATABASE_ECHO"],
                               json_deserializer=msgspec.json.decode)
        _ping_idle_connections(engine)
        reads = None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        app.extensions["database"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["database_reads"] = reads
        app.teardown_appcontext(self._close_session)

    @property
    def sessionmaker(self) -> sessionmaker:
        return current_app.extensions["database"]

    @property
    def engine(self) -> Engine:
        return self.sessionmaker.kw["bind"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self._new_session()
        return g.db_session

    def _new_session(self) -> Session:
        reads = current_app.extensions["database_reads"]
        # A session bound to a connection (a caller's transaction, as in the tests) joins it.
        if reads is not None and g.get("db_reads_only") and isinstance(self.engine, Engine):
            return self.sessionmaker(bind=reads)
        return self.sessionmaker()

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def _ping_idle_connections(engine: Engine) -> None:
    """pool_pre_ping, for connections idle longer than PING_AFTER_IDLE_SECONDS only."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def used(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def check(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the driver's own error types: the pool retries anew
            raise DisconnectionError(f"stale pooled connection: {error}") from error


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the API read while the worker writes; the timeout queues writers
    # instead of failing them; SQLite leaves foreign keys off unless asked.
    # isolation_level=None stops pysqlite from managing transactions itself, so that
    # SAVEPOINT works and _sqlite_begin decides how a transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
    # then writes fails at once (SQLITE_BUSY) when another process wrote meanwhile.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_celery(app: Flask) -> Celery:
    """A Celery app for ``app`` whose tasks all run inside ``app``'s context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(_celery_settings(app.config))
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


# Cleaning a huge page and sending deliveries never wait behind each other: each has its
# own queue, consumed by its own worker processes (Procfile, docker-compose.yml). The
# default queue takes everything else (beat's periodic jobs, heartbeats). A worker
# started without -Q consumes all three.
DEFAULT_QUEUE, CLEANUP_QUEUE, DELIVERIES_QUEUE = "celery", "cleanup", "deliveries"
QUEUES = (DEFAULT_QUEUE, CLEANUP_QUEUE, DELIVERIES_QUEUE)
TASK_QUEUES = {task_names.CLEANUP_RUN: CLEANUP_QUEUE, task_names.DELIVER: DELIVERIES_QUEUE}


def _celery_settings(config: dict) -> dict:
    settings = {
        "broker_url": config["CELERY_BROKER_URL"],
        # Each queue bound under its own name: a message goes to exactly one queue.
        "task_queues": [Queue(name, routing_key=name) for name in QUEUES],
        "task_default_queue": DEFAULT_QUEUE,
        "task_routes": {task: {"queue": queue} for task, queue in TASK_QUEUES.items()},
        "task_annotations": {task_names.CLEANUP_RUN: _cleanup_limits(config)},
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_always_eager": config["CELERY_ALWAYS_EAGER"],
        "broker_connection_retry_on_startup": True,
        "beat_schedule_filename": str(Path(config["INSTANCE_DIR"]) / "celerybeat-schedule"),
        "include": ["tasks.system", "tasks.workflow", "tasks.cleanup", "tasks.experiments",
                    "tasks.publishing"],
        "beat_schedule": _beat_schedule(config),
    }
    if settings["broker_url"].startswith("filesystem://"):
        folder = Path(config["CELERY_BROKER_DIR"])
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        settings["broker_transport"] = "app.broker_files:Transport"
        settings["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # Exchange-queue bindings: with the broker's data, not in the working directory.
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    return settings


def _cleanup_limits(config: dict) -> dict:
    """The soft limit ends a run that takes too long as failed with a reason (prefork pool);
    the hard limit, a minute later, kills a worker that did not stop."""
    soft = float(config["CLEANUP_TIME_LIMIT_SECONDS"])
    return {"soft_time_limit": soft, "time_limit": soft + 60}


def _beat_schedule(config: dict) -> dict:
    """Beat's periodic jobs, by task name."""
    return {
        "beat-heartbeat": {
            "task": task_names.BEAT_HEARTBEAT,
            "schedule": float(config["BEAT_HEARTBEAT_SECONDS"]),
        },
        "purge-expired": {"task": task_names.PURGE_EXPIRED, "schedule": 3600.0},
        "cleanup-sweep": {
            "task": task_names.CLEANUP_SWEEP,
            "schedule": float(config["CLEANUP_SWEEP_SECONDS"]),
        },
        "publish-due": {
            "task": task_names.PUBLISH_DUE,
            "schedule": float(config["SCHEDULER_INTERVAL_SECONDS"]),
        },
        "experiments-step": {
            "task": task_names.EXPERIMENTS_STEP,
            "schedule": float(config["EXPERIMENT_RECOMPUTE_SECONDS"]),
        },
        "purge-events": {"task": task_names.PURGE_EVENTS, "schedule": 3600.0},
        "experiments-prior": {"task": task_names.REFIT_PRIOR, "schedule": 3600.0},
        "deliveries-sweep": {
            "task": task_names.DELIVERY_SWEEP,
            "schedule": float(config["DELIVERY_SWEEP_SECONDS"]),
        },
    }


def init_api(app: Flask) -> ProblemApi:
    return ProblemApi(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})


API_DESCRIPTION = (
    "Editorial workflow API. Errors are RFC 9457 problem+json. Article writes need "
    "If-Match with the ETag of the last read; creating POSTs accept Idempotency-Key."
)

db = Database()
