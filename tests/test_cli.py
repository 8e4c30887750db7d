"""The command-line tools an operator starts with."""

import re

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Role, User


def test_users_create_prints_a_working_token(app, client):
    result = app.test_cli_runner().invoke(args=["users", "create", "--role", "admin", "Ed@X.org"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"(mh_\S+)", result.output).group(1)
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert me["email"] == "ed@x.org" and me["role"] == "admin"
    with app.app_context():
        hashes = db.session.scalars(select(ApiToken.token_hash)).all()
    assert secret not in hashes


def test_users_create_rejects_duplicates(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "--role", "writer", "a@x.org"])
    again = runner.invoke(args=["users", "create", "--role", "writer", "A@x.org"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_ensure_admin_only_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "ensure-admin"])
    assert "API token (shown once): mh_" in first.output
    second = runner.invoke(args=["users", "ensure-admin"])
    assert "already exists" in second.output and "mh_" not in second.output
    with app.app_context():
        admins = db.session.scalars(select(User).where(User.role == Role.ADMIN)).all()
    assert len(admins) == 1
