"""One transaction per use case.

``transaction()`` commits when the outermost block exits and rolls back on any error.
A use case called from inside another (or inside the idempotency wrapper) joins the
outer transaction instead of committing on its own, so both land or neither does.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.extensions import db

_DEPTH = "transaction_depth"
# PostgreSQL errors that another try can get past: serialization failure, deadlock, lock
# timeout, the server shutting down or starting, too many connections. Class 08 is any
# connection exception.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"})
SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED: another writer holds it


@contextmanager
def transaction() -> Iterator[Session]:
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
        else:
            session.flush()  # the caller sees ids and defaults now; the outer block commits
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def locked(model, row_id: str):
    """The row with ``row_id`` re-read under a row lock (FOR UPDATE), or None."""
    query = select(model).where(model.id == row_id).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def upsert(model):
    """An INSERT with ON CONFLICT clauses, for the database in use (PostgreSQL or SQLite)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(model)


def batches(items: Sequence, size: int) -> Iterator[Sequence]:
    """``items`` in consecutive slices of at most ``size`` (statements within driver limits)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says nothing about the work itself: the same work may succeed if
    tried again (a dropped or refused connection, a serialization failure, a lock wait).
    Everything else (a statement the server refuses, a bug) fails the same way again."""
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or error.statement is None:  # lost, or while connecting
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return (sqlstate in TRANSIENT_SQLSTATES or sqlstate.startswith("08")
            or (getattr(error.orig, "sqlite_errorcode", None) or 0) & 0xFF in SQLITE_BUSY_CODES)
