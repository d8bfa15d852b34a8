"""Which network addresses a web source may reach: public ones only, unless the operator says so.

A web source's URL can be set from chat, so without this check anyone able to add a source can
make the host fetch its own cloud metadata (169.254.169.254), a loopback admin page or a service
on the private network, and read the answer back as "knowledge". The check runs on the
*resolved* addresses (every one a name resolves to, so a name that resolves to one public and one
private address is refused) and at connection time: :class:`GuardedBackend` resolves, checks and
then connects to the very address it checked, so a DNS answer that changes between the check and
the connect (DNS rebinding) cannot slip a private address in. Odd IPv4 spellings (``0x7f000001``,
``2130706433``, ``0177.0.0.1``) are read the way the C resolver reads them, IPv4-mapped IPv6
(``::ffff:127.0.0.1``) is judged by its IPv4 address.

``NetPolicy.allowed_private_hosts`` (the setting WEB_ALLOWED_PRIVATE_HOSTS) lets an operator
allow named internal hosts: host-name globs (``wiki.corp``, ``*.internal.example.com``), literal
addresses or networks (``10.1.2.3``, ``10.0.0.0/8``).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
import typing
from dataclasses import dataclass

from httpcore import ConnectError, NetworkStream
from httpcore._backends.sync import SyncBackend

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services answer on these names too; refused by name even where they do not resolve.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata",
                            "instance-data", "instance-data.ec2.internal"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_AT_ON = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.I)


class BlockedAddress(ValueError):
    """The URL's host is (or resolves to) an address web sources may not reach."""


@dataclass(frozen=True)
class NetPolicy:
    """Which otherwise-refused hosts an operator allows (WEB_ALLOWED_PRIVATE_HOSTS)."""

    allowed_private_hosts: tuple[str, ...] = ()

    def host_allowed(self, host: str) -> bool:
        name = host.strip("[]").rstrip(".").lower()
        return any(fnmatch.fnmatchcase(name, pattern.strip().lower())
                   for pattern in self.allowed_private_hosts if pattern.strip() and "/" not in pattern)

    def address_allowed(self, ip: IPAddress) -> bool:
        for pattern in self.allowed_private_hosts:
            text = pattern.strip()
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                continue
            if ip in network or (_mapped(ip) is not None and _mapped(ip) in network):
                return True
        return False


def _mapped(ip: IPAddress) -> ipaddress.IPv4Address | None:
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None


def literal_ip(host: str) -> IPAddress | None:
    """The address ``host`` spells directly, in any form the resolver accepts, else None."""
    text = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if _AT_ON.match(text):
        try:  # inet_aton reads 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 as glibc would
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def refused_because(ip: IPAddress) -> str | None:
    """Why a web source may not reach ``ip`` (None: a public address)."""
    ip = _mapped(ip) or ip
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives here)"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private-network address"
    if not ip.is_global:
        return "a reserved address"
    return None


def check_literal(host: str, policy: NetPolicy) -> None:
    """Refuse a host that is, by its spelling alone, a metadata name or a refused address (no DNS)."""
    if policy.host_allowed(host):
        return
    name = host.strip("[]").rstrip(".").lower()
    if name in METADATA_HOSTS:
        raise BlockedAddress(f"{host} is a cloud metadata service; web sources may not fetch it")
    ip = literal_ip(host)
    if ip is not None and not policy.address_allowed(ip):
        reason = refused_because(ip)
        if reason:
            raise BlockedAddress(_message(host, ip, reason))


def resolve_checked(host: str, port: int, policy: NetPolicy) -> list[str]:
    """Every address ``host`` resolves to, refusing the lot if any one is not allowed."""
    check_literal(host, policy)
    literal = literal_ip(host)
    lookup = str(literal) if literal is not None else host.strip("[]")
    try:
        infos = socket.getaddrinfo(lookup, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectError(f"could not resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if policy.host_allowed(host):
        return addresses
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        if policy.address_allowed(ip):
            continue
        reason = refused_because(ip)
        if reason:
            raise BlockedAddress(_message(host, ip, reason))
    return addresses


def _message(host: str, ip: IPAddress, reason: str) -> str:
    shown = host if host.strip("[]") == str(ip) else f"{host} ({ip})"
    return (f"{shown} is {reason}; web sources fetch public addresses only "
            "(an operator can allow an internal host with WEB_ALLOWED_PRIVATE_HOSTS)")


class GuardedBackend(SyncBackend):
    """httpcore's socket backend, connecting only to addresses that passed :func:`resolve_checked`."""

    def __init__(self, policy: NetPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: typing.Iterable[typing.Any] | None = None) -> NetworkStream:
        last: Exception | None = None
        for address in resolve_checked(host, port, self.policy):
            try:  # the checked address itself, so a second DNS answer cannot differ from the first
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except ConnectError as exc:
                last = exc
        raise last or ConnectError(f"no address to connect to for {host}")
