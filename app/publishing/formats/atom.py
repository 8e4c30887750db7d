"""Atom 1.0 feeds (RFC 4287) of ninjs documents, written with feedgen.

One entry per article, its latest version: an update changes the entry's ``updated`` and
content under the same ``id`` (how readers recognise a revised entry); a takedown removes
the entry.

The API refuses text XML cannot carry (app.text.forbidden_character), but a document
stored before that rule, or by a future path that forgets it, must not take the whole
feed down: such characters are dropped here, and an entry that still cannot be written
is left out (and logged) rather than failing every reader.
"""

import logging
from datetime import datetime

from feedgen.feed import FeedGenerator
from lxml import etree

from app.text import without_forbidden

log = logging.getLogger(__name__)

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
        _add_checked_entry(feed, _writable(doc))
    return feed.atom_str(pretty=True)


def _writable(value):
    """The document with every string stripped of characters XML cannot hold."""
    if isinstance(value, str):
        return without_forbidden(value)
    if isinstance(value, dict):
        return {key: _writable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_writable(item) for item in value]
    return value


def _add_checked_entry(feed: FeedGenerator, doc: dict) -> None:
    """Add the entry if it serialises on its own; otherwise leave it out and say so."""
    entry = feed.add_entry()
    try:
        _fill(entry, doc)
        etree.tostring(entry.atom_entry())
    except (ValueError, TypeError, KeyError) as error:
        feed.remove_entry(entry)
        log.error("feed entry %s left out: %s", doc.get("uri"), error)


def _fill(entry, doc: dict) -> None:
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
