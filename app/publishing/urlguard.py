"""Outbound URL checks (SSRF guard): webhooks may only reach public addresses.

A URL is refused unless it is http(s) and every address its host resolves to is public,
or inside a network the deployment allows explicitly (WEBHOOK_ALLOWED_NETWORKS, e.g.
127.0.0.0/8 in tests). It is checked when an outlet is saved and again before each
attempt. The host is resolved once per check and the check returns a ``Target`` that
carries the addresses it admitted: the webhook client connects to those, never to what
the name resolves to a moment later (a DNS answer that changes in between, "rebinding",
cannot move a request onto an internal address).

"Public" is decided here from IANA's special-purpose registries rather than by
``ipaddress.is_global``, which, depending on the Python version, calls multicast,
IPv4-compatible, NAT64 and 6to4 addresses global. IPv6 forms that carry an IPv4 address
(mapped, NAT64, 6to4) are judged by that IPv4 address. Refusals never say what a name
resolved to: that would let anyone who can save an outlet map the internal network.
"""

import ipaddress
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}


def _nets(*specs: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(spec) for spec in specs)


# Not globally reachable (IANA IPv4 and IPv6 special-purpose registries), multicast included.
NOT_PUBLIC = {
    4: _nets("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
             "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
             "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"),
    6: _nets("::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
             "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"),
}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
REFUSED_ADDRESS = "{host} resolves to an address that is not public."


class RefusedUrl(ValueError):
    """The URL may not be called; the message says why."""


class LookupFailed(RefusedUrl):
    """The host could not be resolved now (a timeout, a temporary DNS failure): an attempt
    may succeed later, so a delivery retries rather than giving up."""


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's parts, and the addresses checked for its host."""

    scheme: str
    host: str  # ASCII (IDNA) host name or address literal: the Host header and TLS name
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # connect to these, in order, and to nothing else


def parse_networks(spec: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in spec.split(",") if part.strip())


def check(url: str, allowed: tuple[Network, ...], timeout: float = 10.0) -> Target:
    """The checked Target of ``url``; RefusedUrl if it may not be called. Resolving the
    host takes at most ``timeout`` seconds."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise RefusedUrl("Only absolute http(s) URLs can receive webhooks.")
    if parts.username or parts.password:
        raise RefusedUrl("Credentials in the URL are refused; use the outlet's headers.")
    host, port = _ascii_host(parts.hostname), _port(parts)
    addresses = resolve(host, port, timeout)
    if not all(is_admitted(address, allowed) for address in addresses):
        raise RefusedUrl(REFUSED_ADDRESS.format(host=host))
    path = parts.path or "/"
    return Target(parts.scheme, host, port, f"{path}?{parts.query}" if parts.query else path,
                  tuple(str(address) for address in addresses))


def is_admitted(address: Address, allowed: tuple[Network, ...]) -> bool:
    """Public, or inside a network the deployment allows (by itself or its embedded IPv4)."""
    embedded = embedded_ipv4(address)
    if any(candidate in network for candidate in (address, embedded) if candidate is not None
           for network in allowed if candidate.version == network.version):
        return True
    return is_public(address)


def is_public(address: Address) -> bool:
    embedded = embedded_ipv4(address)
    if embedded is not None:
        return is_public(embedded)
    return address.is_global and not any(address in network for network in NOT_PUBLIC[address.version])


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), NAT64
    (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::). IPv4-compatible (::a.b.c.d) is not
    unwrapped: it is deprecated and refused outright (::/96 above)."""
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def resolve(host: str, port: int, timeout: float) -> list[Address]:
    """Every address ``host`` resolves to, in the resolver's order, within ``timeout``.

    The lookup runs on a helper thread so a slow or hostile DNS server costs an attempt
    its deadline, not a worker slot for as long as the system resolver keeps retrying."""
    lookup = _resolver().submit(socket.getaddrinfo, host, port, proto=socket.IPPROTO_TCP)
    try:
        infos = lookup.result(timeout=max(timeout, 0.0))
    except FutureTimeout as error:
        raise LookupFailed(f"{host} did not resolve in time.") from error
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:
            raise LookupFailed(f"{host} did not resolve (temporary DNS failure).") from error
        raise RefusedUrl(f"{host} does not resolve.") from error
    except (OSError, UnicodeError) as error:
        raise RefusedUrl(f"{host} does not resolve.") from error
    found = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    return list(dict.fromkeys(found))  # distinct, order kept


def _ascii_host(hostname: str) -> str:
    try:
        return hostname.encode("idna").decode("ascii") if not hostname.isascii() else hostname
    except UnicodeError as error:
        raise RefusedUrl("The URL's host is not a valid name.") from error


def _port(parts) -> int:
    try:
        return parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as error:
        raise RefusedUrl("The URL's port is not a number from 0 to 65535.") from error


_executor: ThreadPoolExecutor | None = None


def _resolver() -> ThreadPoolExecutor:
    """Created on first use in each process (threads do not survive a fork)."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="resolve")
    return _executor


def _forget_resolver() -> None:
    global _executor
    _executor = None


os.register_at_fork(after_in_child=_forget_resolver)
