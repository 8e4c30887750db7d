"""The webhook client over real loopback sockets: a total deadline that a trickling
receiver cannot stretch, a step timeout for a silent one, and connections that go to the
address the guard checked while the Host header and the TLS name stay the URL's."""

import ssl
import time
from types import SimpleNamespace

import pytest
import trustme

from app.publishing import urlguard, webhook
from tests.receiver import Receiver, TricklingReceiver

LOOPBACK = urlguard.parse_networks("127.0.0.0/8")
HEADERS = {"Content-Type": "application/json", "Idempotency-Key": "d1"}


def post(url: str, total: float = 5.0, step: float = 5.0, headers: dict = HEADERS) -> webhook.Result:
    budget = webhook.Budget.starting_now(total, step)
    return webhook.post(urlguard.check(url, LOOPBACK), b"{}", headers, budget)


def test_a_trickling_receiver_is_cut_at_the_deadline():
    """One byte every 0.3 s never trips a 5 s step timeout; the 1.2 s deadline ends it."""
    with TricklingReceiver(interval=0.3) as trickler:
        started = time.monotonic()
        result = post(trickler.url, total=1.2, step=5.0)
        elapsed = time.monotonic() - started
        assert (result.status_code, result.error) == (None, "deadline exceeded")
        assert 1.1 <= elapsed < 6 and result.latency_ms < 6000  # the answer would take ~30 s
        time.sleep(0.2)
        [request] = trickler.requests
        assert request.closed is not None and request.closed - request.opened < 6  # hung up


def test_a_silent_receiver_is_cut_at_the_step_timeout():
    with Receiver() as silent:
        silent.stall_next(1, 10.0)
        started = time.monotonic()
        result = post(silent.url, total=5.0, step=0.3)
        assert result.error == "timed out" and time.monotonic() - started < 5  # not the 10 s stall


def test_nothing_is_sent_once_the_deadline_has_passed():
    with Receiver() as receiver:
        result = webhook.post(urlguard.check(receiver.url, LOOPBACK), b"{}", HEADERS,
                              webhook.Budget(time.monotonic() - 0.01, 5.0))
        assert result.error == "deadline exceeded" and receiver.requests == 0


def test_a_kept_alive_connection_serves_the_next_attempt():
    with Receiver() as receiver:
        assert post(receiver.url).status_code == 200
        assert post(receiver.url, headers={**HEADERS, "Idempotency-Key": "d2"}).status_code == 200
        assert len(receiver.processed) == 2 and len({a.client_port for a in receiver.attempts}) == 1


def test_connects_to_the_checked_address_with_the_urls_host_name(resolver):
    """The name resolves to another loopback address the moment after the check: the
    request still goes to the checked one, with the name in the Host header."""
    with Receiver(address=("127.0.0.2", 0)) as checked, Receiver(address=("127.0.0.1", 0)) as other:
        resolver.answers["partner.test"] = ["127.0.0.2"]
        target = urlguard.check(f"http://partner.test:{checked.port}/hook?x=1", LOOPBACK)
        resolver.answers["partner.test"] = ["127.0.0.1"]  # what a second lookup would get
        result = webhook.post(target, b"{}", HEADERS, webhook.Budget.starting_now(5.0, 5.0))
        assert result.status_code == 200 and other.requests == 0
        [got] = checked.processed
        assert got.headers["Host"] == f"partner.test:{checked.port}" and got.path == "/hook?x=1"
        assert resolver.lookups == {"partner.test": 1}


@pytest.fixture
def tls(monkeypatch, tmp_path):
    """A private CA the client trusts (SSL_CERT_FILE), and server contexts for names."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    webhook.tls_context.cache_clear()
    server_names: list[str] = []

    def server(name: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        context.sni_callback = lambda _sock, server_name, _ctx: server_names.append(server_name)
        return context

    yield SimpleNamespace(server=server, server_names=server_names)
    webhook.tls_context.cache_clear()


def test_tls_keeps_the_host_name_for_sni_and_the_certificate(resolver, tls):
    resolver.answers["partner.test"] = ["127.0.0.1"]
    with Receiver(tls=tls.server("partner.test")) as receiver:
        result = post(f"https://partner.test:{receiver.port}/hook")
        assert result.status_code == 200, result.error
        assert tls.server_names == ["partner.test"]
        assert receiver.processed[0].headers["Host"] == f"partner.test:{receiver.port}"


def test_tls_refuses_a_certificate_for_another_name(resolver, tls):
    """Pinning the address does not loosen the certificate check: the pinned server must
    still prove it is the URL's host."""
    resolver.answers["partner.test"] = ["127.0.0.1"]
    with Receiver(tls=tls.server("intruder.test")) as receiver:
        result = post(f"https://partner.test:{receiver.port}/hook")
        assert (result.status_code, result.error) == (None, "TLS certificate not valid for the host")
        assert receiver.requests == 0
