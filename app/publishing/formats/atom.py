"""Atom 1.0 feeds (RFC 4287) of ninjs documents, written with feedgen.

One entry per article, its latest version: an update changes the entry's ``updated`` and
content under the same ``id`` (how readers recognise a revised entry); a takedown removes
the entry.
"""

from datetime import datetime

from feedgen.feed import FeedGenerator

MEDIA_TYPE = "application/atom+xml"


def render(title: str, feed_url: str, updated: datetime, docs: list[dict]) -> bytes:
    """The feed document, newest entries first (``docs`` in that order)."""
    feed = FeedGenerator()
    feed.id(feed_url)
    feed.title(title)
    feed.link(href=feed_url, rel="self")
    feed.updated(updated)
    feed.generator("Masthead")
    for doc in reversed(docs):  # feedgen prepends each new entry
        _add_entry(feed, doc)
    return feed.atom_str(pretty=True)


def _add_entry(feed: FeedGenerator, doc: dict) -> None:
    entry = feed.add_entry()
    entry.id(doc["uri"])
    entry.title(doc["headlines"][0]["value"])
    entry.updated(doc["versioncreated"])
    entry.published(doc.get("contentcreated", doc["versioncreated"]))
    entry.content(doc["bodies"][0]["value"], type="text")
    if doc.get("byline"):
        entry.author(name=doc["byline"])
    else:
        entry.author(name="Masthead")
    for description in doc.get("descriptions", []):
        entry.summary(description["value"])
    for keyword in doc.get("keywords", []):
        entry.category(term=keyword)
