"""Connections to servers that merchants name (webhook endpoints): public internet addresses only.

A URL's host is judged twice. When an endpoint is saved, a numeric host in any of the forms the C library accepts
(`2130706433`, `127.1`, `0x7f000001`, `017700000001`, `0`) is rewritten to its usual form and refused when it is
not public, and names that only resolve inside a network (`localhost`, `*.internal`, single labels from
`/etc/hosts` or a search domain) are refused. When a request is sent, `PublicNetworkBackend` resolves the host
itself, connects only to an address that is allowed, and checks the address of the connected socket again, so a
name that resolves to a public address when saved and to an internal one later (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Special-use names that resolve only inside a network (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal).
PRIVATE_NAME_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "localdomain")
# What the C library's inet_aton reads as an IPv4 address: decimal, octal or hex numbers, one to four of them.
_NUMERIC_IPV4 = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}", re.IGNORECASE)


class AddressRefused(httpcore.ConnectError):
    """The host has no address a request may go to (nothing was connected)."""


def is_public_address(address: IPAddress) -> bool:
    """Reachable on the public internet: not loopback, private, link-local, shared (100.64/10), multicast, reserved,
    documentation or unspecified. IPv4-mapped and 6to4 IPv6 addresses are judged by the IPv4 address inside."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not address.is_multicast and not address.is_reserved


def is_loopback_address(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def numeric_host(host: str) -> IPAddress | None:
    """The address a numeric host stands for (every form a resolver accepts), or None for a name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_IPV4.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:  # out of range, like 256.1.1.1
        return None


def canonical_host(host: str) -> str:
    """The host as it is written in a URL: numeric forms in their usual notation, names in lower case, no final dot."""
    address = numeric_host(host)
    if address is None:
        return host.lower().rstrip(".")
    return f"[{address}]" if address.version == 6 else str(address)


def is_loopback_host(host: str) -> bool:
    """This machine: a loopback address or `localhost` (and its subdomains, RFC 6761)."""
    address = numeric_host(host)
    if address is not None:
        return is_loopback_address(address)
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def is_public_host(host: str) -> bool:
    """A public address, or a name that may resolve to one (the connection checks what it really resolves to)."""
    address = numeric_host(host)
    if address is not None:
        return is_public_address(address)
    name = host.lower().rstrip(".")
    if "." not in name:  # a single label resolves through /etc/hosts or the local search domain only
        return False
    return not any(name == suffix or name.endswith(f".{suffix}") for suffix in PRIVATE_NAME_SUFFIXES)


class PublicNetworkBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting to allowed addresses only: public ones, and with `allow_loopback`
    this machine's (ALLOW_INSECURE_WEBHOOKS, for local testing).

    The host is resolved here, once, and the connection goes to an address that was checked; the connected socket's
    peer is checked too. TLS then verifies the certificate for the host name of the URL (httpcore sends it as SNI).
    httpcore never follows redirects, so a public endpoint cannot forward a request inwards either.
    """

    def __init__(self, *, allow_loopback: bool = False) -> None:
        self.allow_loopback = allow_loopback

    def allows(self, address: IPAddress) -> bool:
        return is_public_address(address) or (self.allow_loopback and is_loopback_address(address))

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError = AddressRefused(f"{host} has no public address")
        for address in self._allowed_addresses(host, port):
            try:
                stream = super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
                continue
            peer = ipaddress.ip_address(stream.get_extra_info("server_addr")[0])
            if self.allows(peer):
                return stream
            stream.close()
        raise failure

    def _allowed_addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"{host} could not be resolved") from error
        addresses = dict.fromkeys(ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in resolved)
        return [address for address in addresses if self.allows(address)]
