"""Bearer tokens and the role matrix over every route."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.editorial import cleanup
from app.experiments import sites
from app.extensions import db
from app.models import ApiToken, Delivery, DeliveryKind, DeliveryState, Heartbeat, Outlet, OutletKind
from app.platform import users as user_service
from app.platform.uow import transaction
from tests.experiment_helpers import force_live_experiment
from tests.factories import Factory

SEED = (Path(__file__).parent / "fixtures" / "seed" / "000_b0cbef1f536209a0.txt").read_text("utf-8")
ALL, EDITORS, ADMIN = {"writer", "editor", "admin"}, {"editor", "admin"}, {"admin"}
PUBLIC = {"/healthz", "/readyz", "/openapi.json", "/static/<path:filename>",
          "/v1/serve/headlines", "/v1/events",  # site key instead of a token
          "/v1/feeds/<outlet_id>",  # published articles are public
          "/v1/serve/masthead.js", "/v1/serve/masthead.<version>.js",  # the front-page snippet
          "/docs", "/docs/init.js", "/docs/assets/<name>"}  # the reference page

# (method, route) -> roles that pass the role check. Article routes act on the caller's own
# article and token routes on the caller's own tokens, so "allowed" means a 2xx.
MATRIX = {
    ("GET", "/v1/me"): ALL,
    ("GET", "/v1/users"): ADMIN,
    ("POST", "/v1/users"): ADMIN,
    ("GET", "/v1/users/<user_id>"): ADMIN,
    ("PATCH", "/v1/users/<user_id>"): ADMIN,
    ("GET", "/v1/users/<user_id>/tokens"): ALL,
    ("POST", "/v1/users/<user_id>/tokens"): ALL,
    ("DELETE", "/v1/users/<user_id>/tokens/<token_id>"): ALL,
    ("GET", "/v1/articles"): ALL,
    ("POST", "/v1/articles"): ALL,
    ("GET", "/v1/articles/<article_id>"): ALL,
    ("PATCH", "/v1/articles/<article_id>"): ALL,
    ("DELETE", "/v1/articles/<article_id>"): ALL,
    ("GET", "/v1/articles/<article_id>/revisions"): ALL,
    ("GET", "/v1/articles/<article_id>/revisions/<int:number>"): ALL,
    ("GET", "/v1/articles/<article_id>/revisions/diff"): ALL,
    ("POST", "/v1/articles/<article_id>/transitions"): ALL,
    ("GET", "/v1/articles/<article_id>/history"): ALL,
    ("GET", "/v1/articles/<article_id>/comments"): ALL,
    ("POST", "/v1/articles/<article_id>/comments"): ALL,
    ("POST", "/v1/articles/<article_id>/comments/<comment_id>/resolve"): ALL,
    ("GET", "/v1/review-queue"): EDITORS,
    ("GET", "/v1/articles/<article_id>/headlines"): ALL,
    ("POST", "/v1/articles/<article_id>/headlines"): ALL,
    ("PUT", "/v1/articles/<article_id>/headlines/order"): ALL,
    ("PATCH", "/v1/articles/<article_id>/headlines/<candidate_id>"): ALL,
    ("DELETE", "/v1/articles/<article_id>/headlines/<candidate_id>"): ALL,
    ("POST", "/v1/imports"): ALL,
    ("GET", "/v1/imports/<import_id>"): ALL,
    ("GET", "/v1/articles/<article_id>/cleanup"): ALL,
    ("POST", "/v1/articles/<article_id>/cleanup/runs"): ALL,
    ("POST", "/v1/articles/<article_id>/cleanup/restore"): ALL,
    ("GET", "/v1/articles/<article_id>/experiment"): ALL,
    ("POST", "/v1/articles/<article_id>/experiment"): EDITORS,
    ("POST", "/v1/articles/<article_id>/experiment/actions"): EDITORS,
    ("POST", "/v1/articles/<article_id>/experiment/winner"): EDITORS,
    ("GET", "/v1/articles/<article_id>/experiment/chart.svg"): ALL,
    ("GET", "/v1/experiments/event-metrics"): ADMIN,
    ("GET", "/v1/sites"): ADMIN,
    ("POST", "/v1/sites"): ADMIN,
    ("DELETE", "/v1/sites/<site_id>"): ADMIN,
    ("GET", "/v1/outlets"): EDITORS,
    ("POST", "/v1/outlets"): ADMIN,
    ("GET", "/v1/outlets/<outlet_id>"): EDITORS,
    ("PATCH", "/v1/outlets/<outlet_id>"): ADMIN,
    ("POST", "/v1/outlets/<outlet_id>/secret"): ADMIN,
    ("GET", "/v1/outlets/<outlet_id>/health"): EDITORS,
    ("GET", "/v1/deliveries"): EDITORS,
    ("GET", "/v1/deliveries/<delivery_id>"): EDITORS,
    ("POST", "/v1/deliveries/<delivery_id>/redeliver"): EDITORS,
    ("POST", "/v1/deliveries/<delivery_id>/cancel"): EDITORS,
    ("GET", "/metrics"): ADMIN,
    ("POST", "/v1/system/heartbeats"): ADMIN,
    ("GET", "/v1/system/heartbeats/<heartbeat_id>"): ADMIN,
    ("GET", "/v1/system/workers"): ADMIN,
}
BODIES = {
    ("POST", "/v1/users"): lambda c: {"email": f"new{c['n']}@example.org", "role": "writer"},
    ("PATCH", "/v1/users/<user_id>"): lambda c: {"name": "Renamed"},
    ("POST", "/v1/users/<user_id>/tokens"): lambda c: {"name": "ci"},
    ("POST", "/v1/articles"): lambda c: {"language": "en"},
    ("PATCH", "/v1/articles/<article_id>"): lambda c: {"summary": "s"},
    ("POST", "/v1/articles/<article_id>/transitions"): lambda c: {"action": "submit"},
    ("POST", "/v1/articles/<article_id>/comments"): lambda c: {"body": "Check the dateline"},
    ("POST", "/v1/imports"): lambda c: {"content": f"story {c['n']}", "source": {"name": "wire"}},
    ("POST", "/v1/articles/<article_id>/cleanup/restore"): lambda c: {"index": 10},
    ("POST", "/v1/articles/<article_id>/headlines"): lambda c: {"text": "A third headline"},
    ("PUT", "/v1/articles/<article_id>/headlines/order"): lambda c: {"ids": c["candidates"][::-1]},
    ("PATCH", "/v1/articles/<article_id>/headlines/<candidate_id>"): lambda c: {"status": "accepted"},
    ("POST", "/v1/articles/<article_id>/experiment"): lambda c: {"allocation": "fixed"},
    ("POST", "/v1/articles/<article_id>/experiment/actions"): lambda c: {"action": "pause"},
    ("POST", "/v1/articles/<article_id>/experiment/winner"): lambda c: {
        "candidate_id": c["candidates"][0]},
    ("POST", "/v1/sites"): lambda c: {"name": "Front page"},
    ("POST", "/v1/outlets"): lambda c: {"name": f"Feed {c['n']}", "kind": "feed"},
    ("PATCH", "/v1/outlets/<outlet_id>"): lambda c: {"enabled": False},
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, re.sub(r"<int\([^)]*\):", "<int:", rule.rule)  # drop range arguments


def test_matrix_covers_every_route(app):
    secured = {(m, r) for m, r in _routes(app) if r not in PUBLIC}
    assert secured == set(MATRIX)


def _imported_article(factory, headers) -> dict:
    """An article imported from the seed page and cleaned (line 10 was removed)."""
    created = factory.client.post("/v1/imports", headers=headers, json={
        "content": SEED, "source": {"name": "aawsat"}, "language": "ar"}).get_json()
    with factory.app.app_context():
        cleanup.execute(created["runs"][0]["id"])
    candidates = factory.client.get(f"/v1/articles/{created['article_id']}/headlines",
                                    headers=headers).get_json()
    return {"id": created["article_id"], "import_id": created["id"],
            "candidates": [c["id"] for c in candidates]}


def _concrete(method: str, route: str, user, factory, headers) -> tuple[str, dict]:
    article = _imported_article(factory, headers)
    with factory.app.app_context():
        token = user_service.list_tokens(user.id)[0]
    with factory.app.app_context(), transaction() as session:
        beat = Heartbeat(kind="probe")
        session.add(beat)
    comment = factory.client.post(f"/v1/articles/{article['id']}/comments", headers=headers,
                                  json={"body": "A note"}).get_json()
    if "/experiment" in route:  # a live article, with a running test unless one is to start
        force_live_experiment(factory.app, article["id"], article["candidates"],
                              start=(method, route[-11:]) != ("POST", "/experiment"))
    with factory.app.app_context():
        site = sites.create_site("Matrix site")
    outlet_id, delivery_id = _outlet_and_delivery(factory.app, article["id"], route.endswith("/cancel"))
    values = {"<user_id>": user.id, "<article_id>": article["id"], "<int:number>": "1",
              "<token_id>": token.id, "<heartbeat_id>": beat.id, "<comment_id>": comment["id"],
              "<import_id>": article["import_id"], "<candidate_id>": article["candidates"][0],
              "<site_id>": site.id, "<outlet_id>": outlet_id, "<delivery_id>": delivery_id}
    for key, value in values.items():
        route = route.replace(key, value)
    return route + ("?from=1&to=1" if route.endswith("/diff") else ""), article


def _outlet_and_delivery(app, article_id: str, pending: bool) -> tuple[str, str]:
    """A webhook outlet (a public address literal: no DNS) with one delivery of the
    article, pending (to cancel) or dead (to redeliver)."""
    with app.app_context(), transaction() as session:
        outlet = Outlet(name=f"Matrix outlet {article_id}", kind=OutletKind.WEBHOOK, format="ninjs",
                        url="https://93.184.215.14/hook", secret="whsec_matrix_secret_0123",
                        next_sequence=2)
        session.add(outlet)
        session.flush()
        delivery = Delivery(outlet_id=outlet.id, article_id=article_id, kind=DeliveryKind.PUBLISH,
                            sequence=1, document={"uri": f"urn:masthead:article:{article_id}"},
                            state=DeliveryState.PENDING if pending else DeliveryState.DEAD)
        session.add(delivery)
    return outlet.id, delivery.id


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize(("method", "route"), sorted(MATRIX))
def test_role_matrix(app, client, factory, role, method, route):
    user, headers = factory.login(role)
    url, context = _concrete(method, route, user, factory, headers)
    body = BODIES.get((method, route), lambda c: None)({**context, "n": id(url)})
    response = client.open(url, method=method, json=body, headers={**headers, "If-Match": "*"})
    if role in MATRIX[(method, route)]:
        assert response.status_code < 400, (role, method, url, response.get_json())
    else:
        assert response.status_code == 403, (role, method, url, response.status_code)


@pytest.mark.parametrize(("method", "route"), sorted(MATRIX))
def test_every_route_needs_a_token(client, method, route):
    url = route.replace("<int:number>", "1").replace("<", "").replace(">", "")
    for headers in ({}, {"Authorization": "Bearer mh_wrong"}, {"Authorization": "Basic abc"}):
        response = client.open(url, method=method, headers=headers)
        assert response.status_code == 401, (method, url, headers)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_are_hashed_shown_once_and_revocable(app, client, writer):
    user, headers = writer
    issued = client.post(f"/v1/users/{user.id}/tokens", json={"name": "laptop"}, headers=headers)
    assert issued.status_code == 201
    secret = issued.get_json()["token"]
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).all()
        assert all(secret not in (t.token_hash, t.prefix) for t in stored)
        assert user_service.hash_token(secret) in {t.token_hash for t in stored}
    listed = client.get(f"/v1/users/{user.id}/tokens", headers=headers).get_json()
    assert all("token" not in t for t in listed)
    assert secret not in str(listed)
    new_headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/me", headers=new_headers).status_code == 200
    token_id = issued.get_json()["id"]
    assert client.delete(f"/v1/users/{user.id}/tokens/{token_id}", headers=headers).status_code == 204
    assert client.get("/v1/me", headers=new_headers).status_code == 401


def test_last_used_is_recorded(app, client, writer):
    user, headers = writer
    client.get("/v1/me", headers=headers)
    listed = client.get(f"/v1/users/{user.id}/tokens", headers=headers).get_json()
    used = datetime.fromisoformat(listed[0]["last_used_at"])
    assert datetime.now(UTC) - used < timedelta(minutes=1)


def test_expired_token_and_deactivated_user(app, client, factory, admin):
    user = factory.user("writer")
    with app.app_context():
        secret = user_service.issue_token(user, expires_in=timedelta(seconds=-1)).secret
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    headers = factory.headers(user)
    assert client.get("/v1/me", headers=headers).status_code == 200
    client.patch(f"/v1/users/{user.id}", json={"is_active": False}, headers=admin[1])
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_cannot_manage_someone_elses_tokens(client, factory, writer):
    other = factory.user("editor")
    assert client.get(f"/v1/users/{other.id}/tokens", headers=writer[1]).status_code == 403
    assert client.post(f"/v1/users/{other.id}/tokens", json={}, headers=writer[1]).status_code == 403


def test_admin_creates_users_and_duplicates_conflict(client, admin):
    body = {"email": "Reporter@Example.org", "role": "writer", "name": "Rana"}
    created = client.post("/v1/users", json=body, headers=admin[1])
    assert created.status_code == 201 and created.get_json()["email"] == "reporter@example.org"
    again = client.post("/v1/users", json=body, headers=admin[1])
    assert again.status_code == 409
    bad_role = client.post("/v1/users", json={**body, "role": "boss"}, headers=admin[1])
    assert bad_role.status_code == 422


def test_last_admin_cannot_be_demoted_or_deactivated(client, factory, admin):
    user, headers = admin
    for change in ({"role": "editor"}, {"is_active": False}):
        response = client.patch(f"/v1/users/{user.id}", json=change, headers=headers)
        assert response.status_code == 409, change
    assert client.get("/v1/me", headers=headers).get_json()["role"] == "admin"
    other = factory.user("admin")
    assert client.patch(f"/v1/users/{user.id}", json={"role": "editor"},
                        headers=headers).status_code == 200
    assert client.get(f"/v1/users/{other.id}", headers=factory.headers(other)).status_code == 200


def test_a_revocation_made_by_another_process_applies_within_the_cache_window(
        committed_app_factory, monkeypatch):
    clock = [1000.0]  # the cache's monotonic clock, moved by hand: no sleeping, no race
    monkeypatch.setattr(user_service, "monotonic", lambda: clock[0])
    serving = committed_app_factory(TOKEN_CACHE_SECONDS=5)  # one gunicorn worker
    elsewhere = committed_app_factory()  # another worker, where the revocation is made
    client = serving.test_client()
    user, headers = Factory(serving, client).login("writer")
    token_id = client.get(f"/v1/users/{user.id}/tokens", headers=headers).get_json()[0]["id"]
    revoked = elsewhere.test_client().delete(f"/v1/users/{user.id}/tokens/{token_id}",
                                             headers=headers)
    assert revoked.status_code == 204
    clock[0] += 4.9
    assert client.get("/v1/me", headers=headers).status_code == 200  # trusted from the cache
    clock[0] += 0.1
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_without_the_cache_a_revocation_elsewhere_applies_at_once(committed_app_factory):
    serving, elsewhere = committed_app_factory(TOKEN_CACHE_SECONDS=0), committed_app_factory()
    client = serving.test_client()
    factory = Factory(serving, client)
    (_admin, admin_headers), (user, headers) = factory.login("admin"), factory.login("editor")
    assert client.get("/v1/review-queue", headers=headers).status_code == 200
    demoted = elsewhere.test_client().patch(f"/v1/users/{user.id}", json={"role": "writer"},
                                            headers=admin_headers)
    assert demoted.status_code == 200
    assert client.get("/v1/review-queue", headers=headers).status_code == 403


def test_a_cached_token_still_expires_on_time(app, client, factory, monkeypatch):
    user = factory.user("writer")
    with app.app_context():
        secret = user_service.issue_token(user, expires_in=timedelta(minutes=1)).secret
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/me", headers=headers).status_code == 200  # now in the cache
    later = datetime.now(UTC) + timedelta(minutes=2)
    monkeypatch.setattr(user_service, "utcnow", lambda: later)
    assert client.get("/v1/me", headers=headers).status_code == 401
