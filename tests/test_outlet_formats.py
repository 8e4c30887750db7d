"""Every text the API accepts renders in every outlet format (ninjs webhooks, Atom feeds),
text no format can carry is refused at the door, and one bad entry never takes a feed
down. Feed ids and self links come from PUBLIC_BASE_URL, not from the Host header."""

import json

import feedparser
import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Delivery
from app.platform.uow import transaction
from app.text import nfc
from tests.test_publishing import add_webhook, people, receiver, send_pending  # noqa: F401
from tests.test_publishing import app as publishing_app  # noqa: F401
from tests.workflow_helpers import transition

# Accepted by the API: they must come out of every format exactly as they went in.
HOSTILE = [
    "]]> & &amp; \"quotes\" 'single' < not a tag",
    "\u202eRTL override\u202c and \u200fmarks\u200e",
    "عنوانٌ مُشَكَّل ـــ بالتطويل",
    "emoji 📰🗞️ and combining e\u0301",
    "line\u2028separator and paragraph\u2029separator",
    "tab\tinside",
    "x" * 5000,
]
# Refused with 422 wherever text is accepted: no outlet format can carry them.
REFUSED = ["\uffff", "\ufffe", "\ufdd0", "\U0001ffff", "\x0b", "\x1b[31m", "\ud800"]


@pytest.fixture
def app(publishing_app):  # noqa: F811
    return publishing_app


def _published(app, client, people, texts: dict) -> str:  # noqa: F811
    writer, editor, _admin = people
    created = client.post("/v1/articles", json={"language": "ar", **texts}, headers=writer)
    assert created.status_code == 201, created.get_json()
    article_id = created.get_json()["id"]
    assert transition(client, article_id, writer, "submit").status_code == 200
    assert transition(client, article_id, editor, "approve").status_code == 200
    assert transition(client, article_id, editor, "publish").status_code == 200
    return article_id


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_accepted_text_comes_out_of_every_format_as_it_went_in(app, client, people, receiver, text):  # noqa: F811
    """As it went in after NFC normalisation, the one change stored text ever gets."""
    _writer, _editor, admin = people
    add_webhook(client, admin, receiver)
    feed = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).get_json()
    _published(app, client, people, {"headline": text[:500], "body": text, "byline": text[:200],
                                     "summary": text[:1000], "tags": [text[:100]]})
    assert send_pending(app) == ["delivered"]
    document, stored = receiver.processed[0].body, nfc(text)
    assert document["headlines"][0]["value"] == nfc(text[:500])
    assert document["bodies"][0]["value"] == stored and document["byline"] == nfc(text[:200])
    assert json.loads(json.dumps(document)) == document
    response = client.get(f"/v1/feeds/{feed['id']}")
    assert response.status_code == 200
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo and parsed.entries[0].title == nfc(text[:500])
    assert parsed.entries[0].content[0].value == stored


@pytest.mark.parametrize("text", REFUSED, ids=[f"U+{ord(t[-1]):04X}" for t in REFUSED])
def test_text_no_format_can_carry_is_refused_everywhere(client, people, text):  # noqa: F811
    writer, _editor, admin = people

    def post(url, body, headers):  # escaped JSON: a lone surrogate cannot be sent as UTF-8
        return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)

    for field in ("headline", "body", "byline", "dateline", "summary"):
        response = post("/v1/articles", {"language": "en", field: f"a{text}b"}, writer)
        assert response.status_code == 422, (field, response.get_json())
    assert post("/v1/articles", {"language": "en", "tags": [f"a{text}"]}, writer).status_code == 422
    assert post("/v1/outlets", {"name": f"a{text}", "kind": "feed"}, admin).status_code == 422
    assert client.get("/v1/articles", headers=writer).get_json()["items"] == []


def test_one_bad_stored_entry_never_takes_the_feed_down(app, client, people):  # noqa: F811
    """A document stored before the rule (or by a path that forgot it) still renders."""
    _writer, _editor, admin = people
    feed = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).get_json()
    good = _published(app, client, people, {"headline": "Good story", "body": "Fine."})
    bad = _published(app, client, people, {"headline": "Bad story", "body": "Soon broken."})
    with app.app_context(), transaction():
        delivery = db.session.scalars(select(Delivery).where(Delivery.article_id == bad)).one()
        broken = {**delivery.document, "headlines": [{"role": "main", "value": "Bad\uffff story\x00"}]}
        db.session.execute(update(Delivery).where(Delivery.id == delivery.id).values(document=broken))
    response = client.get(f"/v1/feeds/{feed['id']}")
    assert response.status_code == 200
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo
    assert {e.title for e in parsed.entries} == {"Good story", "Bad story"}
    assert {e.id for e in parsed.entries} == {f"urn:masthead:article:{good}", f"urn:masthead:article:{bad}"}


def test_feed_links_come_from_configuration_not_the_host_header(app, client, people):  # noqa: F811
    _writer, _editor, admin = people
    feed = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).get_json()
    app.config["PUBLIC_BASE_URL"] = "https://news.example.org"
    try:
        response = client.get(f"/v1/feeds/{feed['id']}", headers={"Host": "evil.example.com"})
        shown = client.get(f"/v1/outlets/{feed['id']}", headers={**admin, "Host": "evil.example.com"})
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://localhost:8000"
    parsed = feedparser.parse(response.data)
    assert parsed.feed.id == f"https://news.example.org/v1/feeds/{feed['id']}"
    assert b"evil.example.com" not in response.data
    assert shown.get_json()["feed_url"] == parsed.feed.id
