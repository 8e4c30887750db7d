"""Article responses: the record, the caller's allowed actions and the ETag, as JSON.

``ArticleSchema`` documents the representation (OpenAPI) and stays its reference; the
responses are built here by hand from the records of ``article_queries`` because
marshmallow's generic dump was a third of a 25-article page (py-spy under gunicorn,
bench/http_overhead.py), and encoded by msgspec. A test checks that both give the same
document for articles in every shape (tests/test_article_views.py).
"""

from datetime import datetime

import msgspec
from flask import Response

from app.api.auth import current_user
from app.api.http import etag_for
from app.editorial import article_queries, policy
from app.models import Article
from app.platform.pagination import Page
from app.text import direction


def article_document(record, *, with_body: bool = True) -> dict:
    """What ArticleSchema dumps for the article of ``record`` (an ``article_queries``
    record), with the caller's allowed actions; without ``body`` for the summary view."""
    document = {
        "id": record.id, "language": record.language, "direction": direction(record.language),
        "state": str(record.state), "headline": record.headline, "summary": record.summary,
        "body": record.body if with_body else None,  # its place in the order; dropped below
        "byline": record.byline, "dateline": record.dateline,
        "source_name": record.source_name, "source_url": record.source_url,
        "tags": record.tags, "author_id": record.author_id, "assignee_id": record.assignee_id,
        "revision": _revision_ref(record.revision_id, record.revision_number),
        "approved_revision": _revision_ref(record.approved_revision_id,
                                           record.approved_revision_number),
        "live_revision": _revision_ref(record.live_revision_id, record.live_revision_number),
        "is_live": record.is_live,
        "approved_headline_ids": record.approved_headline_ids,
        "live_headline_ids": record.live_headline_ids,
        "canonical_headline_id": record.canonical_headline_id,
        "allowed_actions": policy.allowed_actions(current_user(), record),
        "submitted_at": _iso(record.submitted_at), "publish_at": _iso(record.publish_at),
        "embargo_until": _iso(record.embargo_until), "published_at": _iso(record.published_at),
        "last_published_at": _iso(record.last_published_at),
        "publish_lateness_seconds": record.publish_lateness_seconds,
        "version": record.version,
        "created_at": _iso(record.created_at), "updated_at": _iso(record.updated_at),
    }
    if not with_body:
        del document["body"]
    return document


def _revision_ref(revision_id: str | None, number: int | None) -> dict | None:
    return None if revision_id is None else {"id": revision_id, "number": number}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def json_response(document: dict) -> Response:
    return Response(msgspec.json.encode(document), mimetype="application/json")


def present_page(page: Page, *, with_body: bool = True) -> Response:
    items = [article_document(record, with_body=with_body) for record in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


def with_etag(record, status: int = 200, extra: dict | None = None):
    """(response, status, headers) for flask-smorest: the article's record, its ETag and
    ``extra``; an ``Article`` a write holds is shown as its record."""
    if isinstance(record, Article):
        record = article_queries.record_of(record)
    headers = {"ETag": etag_for(record.version), **(extra or {})}
    return json_response(article_document(record)), status, headers
