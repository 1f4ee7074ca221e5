"""Which addresses a fetch may reach: public ones, unless the host is explicitly allowed.

A credited link is text someone else wrote. Fetching it blindly would let a repost make the
scanner call the desk's intranet, a cloud metadata service (169.254.169.254) or the
scanning machine itself. So every hop is checked before it is requested (the URL's scheme,
and every address its host resolves to), and the connection itself goes only to an address
that passed the same check at connect time: re-resolving between the check and the connect
(DNS rebinding) cannot slip a private address in.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Collection
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from compliance.fetch.deadline import current_deadline, watch_connection

ALLOWED_SCHEMES = ("http", "https")


class FetchError(Exception):
    """A page that could not be had; `reason` is the short why a reviewer reads."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind  # timeout | http-status | content-type | too-large | blocked | redirects | connection | budget | offline | extract | scheme
        self.reason = reason


class BlockedAddressError(OSError):
    """Raised at connect time; an OSError so that urllib3 and requests pass it along."""


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated, but some stacks still route it to IPv4


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, which is where its packets end up.

    ipaddress calls 2002:7f00:1::1 (6to4 of 127.0.0.1) or 64:ff9b::a9fe:a9fe (NAT64 of
    169.254.169.254) global, so each is judged by the IPv4 address inside it instead."""
    if ip.ipv4_mapped is not None:  # ::ffff:0:0/96
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:  # 2002::/16
        return [ip.sixtofour]
    if ip.teredo is not None:  # 2001::/32: the server, and the client (ipaddress undoes its obfuscation)
        return list(ip.teredo)
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and not (ip.is_loopback or ip.is_unspecified)):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]  # ::1 and :: are IPv6's own
    return []


def address_problem(address: str) -> str | None:
    """Why an address must not be fetched ('private', 'loopback'...), or None if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if embedded:
            return next(filter(None, map(_problem, embedded)), None)
    return _problem(ip)


def _problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    # Most specific first: 127.0.0.1 is also "private" to ipaddress, but "loopback" says more.
    for problem, test in (
        ("loopback", ip.is_loopback), ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified), ("private", ip.is_private), ("reserved", ip.is_reserved),
        ("not public", not ip.is_global),
    ):
        if test:
            return problem
    return None


def host_allowed(host: str, allow_hosts: Collection[str]) -> bool:
    return host.lower().rstrip(".") in {h.lower().rstrip(".") for h in allow_hosts}


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, without duplicates.

    While a page is being fetched, no longer than its deadline allows: getaddrinfo takes no
    timeout, and a slow name server would hold the page for as long as the resolver's own
    retries last (twice per hop: checked, then connected). The lookup then goes on in a
    daemon thread until the resolver gives up, and its answer is dropped."""
    deadline = current_deadline()
    if deadline is None or _is_address(host):
        return _lookup(host, port)
    found: list[list[str] | BaseException] = []

    def look_up() -> None:
        try:
            found.append(_lookup(host, port))
        except BaseException as exc:  # handed to the waiting thread
            found.append(exc)

    lookup = threading.Thread(target=look_up, name=f"resolve {host}", daemon=True)
    lookup.start()
    lookup.join(deadline.remaining())
    if not found:
        raise FetchError("timeout", f"timeout: the page took over {deadline.seconds:g} s")
    if isinstance(found[0], BaseException):
        raise found[0]
    return found[0]


def _lookup(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("connection", f"cannot resolve host {host} ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_url(url: str, allow_hosts: Collection[str] = ()) -> None:
    """Raise FetchError unless `url` may be fetched: http(s), no credentials, public addresses."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise FetchError("scheme", f"only http and https links are fetched, not {parts.scheme or 'a relative link'}")
    if parts.username or parts.password:
        raise FetchError("blocked", "links with a user name or password are not fetched")
    host = parts.hostname
    if not host:
        raise FetchError("scheme", "the link has no host")
    if host_allowed(host, allow_hosts):
        return
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise FetchError("scheme", "the link has an invalid port") from None
    for address in resolve(host, port):
        problem = address_problem(address)
        if problem:
            raise FetchError("blocked", f"blocked address: {host} resolves to {address} ({problem}); use --allow-host {host} to allow it")


def safe_address(host: str, port: int, allow_hosts: Collection[str]) -> str:
    """The address to connect to for `host`, checked now, at connect time."""
    addresses = resolve(host, port)
    if host_allowed(host, allow_hosts):
        return addresses[0]
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise BlockedAddressError(f"blocked address: {host} resolves to {address} ({problem})")
    return addresses[0]


def _guarded(base: type[HTTPConnection], allow_hosts: frozenset[str]) -> type[HTTPConnection]:
    class GuardedConnection(base):  # type: ignore[misc, valid-type]
        """Connects only to an address checked at connect time (the same body as urllib3's), and
        puts its socket under the deadline of the page it serves (deadline.py)."""

        def _new_conn(self):
            try:
                address = safe_address(self.host, self.port, allow_hosts)
            except FetchError as exc:
                raise NameResolutionError(self.host, self, socket.gaierror(exc.reason)) from None
            except BlockedAddressError as exc:  # the client finds "blocked address: ..." in the error
                raise NewConnectionError(self, str(exc)) from None
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except socket.timeout as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})") from exc
            except OSError as exc:
                raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
            watch_connection(sock)  # from here on (TLS handshake included) the page's deadline can cut it
            return sock

        def request(self, *args, **kwargs):
            watch_connection(self.sock)  # a kept-alive connection, now working for this thread's page
            return super().request(*args, **kwargs)

    return GuardedConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go to checked addresses only."""

    def __init__(self, allow_hosts: Collection[str] = (), **kwargs):
        self._allow_hosts = frozenset(allow_hosts)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": _guarded(HTTPConnection, self._allow_hosts)})
        https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": _guarded(HTTPSConnection, self._allow_hosts)})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
