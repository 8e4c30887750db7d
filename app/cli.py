"""Command-line tools: ``flask db ...`` and ``flask users ...``."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import migrate
from app.errors import DomainError
from app.models import Role
from app.services import users as user_service

db_cli = AppGroup("db", help="Database migrations (Alembic).")
users_cli = AppGroup("users", help="Users and API tokens.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default="")
def create_user(email: str, role: str, name: str) -> None:
    """Create a user and print a new API token (shown only once)."""
    try:
        user = user_service.create_user(email, Role(role), name)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    secret = user_service.issue_token(user, name="cli").secret
    click.echo(f"Created {role} {user.email} ({user.id}).")
    click.echo(f"API token (shown once): {secret}")


@users_cli.command("ensure-admin")
@click.argument("email", default="admin@localhost")
def ensure_admin(email: str) -> None:
    """Create an admin with a token if the deployment has none (prints the token)."""
    created = user_service.ensure_admin(email)
    if created is None:
        click.echo("An admin already exists; no token created.")
        return
    user, secret = created
    click.echo(f"Created admin {user.email}. API token (shown once): {secret}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
