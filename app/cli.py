"""Command-line tools: ``flask db ...`` and ``flask users ...``."""

import json
import multiprocessing
import threading
from collections import Counter
from pathlib import Path
from queue import Empty

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, text

from app import bulk_import, migrate
from app.cleanup.extract import ExtractionError
from app.editorial import cleanup, imports
from app.errors import DomainError
from app.extensions import db
from app.models import Role, RunStatus, User
from app.platform import users as user_service

db_cli = AppGroup("db", help="Database migrations (Alembic).")
cleanup_cli = AppGroup("cleanup", help="Inspect the cleanup of scraped copy.")
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


@click.command("import")
@with_appcontext
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--source", help="Source name for files that do not carry one.")
@click.option("--language", help="BCP 47 language, if known.")
@click.option("--as", "email", help="Importing user (default: the first admin).")
@click.option("--queue/--inline", default=False,
              help="Hand cleanups to the workers, or run them here (default).")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Import processes, each with its own sources (PostgreSQL only).")
def import_files(paths, source, language, email, queue, jobs) -> None:
    """Import text, HTML, JSON Lines or SaudiNewsNet zip files, with a progress bar."""
    actor = _importing_user(email)
    if jobs > 1 and db.engine.dialect.name != "postgresql":
        raise click.UsageError("--jobs needs PostgreSQL: SQLite takes one writer at a time.")
    sizes = sum((bulk_import.census(path, source) for path in paths), Counter())
    items = (item for path in paths for item in bulk_import.read(path, source, language))
    counts, failures = Counter(), Counter()
    with click.progressbar(length=sizes.total(), label="Importing", show_pos=True,
                           show_percent=True) as bar:
        for outcome, reason in (_import_all(actor.id, items, queue) if jobs == 1 else
                                _import_in_processes(actor.id, items, queue,
                                                     bulk_import.share_out(sizes, jobs))):
            counts[outcome] += 1
            if outcome == "failed":
                failures[reason] += 1
            bar.update(1)
    click.echo(f"imported: {counts['imported']}, duplicates: {counts['duplicate']}, "
               f"failed: {counts['failed']}")
    for reason, number in failures.most_common():
        click.echo(f"  failed {number}: {reason}")


def _import_all(actor_id: str, items, queue: bool):
    """Import ``items`` one by one in this process; yields (outcome, reason) for each."""
    if db.engine.dialect.name == "postgresql":
        # A bulk load can be re-run (duplicates are detected), so trading the last few
        # milliseconds of durability on a crash for not waiting on every commit is safe.
        db.session.execute(text("SET synchronous_commit TO OFF"))
    actor = db.session.get(User, actor_id)
    for item in items:
        yield _import_one(actor, item, queue)


def _import_in_processes(actor_id: str, items, queue: bool, assigned: dict):
    """Import ``items`` in one forked process per job, each source's items in the process
    ``assigned`` to it; yields (outcome, reason) as the processes report them. Bounded
    inboxes keep memory flat: reading waits for the slowest process."""
    fork = multiprocessing.get_context("fork")
    jobs = max(assigned.values(), default=0) + 1
    inboxes, results = [fork.Queue(maxsize=IMPORT_INBOX) for _ in range(jobs)], fork.Queue()
    db.session.close()
    db.engine.dispose()  # the children open their own connections
    app = current_app._get_current_object()
    processes = [fork.Process(target=_import_process, args=(app, inbox, results, actor_id, queue),
                              daemon=True) for inbox in inboxes]
    for process in processes:
        process.start()
    feeder = threading.Thread(target=_feed, args=(items, inboxes, assigned), daemon=True)
    feeder.start()
    yield from _reported(results, processes)
    for process in processes:
        process.join()
    if any(process.exitcode for process in processes):
        raise click.ClickException("An import process failed (its error is above); what it "
                                   "imported is kept, and running the import again skips it.")


def _reported(results, processes: list):
    """Outcomes until every process has sent its end marker or none is left alive (one
    that was killed sends none)."""
    running = len(processes)
    while running:
        try:
            outcome = results.get(timeout=1.0)
        except Empty:
            if not any(process.is_alive() for process in processes):
                return
            continue
        if outcome is None:
            running -= 1
        else:
            yield outcome


IMPORT_INBOX = 1000  # items waiting per process: a run of one source's items must not stall the rest


def _feed(items, inboxes: list, assigned: dict) -> None:
    for item in items:
        inboxes[assigned[item.source]].put(item)
    for inbox in inboxes:
        inbox.put(None)


def _import_process(app: Flask, inbox, results, actor_id: str, queue: bool) -> None:
    """One import process: its items until the end marker, then the end marker back.
    An error outside the import of one item ends the process; the parent sees its marker."""
    try:
        with app.app_context():
            for outcome in _import_all(actor_id, iter(inbox.get, None), queue):
                results.put(outcome)
    finally:
        results.put(None)


def _importing_user(email: str | None) -> User:
    query = select(User).where(User.email == email.lower()) if email else \
        select(User).where(User.role == Role.ADMIN).order_by(User.created_at)
    user = db.session.scalars(query).first()
    if user is None:
        raise click.ClickException("No such user; create one with `flask users create`.")
    return user


def _import_one(actor: User, item: bulk_import.ImportItem, queue: bool) -> tuple[str, str]:
    try:
        raw, created = imports.create_import(
            actor, item.content, item.content_type, source_name=item.source,
            source_url=item.url, language=item.language, enqueue_cleanup=queue)
    except DomainError as error:
        return "failed", f"{error.detail} ({item.label})"
    if not created:
        return "duplicate", ""
    if not queue:
        run = cleanup.execute(raw.runs[-1].id)
        if run.status == RunStatus.FAILED:
            return "failed", run.error
    return "imported", ""


@cleanup_cli.command("preview")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="Source name (its learned lines are used).")
@click.option("--language", help="BCP 47 language, if known.")
@click.option("--format", "kind", type=click.Choice(["text", "html"]), default=None,
              help="Default: from the file name.")
def preview(file: Path, source: str, language: str | None, kind: str | None) -> None:
    """Print the cleanup of FILE as JSON, storing nothing."""
    html = kind == "html" or (kind is None and file.suffix.lower() in (".html", ".htm"))
    content_type = "text/html" if html else "text/plain; charset=utf-8"
    try:
        result = cleanup.preview(file.read_bytes(), content_type, source, language)
    except ExtractionError as error:
        raise click.ClickException(str(error)) from error
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(cleanup_cli)
    app.cli.add_command(import_files)
