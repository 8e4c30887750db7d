"""Alembic environment: one chain for PostgreSQL and SQLite (batch mode on SQLite)."""

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.types import TypeDecorator

from app.config import load_config
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _frozen_types(type_, object_, autogen_context):
    """Render the app's column types as plain SQLAlchemy ones: a migration never imports live
    model code, so changing a type later cannot rewrite history."""
    if type_ == "type" and isinstance(object_, TypeDecorator):
        return f"sa.{object_.impl!r}"
    return False


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_config()["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, render_item=_frozen_types)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          render_item=_frozen_types)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
