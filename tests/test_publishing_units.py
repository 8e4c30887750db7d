"""Pure pieces of publishing: the URL guard, Retry-After, backoff, signatures, formats."""

import ipaddress
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import feedparser
import pytest
from flask import Flask

from app import config
from app.publishing import delivery_runs, outbox, signing, urlguard, webhook
from app.publishing.formats import atom, ninjs
from tests.receiver import verify_signature

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x", "http://localhost/x", "http://10.1.2.3/x", "http://192.168.0.1/x",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://[fe80::1]/x",
    "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x", "http://0.0.0.0/x",
    "ftp://93.184.215.14/x", "http://user:pw@93.184.215.14/x", "https:///x",
    # IPv6 forms that carry a refused IPv4 address: mapped, IPv4-compatible, NAT64, 6to4
    "http://[::ffff:10.0.0.1]/x", "http://[::127.0.0.1]/x", "http://[::93.184.215.14]/x",
    "http://[64:ff9b::127.0.0.1]/x", "http://[64:ff9b::a9fe:a9fe]/x", "http://[64:ff9b:1::a00:1]/x",
    "http://[2002:7f00:1::]/x", "http://[2002:a00:1::1]/x", "http://[2002:a9fe:a9fe::]/x",
    # multicast, and other ranges that are not globally reachable
    "http://224.0.0.1/x", "http://239.255.255.250/x", "http://[ff02::1]/x", "http://[ff0e::1]/x",
    "http://192.0.0.9/x", "http://198.18.0.1/x", "http://192.88.99.1/x", "http://240.0.0.1/x",
    "http://[fec0::1]/x", "http://[fd00::1]/x", "http://[2001::1]/x", "http://[100::1]/x",
    "http://[2001:db8::1]/x", "http://[3fff::1]/x",
])
def test_guard_refuses_non_public_targets(url):
    with pytest.raises(urlguard.RefusedUrl):
        urlguard.check(url, ())


@pytest.mark.parametrize("url", [
    "https://93.184.215.14/hook", "http://[2606:4700::1111]/x",
    "http://[::ffff:93.184.215.14]/x", "http://[64:ff9b::93.184.215.14]/x", "http://[2002:5db8:d70e::1]/x",
])
def test_guard_admits_public_targets_and_their_ipv6_forms(url):
    assert urlguard.check(url, ()).addresses


def test_guard_admits_explicitly_allowed_networks():
    loopback = urlguard.parse_networks("127.0.0.0/8, ::1/128")
    target = urlguard.check("http://127.0.0.1:8080/hook?a=1", loopback)
    assert target == urlguard.Target("http", "127.0.0.1", 8080, "/hook?a=1", ("127.0.0.1",))
    assert urlguard.check("http://[::ffff:127.0.0.1]/", urlguard.parse_networks("127.0.0.0/8")).port == 80
    assert urlguard.parse_networks("") == ()
    assert urlguard.parse_networks("10.0.0.0/8") == (ipaddress.ip_network("10.0.0.0/8"),)


def test_refusal_does_not_say_what_a_name_resolves_to(resolver):
    resolver.answers["intranet.test"] = ["93.184.215.14", "10.20.30.40"]
    with pytest.raises(urlguard.RefusedUrl) as refused:
        urlguard.check("https://intranet.test/hook", ())
    assert "10.20.30.40" not in str(refused.value) and "93.184" not in str(refused.value)
    assert str(refused.value) == "intranet.test resolves to an address that is not public."


def test_guard_resolves_once_and_returns_what_it_checked(resolver):
    resolver.answers["partner.test"] = ["93.184.215.14", "2606:4700::1111", "93.184.215.14"]
    target = urlguard.check("https://partner.test/hook", ())
    assert target.addresses == ("93.184.215.14", "2606:4700::1111") and target.host == "partner.test"
    assert resolver.lookups == {"partner.test": 1}
    with pytest.raises(urlguard.RefusedUrl, match="does not resolve") as missing:
        urlguard.check("https://missing.test/hook", ())
    assert not isinstance(missing.value, urlguard.LookupFailed)  # permanent


def test_a_slow_resolver_costs_the_timeout_and_is_worth_retrying(monkeypatch):
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: time.sleep(10) if host == "slow.test"
                        else real(host, *a, **k))
    started = time.monotonic()
    with pytest.raises(urlguard.LookupFailed, match="did not resolve in time"):
        urlguard.check("https://slow.test/hook", (), timeout=0.3)
    assert time.monotonic() - started < 5  # the 0.3 s budget, not the 10 s lookup


def test_retry_after_seconds_and_dates():
    assert webhook.parse_retry_after("120") == 120.0
    assert webhook.parse_retry_after(None) is None and webhook.parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 80 <= webhook.parse_retry_after(later) <= 90
    assert webhook.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize(("status", "delivered", "permanent"), [
    (200, True, False), (204, True, False), (301, False, True), (400, False, True),
    (404, False, True), (410, False, True), (408, False, False), (409, False, False),
    (425, False, False), (429, False, False), (500, False, False), (503, False, False),
    (None, False, False),
])
def test_result_classification(status, delivered, permanent):
    result = webhook.Result(status, 1.0)
    assert (result.delivered, result.permanent) == (delivered, permanent)


def test_refused_address_is_permanent():
    assert webhook.Result(None, 0.0, error="refused", refused=True).permanent


@pytest.fixture
def config_app():
    app = Flask(__name__)
    app.config.update(DELIVERY_BACKOFF_BASE_SECONDS=5.0, DELIVERY_BACKOFF_MAX_SECONDS=3600.0)
    with app.app_context():
        yield app


def test_backoff_doubles_with_jitter_and_caps(config_app):
    result = webhook.Result(503, 1.0)
    for attempts in range(1, 15):
        step = min(3600.0, 5.0 * 2 ** (attempts - 1))
        delays = [delivery_runs.retry_delay(attempts, result) for _ in range(50)]
        assert all(step / 2 <= delay <= step for delay in delays)
    assert len({round(delivery_runs.retry_delay(3, result), 6) for _ in range(20)}) > 1  # jittered


def test_backoff_honours_a_longer_retry_after_up_to_the_cap(config_app):
    assert delivery_runs.retry_delay(1, webhook.Result(429, 1.0, retry_after=600)) == 600
    assert delivery_runs.retry_delay(1, webhook.Result(429, 1.0, retry_after=10 ** 6)) == 3600


def test_signature_covers_the_delivery_its_sequence_and_event():
    body = json.dumps({"headline": "خبر عاجل"}, ensure_ascii=False).encode()
    signed = signing.Signed("D1", "A1", 7, "update")
    header = signing.signature_header("whsec_x", signed, body, 1_800_000_000)
    headers = {"Masthead-Signature": header, "Idempotency-Key": "D1", "Masthead-Delivery": "D1",
               "Masthead-Article": "A1", "Masthead-Sequence": "7", "Masthead-Event": "update"}
    assert header.startswith("t=1800000000,v2=")
    assert verify_signature("whsec_x", headers, body, now=1_800_000_100)
    assert not verify_signature("whsec_y", headers, body, now=1_800_000_100)
    assert not verify_signature("whsec_x", headers, body + b" ", now=1_800_000_100)
    assert not verify_signature("whsec_x", headers, body, now=1_800_001_000)  # a replay, too old
    for name, other in (("Masthead-Sequence", "8"), ("Masthead-Event", "publish"),
                        ("Masthead-Article", "A2"), ("Idempotency-Key", "D2")):
        assert not verify_signature("whsec_x", {**headers, name: other}, body, now=1_800_000_100)
    assert signing.signature_header("whsec_x", signing.Signed("D2", "A1", 7, "update"), body,
                                    1_800_000_000) != header


def _article(**extra):
    fields = {"id": "A1", "language": "ar", "tags": ["politics"], "source_name": "aawsat",
              "source_url": "https://aawsat.com/x", "created_at": NOW, "published_at": NOW}
    return SimpleNamespace(**{**fields, **extra})


REVISION = SimpleNamespace(id="R1", body="نص الخبر", summary="ملخص", byline="مراسل", dateline="القاهرة")


def test_ninjs_document_fields():
    doc = ninjs.document(_article(), REVISION, "عنوان", "publish", 7, NOW)
    assert doc["headlines"] == [{"role": "main", "value": "عنوان"}]
    assert doc["bodies"][0]["value"] == "نص الخبر" and doc["language"] == "ar"
    assert doc["version"] == "7" and doc["pubstatus"] == "usable" and doc["keywords"] == ["politics"]
    assert doc["masthead"] == {"article_id": "A1", "event": "publish", "revision_id": "R1"}
    assert json.loads(ninjs.render(doc)) == doc
    assert "عنوان".encode() in ninjs.render(doc)  # UTF-8, not \\u escapes
    takedown = ninjs.document(_article(), None, "", "takedown", 8, NOW)
    assert takedown["pubstatus"] == "canceled" and "bodies" not in takedown


def test_atom_feed_parses_and_keeps_arabic():
    docs = [ninjs.document(_article(id=f"A{i}"), REVISION, f"عنوان {i}", "publish", i, NOW)
            for i in (2, 1)]
    parsed = feedparser.parse(atom.render("Partner feed", "http://x/v1/feeds/O1", NOW, docs))
    assert not parsed.bozo
    assert [entry.title for entry in parsed.entries] == ["عنوان 2", "عنوان 1"]
    assert parsed.entries[0].id == "urn:masthead:article:A2" and parsed.entries[0].author == "مراسل"


@pytest.mark.parametrize(("filters", "article", "taken"), [
    ({}, _article(), True),
    ({"languages": ["ar"]}, _article(language="ar-EG"), True),
    ({"languages": ["ar"]}, _article(language="arn"), False),
    ({"languages": ["en"]}, _article(), False),
    ({"tags": ["sport", "politics"]}, _article(), True),
    ({"tags": ["sport"]}, _article(), False),
    ({"sources": ["aawsat"]}, _article(), True),
    ({"sources": ["reuters"]}, _article(), False),
])
def test_outlet_filters(filters, article, taken):
    assert outbox.matches(filters, article) is taken


@pytest.mark.parametrize(("changes", "message"), [
    ({"DELIVERY_LEASE_SECONDS": 15}, "DELIVERY_LEASE_SECONDS must be longer"),
    ({"WEBHOOK_DEADLINE_SECONDS": 31, "DELIVERY_LEASE_SECONDS": 60}, "WEBHOOK_DEADLINE_SECONDS must be in"),
    ({"WEBHOOK_DEADLINE_SECONDS": 0}, "WEBHOOK_DEADLINE_SECONDS must be in"),
    ({"OUTLET_MAX_IN_FLIGHT": 0}, "OUTLET_MAX_IN_FLIGHT must be at least 1"),
])
def test_settings_under_which_an_attempt_could_outlive_its_lease_are_refused(changes, message):
    settings = {"WEBHOOK_DEADLINE_SECONDS": 15.0, "DELIVERY_LEASE_SECONDS": 60.0, "OUTLET_MAX_IN_FLIGHT": 1}
    config.check_publishing(settings)  # the defaults hold
    with pytest.raises(ValueError, match=message):
        config.check_publishing({**settings, **changes})
