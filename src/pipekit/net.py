"""Outbound HTTP that a URL cannot steer to internal services.

Used wherever a URL comes from outside (a web page, a model, a sitemap): `fetch_page` in
agents and the ingest crawler in rag. A host name is resolved once, every address it resolves
to is checked, and the connection goes to a checked address: checking one DNS answer and
connecting after another lookup would let a rebinding DNS server swap in 127.0.0.1 in between.
The request keeps the host name for the Host header, TLS SNI and the certificate check.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a site's own translator


class AddressNotAllowed(httpx.ConnectError):
    """The host resolves to an address that is not on the public internet."""

    def __init__(self, host: str, address: IPAddress) -> None:
        super().__init__(f"{host} is a private address ({address})")
        self.host, self.address = host, address


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is on the public internet. IPv6 forms that carry an IPv4 address
    (NAT64, 6to4, IPv4-mapped and -compatible) are judged by that IPv4 address; Teredo
    (2001::/32) is not global, so it is refused whatever it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if address in _LOCAL_NAT64:  # Python 3.11 counts it global; it leads into the site
            return False
    return address.is_global and not address.is_multicast


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def pinned_client(*, allow_private: bool = False, **options: Any) -> httpx.Client:
    """An `httpx.Client` that connects only to public addresses (any, with `allow_private`),
    always to the address it checked. Proxies from the environment are not used: through a
    proxy the address connected to would be the proxy's, and the check would see nothing."""
    allowed = (lambda _address: True) if allow_private else is_public_address
    return httpx.Client(transport=_PinnedTransport(allowed), trust_env=False, **options)


def read_at_most(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The first `max_bytes` of a streamed body, and whether there was more; a huge body is
    never read whole."""
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(parts)[:max_bytes], True
    return b"".join(parts), False


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, allowed: Callable[[IPAddress], bool]) -> None:
        # httpx 0.28 has no argument for an httpcore network backend (encode/httpx#3749), so
        # the pool it would build is built here with ours instead.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),  # honours SSL_CERT_FILE
            network_backend=_PinnedBackend(allowed),
        )


class _PinnedBackend(httpcore.SyncBackend):
    def __init__(self, allowed: Callable[[IPAddress], bool]) -> None:
        self._allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve(host, port)
        for address in addresses:  # one bad answer refuses the host: it may be tried next time
            if not self._allowed(address):
                raise AddressNotAllowed(host, address)
        *others, last = addresses
        for address in others:  # as socket.create_connection does: the next one on failure
            with contextlib.suppress(httpcore.ConnectError):
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
        return super().connect_tcp(str(last), port, timeout, local_address, socket_options)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise httpcore.ConnectError(f"{host} does not resolve ({error})") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise httpcore.ConnectError(f"{host} does not resolve")
    return list(dict.fromkeys(addresses))
