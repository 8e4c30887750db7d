"""Every (state, action, role) triple against the declared machine.

Expectations are computed here from the machine's data (sources, roles, target, the live
guard), not by calling the code that enforces them: permitted transitions succeed and
land in the declared state; everything else answers 403 (role) or 409 (state) and
changes nothing.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.editorial.workflow import MACHINE
from app.extensions import db
from app.models import ArticleState, AuditEvent, Role, utcnow
from tests.workflow_helpers import force_state, transition

ROLES = [Role.WRITER, Role.EDITOR, Role.ADMIN]


def _expected(state: ArticleState, action: str, role: Role) -> int | ArticleState:
    rule = MACHINE[action]
    if role not in rule.roles:
        return 403
    live = state == ArticleState.PUBLISHED
    if state not in rule.sources or (rule.live is not None and rule.live != live):
        return 409
    return rule.target


def _extras(action: str) -> dict:
    if action == "schedule":
        return {"publish_at": (utcnow() + timedelta(hours=2)).isoformat()}
    return {"comment": "Please tighten the lede."}


def _audit_count(app, article_id: str) -> int:
    with app.app_context():
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.article_id == article_id)
        return db.session.scalar(query)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(MACHINE))
@pytest.mark.parametrize("state", list(ArticleState))
def test_triple(app, client, factory, state, action, role):
    # Writers act on their own copy (they may only submit their own); editors and admins
    # act on a writer's copy, so the four-eyes rule never applies here.
    _actor, headers = factory.login(role.value)
    author_headers = headers if role == Role.WRITER else factory.login("writer")[1]
    article = factory.article(author_headers)
    force_state(app, article["id"], state)
    before = client.get(f"/v1/articles/{article['id']}", headers=headers)
    audits = _audit_count(app, article["id"])

    response = transition(client, article, headers, action, **_extras(action))
    expected = _expected(state, action, role)
    if isinstance(expected, int):
        assert response.status_code == expected, response.get_json()
        assert response.content_type == "application/problem+json"
        after = client.get(f"/v1/articles/{article['id']}", headers=headers)
        assert after.get_json() == before.get_json() and after.headers["ETag"] == before.headers["ETag"]
        assert _audit_count(app, article["id"]) == audits
        if expected == 409:
            assert response.get_json()["current_state"] == state
            assert action not in response.get_json()["allowed_actions"]
    else:
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["state"] == expected and body["version"] == before.get_json()["version"] + 1
        assert _audit_count(app, article["id"]) == audits + 1
        assert action in before.get_json()["allowed_actions"]


@pytest.mark.parametrize("state", list(ArticleState))
def test_allowed_actions_match_the_machine(app, client, factory, state):
    _editor, headers = factory.login("editor")
    article = factory.article(factory.login("writer")[1])
    force_state(app, article["id"], state)
    allowed = client.get(f"/v1/articles/{article['id']}", headers=headers).get_json()["allowed_actions"]
    expected = [a for a in MACHINE if isinstance(_expected(state, a, Role.EDITOR), ArticleState)]
    assert allowed == expected
