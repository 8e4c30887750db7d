"""Every accepted import ends in succeeded or failed with a reason: pages of tens of
thousands of lines, errors that would recur (failed, not retried), transient errors
(retried), leases the sweeper respects, attempts that run out, and a page imported again
after its draft was deleted. In-process on SQLite and PostgreSQL; the same with a real
worker is tests/test_cleanup_worker.py."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import String, TypeDecorator, bindparam, create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.editorial import cleanup, cleanup_runs, sources
from app.extensions import db
from app.models import CleanupRun, RawInput, RunStatus, SourceLine, utcnow
from app.platform.uow import is_transient, transaction
from tests.factories import Factory
from tests.services import require, scratch_postgres

LINES = 20_500


def distinct_lines(count: int) -> bytes:
    """A plain-text page of ``count`` distinct short lines."""
    return "\n".join(f"Entry {n}: the committee noted figure {n * 7}." for n in range(count)).encode()


def _keys(page: bytes) -> int:
    """How many lines and templates ``page`` teaches its source."""
    return len(sources.page_lines([line.lower() for line in page.decode().splitlines()]))


def _import(client, headers, content: bytes, source: str = "wire"):
    response = client.post("/v1/imports", data=content, content_type="text/plain; charset=utf-8",
                           headers=headers, query_string={"source": source})
    assert response.status_code in (200, 202), response.get_json()
    return response


def _run_id(response) -> str:
    return response.get_json()["runs"][-1]["id"]


def _run(app, run_id: str) -> CleanupRun:
    with app.app_context():
        return db.session.get(CleanupRun, run_id)


def test_page_of_20000_distinct_lines_is_cleaned(app, client, editor):
    """One statement for every line would pass PostgreSQL's 65,535 bind parameters."""
    created = _import(client, editor[1], distinct_lines(LINES))
    with app.app_context():
        run = cleanup.execute(_run_id(created))
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert len(run.result["body_paragraphs"]) == LINES
        learned = db.session.scalar(select(func.count()).select_from(SourceLine))
    keys = _keys(distinct_lines(LINES))  # each line, its "entry <n>:" prefix, one number template
    assert learned == keys == 2 * LINES + 1
    again = _import(client, editor[1], distinct_lines(LINES) + b"\nOne more line, and so a new page.")
    with app.app_context():  # the second page updates every count and adds one
        assert cleanup.execute(_run_id(again)).status == RunStatus.SUCCEEDED
        counts = db.session.execute(select(SourceLine.article_count, func.count())
                                    .group_by(SourceLine.article_count)).all()
    assert sorted(counts) == [(1, 1), (2, keys)]


def test_learning_resumes_where_an_attempt_stopped(app, client, editor):
    """A worker died after teaching its source the first batch of a page's lines: the next
    attempt counts the rest, and every line once."""
    page = distinct_lines(2_500)
    created = _import(client, editor[1], page)
    with app.app_context():
        with transaction():
            raw = db.session.get(RawInput, created.get_json()["id"])
            lines = sources.page_lines([line.lower() for line in page.decode().splitlines()])
            assert sources.learn_next_batch(raw, lines) is False
        assert raw.learned_lines == sources.BATCH and not raw.learned
        run = cleanup.execute(_run_id(created))
        assert run.status == RunStatus.SUCCEEDED, run.error
        counts = db.session.execute(select(SourceLine.article_count, func.count())
                                    .group_by(SourceLine.article_count)).all()
        raw = db.session.get(RawInput, raw.id, populate_existing=True)
    assert counts == [(1, len(lines))] and raw.learned and raw.learned_lines == len(lines) > 2_500


def test_learned_lines_are_read_in_batches(app, client, editor):
    """learned_for asks for every key of a page: in batches, not one IN of 20,500."""
    created = _import(client, editor[1], distinct_lines(LINES))
    with app.app_context():
        cleanup.execute(_run_id(created))
        raw = db.session.get(RawInput, created.get_json()["id"])
        folded = [line.lower() for line in distinct_lines(LINES).decode().splitlines()]
        learned = sources.learned_for(raw.source_id, folded)
    assert learned.articles == 1 and set(learned.counts.values()) == {1}
    assert len(learned.counts) == _keys(distinct_lines(LINES)) > LINES


def test_reimport_after_the_draft_was_deleted_is_a_new_import(client, editor):
    page = distinct_lines(3)
    first = _import(client, editor[1], page).get_json()
    assert _import(client, editor[1], page).status_code == 200  # the draft exists: the same import
    article = client.get(f"/v1/articles/{first['article_id']}", headers=editor[1])
    deleted = client.delete(f"/v1/articles/{first['article_id']}",
                            headers={**editor[1], "If-Match": article.headers["ETag"]})
    assert deleted.status_code == 204
    assert client.get(f"/v1/imports/{first['id']}", headers=editor[1]).status_code == 404

    again = _import(client, editor[1], page)
    assert again.status_code == 202, again.get_json()
    body = again.get_json()
    assert body["id"] != first["id"] and body["article_id"] != first["article_id"]
    assert client.get(again.headers["Location"], headers=editor[1]).status_code == 200
    assert _import(client, editor[1], page).get_json()["id"] == body["id"]  # now this one answers


def _failing_learn(statement: str):
    """sources.learn_next_batch that runs ``statement`` first: a real database error
    mid-cleanup."""
    learn = sources.learn_next_batch

    def failing(raw, page):
        db.session.execute(text(statement))
        return learn(raw, page)
    return failing


def test_error_that_would_recur_fails_the_run_with_a_reason(app, client, editor, monkeypatch):
    """Not retried: the run is failed at once, with a reason, and the bytes are kept."""
    page = distinct_lines(5)
    created = _import(client, editor[1], page)
    monkeypatch.setattr(sources, "learn_next_batch", _failing_learn("SELECT * FROM no_such_table"))
    with app.app_context():
        run = cleanup.execute(_run_id(created))
        assert db.session.get(RawInput, created.get_json()["id"]).content == page
    assert run.status == RunStatus.FAILED and run.attempts == 1
    assert "internal error" in run.error and "raw bytes are kept" in run.error
    assert run.lease_token is None and run.finished_at is not None
    history = client.get(f"/v1/articles/{run.article_id}/history", headers=editor[1]).get_json()
    assert history["items"][-1]["action"] == "cleanup_failed"


def test_time_limit_inside_a_statement_fails_the_run_as_a_time_limit(app, client, editor, monkeypatch):
    """The soft time limit can land while SQLAlchemy runs a statement, which wraps it in a
    StatementError: the run still ends failed for its time limit, not as an internal error."""
    created = _import(client, editor[1], distinct_lines(5))

    class Interrupting(TypeDecorator):  # the signal lands while parameters are processed
        impl, cache_ok = String, True

        def process_bind_param(self, value, dialect):
            raise SoftTimeLimitExceeded()

    def interrupted(*args, **kwargs):
        db.session.execute(text("SELECT :x").bindparams(bindparam("x", type_=Interrupting())), {"x": "a"})

    monkeypatch.setattr(sources, "learn_next_batch", interrupted)
    with app.app_context():
        run = cleanup.execute(_run_id(created))
    assert run.status == RunStatus.FAILED and "time limit" in run.error, run.error


def test_transient_error_is_raised_and_the_retry_takes_the_run_back(committed_app, monkeypatch):
    """A dropped connection (the server ends it) propagates for the task to retry; the
    retry (same task id) takes its run back at once, though the lease has not expired."""
    with committed_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the server dropping a connection needs PostgreSQL")
    client = committed_app.test_client()
    _user, headers = Factory(committed_app, client).login("editor")
    run_id = _run_id(_import(client, headers, distinct_lines(5)))
    monkeypatch.setattr(sources, "learn_next_batch",
                        _failing_learn("SELECT pg_terminate_backend(pg_backend_pid())"))
    with committed_app.app_context():
        with pytest.raises(DBAPIError) as raised:
            cleanup.execute(run_id, holder="task-1")
        assert is_transient(raised.value)
    held = _run(committed_app, run_id)
    assert held.status == RunStatus.RUNNING and held.lease_token == "task-1"
    monkeypatch.undo()
    with committed_app.app_context():
        assert cleanup.execute(run_id, holder="task-2").status == RunStatus.RUNNING  # not its lease
        done = cleanup.execute(run_id, holder="task-1")
    assert done.status == RunStatus.SUCCEEDED and done.attempts == 2 and done.error is None


def _hold(app, run_id: str, holder: str, expires_in: float) -> None:
    with app.app_context(), transaction():
        run = db.session.get(CleanupRun, run_id)
        cleanup_runs.claim(run, holder, utcnow())
        run.lease_expires_at = utcnow() + timedelta(seconds=expires_in)


def test_sweeper_leaves_a_held_run_and_takes_back_an_expired_one(app, client, editor):
    held_id, lost_id, queued_id = (_run_id(_import(client, editor[1], distinct_lines(n)))
                                   for n in (2, 3, 4))
    _hold(app, held_id, "live-worker", expires_in=60)
    _hold(app, lost_id, "dead-worker", expires_in=-1)
    with app.app_context():
        swept = cleanup_runs.sweep(timedelta(seconds=0))
        assert set(swept) == {lost_id, queued_id}  # queued: its message may have been lost
        assert cleanup_runs.held(held_id, "live-worker") is not None
        assert cleanup_runs.held(lost_id, "dead-worker") is None  # its late result is not written
        assert cleanup.execute(held_id, holder="another").status == RunStatus.RUNNING  # skipped
        assert cleanup.execute(lost_id, holder="another").status == RunStatus.SUCCEEDED
        assert cleanup_runs.sweep(timedelta(seconds=60)) == []  # just queued again: not yet
    assert _run(app, lost_id).attempts == 2


def test_run_out_of_attempts_ends_failed(app, client, editor):
    run_id = _run_id(_import(client, editor[1], distinct_lines(2)))
    for number in range(app.config["CLEANUP_MAX_ATTEMPTS"]):  # each worker died holding it
        _hold(app, run_id, f"worker-{number}", expires_in=-1)
    with app.app_context():
        run = cleanup.execute(run_id, holder="one-more")
    assert run.status == RunStatus.FAILED and run.error.startswith("Gave up after 4 attempts")
    assert run.lease_token is None


def test_lease_is_renewed_while_the_work_goes_on(committed_app_factory):
    app = committed_app_factory(CLEANUP_LEASE_SECONDS=0.6)
    client = app.test_client()
    _user, headers = Factory(app, client).login("editor")
    run_id = _run_id(_import(client, headers, distinct_lines(2)))
    _hold(app, run_id, "slow-worker", expires_in=0.6)
    with app.app_context(), cleanup_runs.LeaseKeeper(run_id, "slow-worker"):
        time.sleep(1.5)  # well past the lease it started with
        assert _run(app, run_id).lease_expires_at > utcnow()
        assert cleanup_runs.sweep(timedelta(seconds=0)) == []
    time.sleep(0.8)  # nobody renews it now
    with app.app_context():
        assert cleanup_runs.sweep(timedelta(seconds=0)) == [run_id]


@pytest.mark.services
def test_transient_errors_are_told_apart_on_postgresql():
    """Real errors from a real server: which ones another try can get past."""
    with scratch_postgres(require("DATABASE_URL", "postgresql")) as url:
        engine = create_engine(url)
        try:
            _check_postgresql_errors(engine)
        finally:
            engine.dispose()
    refused = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(DBAPIError) as connecting:
        refused.connect()
    assert is_transient(connecting.value)


def _check_postgresql_errors(engine) -> None:
    with engine.connect() as connection, pytest.raises(DBAPIError) as too_many:
        connection.exec_driver_sql("SELECT 1 WHERE 1 IN (" + ",".join(["%s"] * 70_000) + ")",
                                   tuple(range(70_000)))
    assert not is_transient(too_many.value)  # the same statement fails the same way again
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id int PRIMARY KEY)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    with engine.connect() as holder, engine.connect() as waiter:
        holder.exec_driver_sql("SELECT id FROM t FOR UPDATE")
        waiter.exec_driver_sql("SET lock_timeout = '100ms'")
        with pytest.raises(DBAPIError) as lock_timeout:
            waiter.exec_driver_sql("SELECT id FROM t FOR UPDATE")
        assert is_transient(lock_timeout.value)
    with engine.connect() as connection, pytest.raises(DBAPIError) as dropped:
        connection.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
    assert is_transient(dropped.value)


def test_transient_errors_are_told_apart_on_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", connect_args={"timeout": 0.1})
    with engine.connect() as connection, pytest.raises(DBAPIError) as missing:
        connection.execute(text("SELECT * FROM no_such_table"))
    assert not is_transient(missing.value)
    with engine.connect() as writer, engine.connect() as other:
        writer.exec_driver_sql("CREATE TABLE t (id INTEGER)")
        writer.commit()
        writer.exec_driver_sql("INSERT INTO t VALUES (1)")  # holds the write lock, uncommitted
        with pytest.raises(DBAPIError) as locked:
            other.exec_driver_sql("INSERT INTO t VALUES (2)")
    assert is_transient(locked.value)
    engine.dispose()


def test_finished_run_is_never_claimed_again(app, client, editor):
    """A run that ended is never claimed again, whatever its lease fields say."""
    run_id = _run_id(_import(client, editor[1], distinct_lines(3)))
    with app.app_context():
        assert cleanup.execute(run_id).status == RunStatus.SUCCEEDED
        with transaction():
            db.session.execute(update(CleanupRun).where(CleanupRun.id == run_id)
                               .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        assert cleanup_runs.sweep(timedelta(seconds=0)) == []
        assert cleanup.execute(run_id).attempts == 1


def test_concurrent_imports_of_one_page_make_one_import(committed_app):
    """Eight clients send the same page at once: one import (202), the others get it (200)."""
    client = committed_app.test_client()
    _user, headers = Factory(committed_app, client).login("editor")
    page, start = distinct_lines(7), threading.Barrier(8)

    def send(_n: int):
        own = committed_app.test_client()
        start.wait()
        response = own.post("/v1/imports", data=page, content_type="text/plain", headers=headers,
                            query_string={"source": "wire"})
        return response.status_code, response.get_json().get("id")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert sorted(status for status, _ in answers) == [200] * 7 + [202], answers
    assert len({import_id for _, import_id in answers}) == 1
