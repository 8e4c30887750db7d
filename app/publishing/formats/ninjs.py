"""IPTC ninjs 2.0 (JSON) documents of articles: https://iptc.org/std/ninjs/.

The field names are ninjs' own where one fits (headlines, bodies, descriptions, byline,
located, keywords, infosources, versioncreated, pubstatus); Masthead's own fields live
under ``masthead``, which ninjs allows for extensions.
"""

import json
from datetime import datetime

MEDIA_TYPE = "application/json"
PUBSTATUS = {"publish": "usable", "update": "usable", "takedown": "canceled"}


def document(article, revision, headline: str, kind: str, sequence: int, now: datetime) -> dict:
    """The ninjs document of ``article`` as published by this change (``kind``)."""
    doc = {
        "uri": f"urn:masthead:article:{article.id}",
        "type": "text",
        "representationtype": "complete",
        "version": str(sequence),
        "pubstatus": PUBSTATUS[kind],
        "language": article.language,
        "versioncreated": now.isoformat(),
        "firstcreated": article.created_at.isoformat(),
        "masthead": {"article_id": article.id, "event": kind},
    }
    if kind == "takedown":
        return doc
    doc.update(_content(article, revision, headline))
    doc["masthead"]["revision_id"] = revision.id
    if article.published_at:
        doc["contentcreated"] = article.published_at.isoformat()
    return doc


def _content(article, revision, headline: str) -> dict:
    content = {
        "headlines": [{"role": "main", "value": headline}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": revision.body}],
        "byline": revision.byline,
        "keywords": list(article.tags or []),
    }
    if revision.summary:
        content["descriptions"] = [{"role": "summary", "contenttype": "text/plain",
                                    "value": revision.summary}]
    if revision.dateline:
        content["located"] = revision.dateline
    if article.source_name or article.source_url:
        content["infosources"] = [{"name": article.source_name or "", "uri": article.source_url or ""}]
    return content


def render(doc: dict) -> bytes:
    """The request body of a webhook delivery: the document, compact UTF-8 JSON."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
