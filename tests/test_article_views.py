"""Article representations: conditional GET (If-None-Match), the list's summary view, and
the hand-built JSON against ArticleSchema, its documented reference."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.pool import NullPool

from app import extensions
from app.editorial import policy
from app.extensions import db
from app.models import ApiToken, Article, User
from app.schemas.articles import ArticleSchema
from tests.factories import Factory
from tests.workflow_helpers import transition


@pytest.fixture
def article(factory, writer):
    return factory.article(writer[1], language="ar", headline="عنوان", body="سطر أول\nسطر ثان",
                           tags=["محليات"])


def _get(client, article_id, headers, if_none_match=None):
    extra = {} if if_none_match is None else {"If-None-Match": if_none_match}
    return client.get(f"/v1/articles/{article_id}", headers={**headers, **extra})


@pytest.mark.parametrize("header", ['"v1"', 'W/"v1"', '"v7", "v1"', '"x", W/"v1"', "*"])
def test_if_none_match_naming_the_current_etag_is_304_without_a_body(client, writer, article,
                                                                      header):
    response = _get(client, article["id"], writer[1], header)
    assert response.status_code == 304
    assert response.headers["ETag"] == '"v1"'
    assert response.get_data() == b""


@pytest.mark.parametrize("header", ['"v2"', 'W/"v2"', '"1"', '"V1"', '""'])
def test_if_none_match_naming_another_etag_answers_the_article(client, writer, article, header):
    response = _get(client, article["id"], writer[1], header)
    assert response.status_code == 200
    assert response.get_json()["body"] == "سطر أول\nسطر ثان"
    assert response.headers["ETag"] == '"v1"'


def test_a_change_makes_the_old_etag_stale(client, writer, article):
    edited = client.patch(f"/v1/articles/{article['id']}", json={"headline": "عنوان جديد"},
                          headers={**writer[1], "If-Match": '"v1"'})
    assert edited.status_code == 200
    stale = _get(client, article["id"], writer[1], '"v1"')
    assert stale.status_code == 200 and stale.headers["ETag"] == '"v2"'
    assert stale.get_json()["headline"] == "عنوان جديد"
    assert _get(client, article["id"], writer[1], '"v2"').status_code == 304


def test_if_none_match_does_not_bypass_authentication_or_existence(client, writer, article):
    assert client.get(f"/v1/articles/{article['id']}",
                      headers={"If-None-Match": "*"}).status_code == 401
    assert _get(client, "0" * 26, writer[1], "*").status_code == 404
    client.delete(f"/v1/articles/{article['id']}", headers={**writer[1], "If-Match": '"v1"'})
    assert _get(client, article["id"], writer[1], '"v1"').status_code == 404


def test_summary_view_leaves_out_only_the_body(client, factory, writer):
    for number in range(3):
        factory.article(writer[1], language="ar", headline=f"خبر {number}", body="نص طويل " * 50)
    full = client.get("/v1/articles", headers=writer[1]).get_json()
    summary = client.get("/v1/articles?view=summary", headers=writer[1]).get_json()
    assert [set(item) for item in summary["items"]] == \
        [set(item) - {"body"} for item in full["items"]]
    assert summary["items"] == [{k: v for k, v in item.items() if k != "body"}
                                for item in full["items"]]
    assert all(item["body"].startswith("نص طويل") for item in full["items"])


def test_summary_view_pages_and_searches_like_the_full_view(client, factory, writer):
    for number in range(5):
        factory.article(writer[1], language="ar", headline=f"المملكة {number}", body="نص")
    factory.article(writer[1], language="en", headline="Elsewhere", body="text")
    first = client.get("/v1/articles?view=summary&q=المملكه&limit=3", headers=writer[1])
    assert len(first.get_json()["items"]) == 3 and "view=summary" in first.headers["Link"]
    cursor = first.get_json()["next_cursor"]
    rest = client.get(f"/v1/articles?view=summary&q=المملكه&limit=3&cursor={cursor}",
                      headers=writer[1]).get_json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None


def test_an_unknown_view_is_422(client, writer):
    response = client.get("/v1/articles?view=compact", headers=writer[1])
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "/view"


def _published_with_an_approved_correction(client, factory, writer, editor) -> tuple[str, dict]:
    """Live revision 1; the correction, revision 2, approved and not yet published. Also
    the approval's response (a write's document)."""
    created = factory.article(writer[1], language="en-GB", headline="Budget", body="Vote today",
                              tags=["politics", "uk"], source_name="wire",
                              source_url="https://example.org/a", assignee_id=writer[0].id,
                              embargo_until=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    for headers, action in ((writer[1], "submit"), (editor[1], "approve"), (editor[1], "publish")):
        assert transition(client, created, headers, action).status_code == 200
    etag = client.get(f"/v1/articles/{created['id']}", headers=writer[1]).headers["ETag"]
    assert client.patch(f"/v1/articles/{created['id']}", json={"headline": "Budget passed"},
                        headers={**writer[1], "If-Match": etag}).status_code == 200
    for headers, action in ((writer[1], "submit"), (editor[1], "approve")):
        response = transition(client, created, headers, action)
        assert response.status_code == 200
    return created["id"], response.get_json()


class _AsDocumented:
    """An ORM article with a caller's allowed actions: what ArticleSchema reads."""

    def __init__(self, article: Article, caller: User):
        self.article, self.allowed_actions = article, policy.allowed_actions(caller, article)

    def __getattr__(self, name: str):
        return getattr(self.article, name)


def test_the_built_json_is_what_the_documented_schema_dumps(app, client, factory, writer, editor):
    draft = factory.article(writer[1], language="ar", headline="مسودة", body="نص")
    corrected, approval = _published_with_an_approved_correction(client, factory, writer, editor)
    for article_id in (draft["id"], corrected):
        served = client.get(f"/v1/articles/{article_id}", headers=editor[1]).get_json()
        listed = [item for item in client.get("/v1/articles?limit=100", headers=editor[1])
                  .get_json()["items"] if item["id"] == article_id]
        with app.test_request_context():
            caller = db.session.merge(editor[0])
            documented = ArticleSchema().dump(
                _AsDocumented(db.session.get(Article, article_id), caller))
        assert served == documented and listed == [documented]
    assert approval == served  # a write answers the document a read gives
    assert served["live_revision"]["number"] == 1 and served["approved_revision"]["number"] == 2
    assert served["revision"]["number"] == 2 and served["is_live"] is True
    assert served["state"] == "approved" and served["tags"] == ["politics", "uk"]


@contextmanager
def _statements():
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.parametrize("view", ["summary", "full"])
def test_a_page_costs_the_same_statements_for_any_number_of_articles(client, factory, writer,
                                                                     editor, view):
    counts = []
    for _ in range(2):
        factory.article(writer[1], language="ar", headline="مسودة", body="نص")
        _published_with_an_approved_correction(client, factory, writer, editor)
        client.get("/v1/articles", headers=editor[1])  # the token's last use is recorded once
        with _statements() as seen:
            items = client.get(f"/v1/articles?view={view}", headers=editor[1]).get_json()["items"]
        counts.append(len(seen))
    assert len(items) == 4 and counts[0] == counts[1]
    assert not any("body" in statement and "WHERE article_revisions.id =" in statement
                   for statement in seen)


def _postgresql_only(app) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("autocommit reads are PostgreSQL's (SQLite keeps one transaction)")


@contextmanager
def _autocommit_per_statement(app):
    modes = []

    def record(conn, *_args):
        modes.append(conn.connection.dbapi_connection.autocommit)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield modes
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_reads_run_without_a_transaction_and_writes_in_one(committed_app_factory):
    app = committed_app_factory(TOKEN_TOUCH_SECONDS=0)
    _postgresql_only(app)
    client = app.test_client()
    user, headers = Factory(app, client).login("writer")
    article = Factory(app, client).article(headers)
    with _autocommit_per_statement(app) as reads:
        assert client.get(f"/v1/articles/{article['id']}", headers=headers).status_code == 200
        assert client.get("/v1/articles?view=summary", headers=headers).status_code == 200
    with _autocommit_per_statement(app) as writes:
        assert client.patch(f"/v1/articles/{article['id']}", json={"headline": "New"},
                            headers={**headers, "If-Match": '"v1"'}).status_code == 200
    assert reads and all(reads) and writes and not any(writes)
    with app.app_context():  # the token's use, recorded during a read, was committed
        used = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user.id))
    assert used is not None and datetime.now(UTC) - used < timedelta(minutes=1)


def test_a_pooled_connection_closed_by_the_server_is_replaced(committed_app, monkeypatch):
    _postgresql_only(committed_app)
    client = committed_app.test_client()
    _user, headers = Factory(committed_app, client).login("writer")
    article = Factory(committed_app, client).article(headers)
    with committed_app.app_context():
        url = db.engine.url
    admin = create_engine(url, poolclass=NullPool)
    with admin.connect() as connection:  # every pooled connection of the app dies while idle
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    admin.dispose()
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert client.get(f"/v1/articles/{article['id']}", headers=headers).status_code == 200
