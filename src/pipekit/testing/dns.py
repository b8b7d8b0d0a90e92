"""A DNS under the test's control, and a stand-in for the internet behind it.

Host names the test names resolve to the addresses it gives, one answer per lookup (the last
one repeats), as a rebinding DNS server does; other names resolve as usual. Connections to a
"public" address given to `route` go to a fake on 127.0.0.1, so a crawl or fetch of a public
site runs offline with the address checks on; other public addresses are never dialled.
"""

from __future__ import annotations

import socket
from typing import Any, Self

PUBLIC = "93.184.216.34"  # a global address (example.com's, once)


class FakeDNS:
    """Installed in the `socket` module while started; use as a context manager."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self._answers: dict[str, list[list[str]]] = {}
        self._routes: dict[str, int] = {}
        self._getaddrinfo = socket.getaddrinfo
        self._create_connection = socket.create_connection

    def start(self) -> Self:
        # socket.create_connection looks getaddrinfo up in the socket module: it sees ours.
        socket.getaddrinfo = self.getaddrinfo  # type: ignore[assignment]
        socket.create_connection = self.create_connection  # type: ignore[assignment]
        return self

    def stop(self) -> None:
        socket.getaddrinfo = self._getaddrinfo
        socket.create_connection = self._create_connection

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def answer(self, host: str, *answers: list[str]) -> None:
        """`host` resolves to answers[0] on the first lookup, answers[1] on the next, …"""
        self._answers[host] = list(answers)

    def route(self, address: str, port: int) -> None:
        """Connections to `address` (any port) reach the server on 127.0.0.1:`port`."""
        self._routes[address] = port

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in self._answers:
            return self._getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        answers = self._answers[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [_info(address, int(port or 0)) for address in addresses]

    def create_connection(self, address: tuple[Any, ...], *args: Any, **kwargs: Any) -> Any:
        # As the operating system would: look the name up (again) and dial the first answer.
        host, port = address[:2]
        dialled = self.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][4][0]
        if dialled in self._routes:
            return self._create_connection(("127.0.0.1", self._routes[dialled]), *args, **kwargs)
        if dialled not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(f"the fake DNS does not dial {dialled} ({host})")
        return self._create_connection((dialled, port), *args, **kwargs)


def _info(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0)
    return socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port)
