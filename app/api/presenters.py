"""Article responses: the row, the caller's allowed actions and the ETag, as JSON.

``ArticleSchema`` documents the representation (OpenAPI) and stays its reference; the
responses are built here by hand because marshmallow's generic dump was a third of a
25-article page (py-spy under gunicorn, bench/http_overhead.py). A test checks that both
give the same document for articles in every shape (tests/test_article_views.py).
"""

from dataclasses import dataclass
from datetime import datetime

from flask import Response, current_app

from app.api.auth import current_user
from app.api.http import etag_for
from app.editorial import policy
from app.models import Article, ArticleRevision
from app.platform.pagination import Page
from app.text import direction


@dataclass
class ArticleView:
    article: Article
    allowed_actions: list[str]

    def __getattr__(self, name: str):
        return getattr(self.article, name)


def present(article: Article) -> ArticleView:
    return ArticleView(article, policy.allowed_actions(current_user(), article))


def article_document(view: ArticleView, *, with_body: bool = True) -> dict:
    """What ArticleSchema dumps for ``view`` (without ``body`` for the summary view, which
    never touches it: the list query does not load it)."""
    article, text = view.article, view.article.latest_revision
    document = {
        "id": article.id, "language": article.language, "direction": direction(article.language),
        "state": str(article.state), "headline": text.headline, "summary": text.summary,
    }
    if with_body:
        document["body"] = text.body
    document.update({
        "byline": text.byline, "dateline": text.dateline,
        "source_name": article.source_name, "source_url": article.source_url,
        "tags": list(article.tags), "author_id": article.author_id,
        "assignee_id": article.assignee_id, "revision": _revision_ref(text),
        "approved_revision": _revision_ref(article.approved_revision),
        "live_revision": _revision_ref(article.live_revision), "is_live": article.is_live,
        "approved_headline_ids": list(article.approved_headline_ids),
        "live_headline_ids": list(article.live_headline_ids),
        "canonical_headline_id": article.canonical_headline_id,
        "allowed_actions": view.allowed_actions,
        **_times(article, "submitted_at", "publish_at", "embargo_until", "published_at",
                 "last_published_at"),
        "publish_lateness_seconds": article.publish_lateness_seconds,
        "version": article.version,
        **_times(article, "created_at", "updated_at"),
    })
    return document


def _revision_ref(revision: ArticleRevision | None) -> dict | None:
    return None if revision is None else {"id": revision.id, "number": revision.number}


def _times(article: Article, *names: str) -> dict:
    return {name: _iso(getattr(article, name)) for name in names}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def json_response(document: dict) -> Response:
    return current_app.json.response(document)


def present_page(page: Page, *, with_body: bool = True) -> Response:
    items = [article_document(present(a), with_body=with_body) for a in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


def with_etag(article: Article, status: int = 200, extra: dict | None = None):
    """(response, status, headers) for flask-smorest: the article, its ETag and ``extra``."""
    headers = {"ETag": etag_for(article.version), **(extra or {})}
    return json_response(article_document(present(article))), status, headers
