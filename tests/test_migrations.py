"""One Alembic chain for SQLite and PostgreSQL: up, down, up again, and no drift."""

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app import migrate
from app.models import Base
from tests.services import require, scratch_postgres

VERSIONS = Path(__file__).parents[1] / "migrations" / "versions"


def _roundtrip(url: str) -> None:
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], diff


def test_sqlite_roundtrip(tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.services
def test_postgresql_roundtrip():
    with scratch_postgres(require("DATABASE_URL", "postgresql")) as url:
        _roundtrip(url)


def test_migrations_are_frozen():
    """History never imports live application code: changing a model cannot rewrite it."""
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in getattr(node, "names", [])]
            module = getattr(node, "module", None) or ""
            imported = [module] if isinstance(node, ast.ImportFrom) else names
            assert not any(name.split(".")[0] in ("app", "tasks") for name in imported), path.name
