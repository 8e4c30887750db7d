"""One transaction per use case.

``transaction()`` commits when the outermost block exits and rolls back on any error.
A use case called from inside another (or inside the idempotency wrapper) joins the
outer transaction instead of committing on its own, so both land or neither does.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.extensions import db

_DEPTH = "transaction_depth"


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
