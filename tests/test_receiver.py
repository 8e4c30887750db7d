"""The loopback webhook receiver itself: delivery tests trust it, so it must be right first."""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app.publishing import signing
from tests.receiver import Receiver, sign, verify_signature

SECRET = "whsec_test"


def post(receiver: Receiver, key: str | None, payload=None, secret: str | None = SECRET,
         timestamp: int | None = None, sequence: int = 1, timeout: float = 5):
    """POST one webhook the way the sender does; returns (status, response headers)."""
    body = json.dumps(payload if payload is not None else {"article": "a1"}).encode()
    headers = {"Content-Type": "application/json", "Masthead-Event": "publish",
               "Masthead-Sequence": str(sequence), "Masthead-Article": "a1"}
    if key is not None:
        headers["Idempotency-Key"] = headers["Masthead-Delivery"] = key
    if secret is not None:
        signed = {"Idempotency-Key": key or "", **headers}
        headers["Masthead-Signature"] = sign(secret, signed, body, timestamp)
    request = urllib.request.Request(receiver.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.fixture
def receiver():
    with Receiver(secret=SECRET) as r:
        yield r


HEADERS = {"Idempotency-Key": "d1", "Masthead-Delivery": "d1", "Masthead-Article": "a1",
           "Masthead-Sequence": "7", "Masthead-Event": "update"}


def signed_headers(body: bytes, now: int, **changes) -> dict:
    headers = {**HEADERS, **changes}
    return {**headers, "Masthead-Signature": sign(SECRET, headers, body, now)}


def test_verify_signature_accepts_only_fresh_authentic_headers():
    """Wrong secret, tampered body, replayed or malformed headers all fail."""
    body, now = b'{"a": 1}', 1_700_000_000
    headers = signed_headers(body, now)
    assert verify_signature(SECRET, headers, body, now=now + 299)
    assert not verify_signature("other", headers, body, now=now)
    assert not verify_signature(SECRET, headers, body + b" ", now=now)
    assert not verify_signature(SECRET, headers, body, now=now + 301)
    assert not verify_signature(SECRET, headers, body, now=now - 301)
    for junk in ["", "garbage", "t=abc,v2=00", f"t={now}", f"t={now},v2=\u00e9"]:
        assert not verify_signature(SECRET, {**headers, "Masthead-Signature": junk}, body, now=now)
    assert not verify_signature(SECRET, HEADERS, body, now=now)  # no signature at all


@pytest.mark.parametrize("changed", [
    {"Idempotency-Key": "d2", "Masthead-Delivery": "d2"},  # replayed as another delivery
    {"Masthead-Delivery": "d2"},  # the two delivery headers disagree
    {"Masthead-Sequence": "8"},  # replayed as a newer version
    {"Masthead-Event": "takedown"},
    {"Masthead-Article": "a2"},
])
def test_a_captured_request_cannot_be_replayed_with_other_headers(changed):
    body, now = b'{"a": 1}', 1_700_000_000
    replayed = {**signed_headers(body, now), **changed}
    assert not verify_signature(SECRET, replayed, body, now=now)


def test_readme_snippet_verifies_what_masthead_signs():
    """The README's snippet, run as a subscriber would run it, against the sender's own
    signing code: it accepts the real headers and refuses each tampered one."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("**Webhook requests** carry:"):]
    snippet = section[section.index("```python\n") + 10:section.index("\n```", section.index("```python"))]
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    readme_verify = namespace["verify_signature"]
    body = json.dumps({"headline": "خبر عاجل"}, ensure_ascii=False).encode()
    header = signing.signature_header(SECRET, signing.Signed("d1", "a1", 7, "update"), body, int(time.time()))
    headers = {**HEADERS, "Masthead-Signature": header}
    assert readme_verify(SECRET, headers, body)
    assert not readme_verify(SECRET, headers, body + b" ")
    assert not readme_verify(SECRET, {**headers, "Masthead-Sequence": "8"}, body)
    assert not readme_verify(SECRET, {**headers, "Idempotency-Key": "d2", "Masthead-Delivery": "d2"}, body)
    stale = signing.signature_header(SECRET, signing.Signed("d1", "a1", 7, "update"), body,
                                     int(time.time()) - 301)
    assert not readme_verify(SECRET, {**headers, "Masthead-Signature": stale}, body)


def test_signed_delivery_is_recorded_with_its_headers(receiver):
    assert post(receiver, "d1", {"id": "a1"}, sequence=7)[0] == 200
    (delivery,) = receiver.processed
    assert (delivery.key, delivery.event, delivery.sequence) == ("d1", "publish", 7)
    assert delivery.body == {"id": "a1"} and delivery.wall == pytest.approx(time.time(), abs=5)
    assert receiver.by_key["d1"] is delivery
    assert delivery.headers["Masthead-Article"] == "a1" and delivery.path == "/hook"


def test_bad_and_stale_signatures_get_401_and_are_not_processed(receiver):
    assert post(receiver, "d1", secret="wrong")[0] == 401
    assert post(receiver, "d2", timestamp=int(time.time()) - 301)[0] == 401
    assert post(receiver, "d3", secret=None)[0] == 401
    assert receiver.processed == [] and len(receiver.rejected) == 3 and receiver.requests == 3


def test_without_secret_signatures_are_not_checked():
    with Receiver() as r:
        assert post(r, "d1", secret=None)[0] == 200
        assert len(r.processed) == 1


def test_repeated_key_answers_200_without_processing_again(receiver):
    """Senders retry after lost answers; subscribers must not apply the same delivery twice."""
    assert [post(receiver, "d1")[0] for _ in range(3)] == [200, 200, 200]
    assert len(receiver.processed) == 1 and receiver.duplicates == 2 and receiver.requests == 3


def test_fail_next_fails_n_times_then_processes(receiver):
    receiver.fail_next(2, status=503)
    assert [post(receiver, "d1")[0] for _ in range(3)] == [503, 503, 200]
    assert len(receiver.processed) == 1 and receiver.duplicates == 0
    assert [a.status for a in receiver.attempts_for("d1")] == [503, 503, 200]


def test_fail_key_only_fails_that_delivery(receiver):
    """Lets the ordering test hold one delivery back while later ones go through."""
    receiver.fail_key("d1", 1, status=500)
    assert post(receiver, "d1", sequence=1)[0] == 500
    assert post(receiver, "d2", sequence=2)[0] == 200
    assert post(receiver, "d1", sequence=1)[0] == 200
    assert [d.sequence for d in receiver.processed] == [2, 1]


def test_respond_always_429_with_retry_after_until_reset(receiver):
    receiver.respond_always(429, {"Retry-After": "7"})
    for _ in range(2):
        status, headers = post(receiver, "d1")
        assert (status, headers["Retry-After"]) == (429, "7")
    receiver.respond_always(None)
    assert post(receiver, "d1")[0] == 200 and len(receiver.processed) == 1


def test_stall_trips_client_timeout_and_the_retry_is_a_duplicate(receiver):
    """A slow subscriber still processes the request; the sender's retry must then be deduplicated."""
    receiver.stall_next(1, 0.5)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        post(receiver, "d1", timeout=0.1)
    receiver.wait_for(1, timeout=5)
    assert post(receiver, "d1")[0] == 200
    assert receiver.duplicates == 1 and len(receiver.processed) == 1


def test_wait_for_times_out_with_a_useful_message(receiver):
    post(receiver, "d1", secret="wrong")
    with pytest.raises(AssertionError, match=r"2 processed.*requests=1 processed=0.*d1:401"):
        receiver.wait_for(2, timeout=0.2)
    post(receiver, "d2")
    receiver.wait_for(lambda r: "d2" in r.by_key, timeout=2)


def test_example_receiver_uses_the_readme_snippet():
    """examples/webhook_receiver.py (the quickstart's outlet) verifies exactly as documented."""
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    section = readme[readme.index("**Webhook requests** carry:"):]
    snippet = section[section.index("```python\n") + 10:section.index("\n```", section.index("```python"))]
    function = snippet[snippet.index("SIGNED = "):]
    assert function in (root / "examples" / "webhook_receiver.py").read_text()
