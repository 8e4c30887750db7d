"""Outbound URL checks (SSRF guard): webhooks may only reach public addresses.

A URL is refused unless it is http(s) and every address its host resolves to is public,
or inside a network the deployment allows explicitly (WEBHOOK_ALLOWED_NETWORKS, e.g.
127.0.0.0/8 in tests). It is checked when an outlet is saved and again before each
attempt, since DNS can change in between.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedUrl(ValueError):
    """The URL may not be called; the message says why."""


def parse_networks(spec: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in spec.split(",") if part.strip())


def check(url: str, allowed: tuple[Network, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedUrl("Only absolute http(s) URLs can receive webhooks.")
    if parts.username or parts.password:
        raise RefusedUrl("Credentials in the URL are refused; use the outlet's headers.")
    for address in _addresses(parts.hostname, parts.port):
        address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.1 is 10.0.0.1
        if not address.is_global and not any(address in network for network in allowed):
            raise RefusedUrl(f"{parts.hostname} resolves to a non-public address ({address}).")


def _addresses(host: str, port: int | None) -> set:
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedUrl(f"{host} does not resolve.") from error
    return {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
