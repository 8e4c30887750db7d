"""Concurrent writers with the same If-Match: exactly one wins, against real commits."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from app.extensions import db
from app.models import ArticleRevision
from tests.factories import Factory


def test_parallel_updates_with_one_etag_have_one_winner(committed_app):
    client = committed_app.test_client()
    _user, headers = Factory(committed_app, client).login("editor")
    article = Factory(committed_app, client).article(headers, body="v1")
    url = f"/v1/articles/{article['id']}"

    def patch(n):
        with committed_app.test_client() as own:
            return own.patch(url, json={"body": f"edit {n}"},
                             headers={**headers, "If-Match": '"v1"'}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(patch, range(20)))
    assert statuses.count(200) == 1 and statuses.count(412) == 19, statuses
    final = client.get(url, headers=headers)
    assert final.headers["ETag"] == '"v2"'
    with committed_app.app_context():
        count = select(func.count()).select_from(ArticleRevision)
        assert db.session.scalar(count) == 2
