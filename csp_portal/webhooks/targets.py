"""Where a webhook may be sent, and sending it there without being turned against the
portal's own network (SSRF).

A target's host is resolved, and every address it resolves to must be public: private,
loopback, link-local (cloud metadata at 169.254.169.254), shared, multicast, reserved and
unspecified ranges are refused, IPv4-mapped IPv6 included. The connection is then made to
the address that was checked, with the original host name in the Host header (and for TLS
in SNI and the certificate check), so a second DNS answer cannot point it elsewhere (DNS
rebinding). Redirects are not followed. `WEBHOOK_ALLOW_PRIVATE_TARGETS` lifts the address
check for development and tests.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_RESPONSE_BYTES = 64 * 1024


class TargetRefused(Exception):
    """The URL is not one the portal sends to."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve(url: str) -> Target:
    """Check `url` and pick the address to connect to; raise TargetRefused with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("The URL is malformed.")) from None
    if parts.scheme not in {"http", "https"}:
        raise TargetRefused(_("Use an http or https URL."))
    if parts.username or parts.password:
        raise TargetRefused(_("The URL must not contain a user name or password."))
    host = parts.hostname
    if not host:
        raise TargetRefused(_("The URL has no host."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(_("The host %(host)s does not resolve.") % {"host": host}) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise TargetRefused(_("The host %(host)s does not resolve.") % {"host": host})
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        refused = [str(address) for address in addresses if not _is_public(address)]
        if refused:
            raise TargetRefused(
                _("%(host)s resolves to a private or reserved address (%(address)s).")
                % {"host": host, "address": refused[0]}
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST `body` to `url` at the checked address; (status, first bytes of the answer).
    Raises TargetRefused, or OSError / http.client.HTTPException on network trouble."""
    target = resolve(url)
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = cls(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(MAX_RESPONSE_BYTES)
    finally:
        connection.close()
