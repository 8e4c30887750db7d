"""Shared assertions."""

import pytest

from app.extensions import db


def assert_write_once(app, model, row_id: str, field: str, update_error: str) -> None:
    """The ORM refuses both changing and deleting the row (and nothing is written)."""
    with app.app_context():
        row = db.session.get(model, row_id)
        setattr(row, field, "tampered")
        with pytest.raises(RuntimeError, match=update_error):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(model, row_id))
        with pytest.raises(RuntimeError, match="cannot be deleted"):
            db.session.flush()
        db.session.rollback()
