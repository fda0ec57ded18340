"""What keeps one server up on the open internet, without a proxy in front of it.

uvicorn's httptools protocol (llhttp, a C parser) with guards of this app's own, because it
has none of these itself:

- a request's head (request line and headers) larger than :attr:`Limits.header_bytes` is
  answered 431 and the connection closed, as soon as that many bytes have come: before, a
  200 MB header was parsed for 80 s (45 s of server CPU) and held its memory;
- a connection must send a whole head within :attr:`Limits.header_timeout_s` of opening, or
  of its previous answer, or it is closed: idle sockets and half-sent headers topped up a
  byte at a time ("slowloris") no longer stay open;
- one client address may hold :attr:`Limits.connections_per_client` connections; more are
  answered 429 and closed at once;
- when :attr:`Limits.max_connections` are open, the connection that has been waiting longest
  without a request in progress is closed to make room, so a flood of idle connections from
  many addresses cannot lock everyone out either (uvicorn's own ``limit_concurrency`` answers
  503 to every new request instead, which is what 1,030 idle sockets did);
- every refusal of theirs, and a request llhttp cannot parse (400), is JSON ``{"error": ...}``
  as the app's own (uvicorn's 400 was text/plain);
- :class:`ClientDecodes`: one client may have :attr:`Limits.decodes_per_client` sounds
  decoding at once; another is answered 429 with ``Retry-After`` (the page has one at a time).

Addresses in :attr:`Limits.proxies` (a reverse proxy, the machine itself) are trusted: uvicorn
takes the client's address from their ``X-Forwarded-For``, and they are not counted as one
client. The limits are per server process (each of ``--workers N`` counts its own).

The limits come from the environment (:func:`limits_from_environment`), so that every worker
process uvicorn starts reads the same ones: ``app.py serve`` puts its options there.
"""

import ipaddress
import json
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

#: Seconds an idle connection is kept when the server starts draining, for a request
#: already sent but not yet read (it is answered, then the connection closed).
DRAIN_GRACE_S = 1.0
#: Environment variables of the limits (``app.py serve`` sets them from its options).
ENV_PREFIX = "SAMPLE_GENERATOR_"


@dataclass(frozen=True)
class Limits:
    """The server's limits (see the module's docstring).

    Attributes
    ----------
    header_bytes : int
        The largest request head accepted, in bytes (a browser's is under 2 kB).
    header_timeout_s : float
        Seconds a connection has to send a whole request head.
    max_connections : int
        Connections open at once in one server process.
    connections_per_client : int
        Connections one client address may hold.
    decodes_per_client : int
        Sounds one client address may have decoding at once.
    proxies : str
        Comma-separated trusted proxy addresses (uvicorn's ``forwarded_allow_ips``).
    """

    header_bytes: int = 16384
    header_timeout_s: float = 5.0
    max_connections: int = 1000
    connections_per_client: int = 64
    decodes_per_client: int = 4
    proxies: str = "127.0.0.1,::1"

    def environment(self):
        """The environment variables that give these limits to another process."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}

    def is_trusted(self, host):
        """True when ``host`` is one of :attr:`proxies` (an address, a network such as
        ``10.0.0.0/8``, or ``*``), as uvicorn's ``forwarded_allow_ips`` reads them."""
        return _is_trusted(self.proxies, host)


#: Bits of an IPv6 address that name one client: a home or a mobile phone gets a whole /64,
#: so limits per /128 let one client open as many "clients" as it likes.
IPV6_CLIENT_PREFIX = 64


@lru_cache(maxsize=4096)
def client_key(host):
    """The client a limit counts ``host`` as: an IPv4 address itself (an IPv4-mapped IPv6
    address as its IPv4 one), an IPv6 address as its /64 network (``2001:db8:1:2::/64``)."""
    if host is None:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


@lru_cache(maxsize=4096)
def _is_trusted(proxies, host):
    if host is None:
        return False
    entries = [a.strip() for a in proxies.split(",") if a.strip()]
    if "*" in entries or host in entries:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


#: Descriptors one server process keeps beside its connections (the listening socket, the
#: event loop, logs, a static file being sent), and per decoding process (its pipes: 8 each
#: measured with two decoders, 27 descriptors in all at rest).
RESERVED_FILES = 64
FILES_PER_DECODER = 8


def fit_to_file_limit(limits, decoders):
    """Raise the open-file soft limit to the hard one, and keep the connection cap below it.

    With ``ulimit -n 1024`` (systemd's default for services), ``accept()`` failed with EMFILE
    at about 997 connections, before the cap of 1,000 made room by closing idle ones: 56 of
    57 normal requests failed. The cap now leaves :data:`RESERVED_FILES` and the decoders'
    pipes free under the limit, so room is always made before the limit is reached.

    Parameters
    ----------
    limits : Limits
    decoders : int
        Decoding processes of this server process.

    Returns
    -------
    (Limits, str)
        The limits to use, and a line saying what was lowered ("" when nothing was).
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        for wanted in (hard, 1 << 20):  # an unlimited hard limit: as far as the kernel allows
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
                soft = wanted
                break
            except (ValueError, OSError):
                continue
    if soft == resource.RLIM_INFINITY:
        return limits, ""
    room = soft - RESERVED_FILES - FILES_PER_DECODER * decoders
    if limits.max_connections <= room:
        return limits, ""
    lowered = max(4, room)
    return (
        replace(limits, max_connections=lowered),
        f"--max-connections {limits.max_connections}: lowered to {lowered}, which the open-file limit of "
        f"{soft} leaves room for (raise it with ulimit -n, or LimitNOFILE= in a systemd unit)",
    )


def limits_from_environment(environ=None):
    """:class:`Limits` with each field read from ``SAMPLE_GENERATOR_<FIELD>`` where set."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Limits):
        text = environ.get(ENV_PREFIX + f.name.upper())
        if text not in (None, ""):
            read = f.type if callable(f.type) else str  # the field's own type: int, float or str
            values[f.name] = read(text)
    return Limits(**values)


_limits = None


def current_limits():
    """This process's limits (read from the environment once)."""
    global _limits
    if _limits is None:
        _limits = limits_from_environment()
    return _limits


#: The guards' refusals in this process, by reason; :class:`web.ops.Metrics` shows them on
#: ``GET /metrics`` (they happen below the app, where its own counters never see them).
GUARD_REFUSALS = Counter(
    "sample_generator_guard_refusals",
    "Connections the HTTP guards answered and closed, or closed, by reason",
    ["reason"],
    registry=None,
)
REFUSAL_REASONS = ("head_too_large", "head_too_slow", "idle_too_long", "client_connections", "room_for_another")
for _reason in REFUSAL_REASONS:  # every reason shows from the start, at 0
    GUARD_REFUSALS.labels(_reason)


def _answer(status, reason, extra=b""):
    """A whole answer, the app's error shape (JSON ``{"error": reason}``), and the connection closed."""
    body = json.dumps({"error": reason}).encode()
    phrase = {400: b"Bad Request", 408: b"Request Timeout", 429: b"Too Many Requests", 431: b"Request Header Fields Too Large"}[status]
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%sconnection: close\r\n\r\n"
        % (status, phrase, len(body), extra)
        + body
    )


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with the head size, head time and connection limits.

    ``uvicorn.run(..., http="web.limits:GuardedHttpTools")``; uvicorn makes one per connection.
    """

    #: Open connections per client address, in this process.
    per_client: dict[str, int] = {}
    #: This process's connections in the order they began waiting for a request (oldest first):
    #: making room takes from the front, where sorting every connection at each admission past
    #: the cap cost 0.52 ms of CPU with 1,500 idle sockets (a client's median went to 0.45 s).
    by_wait: OrderedDict = OrderedDict()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = current_limits()
        self._head_bytes = 0
        self._head_tail = b""  # the last bytes seen of a head, for an end split between reads
        self._head_done = False
        self._head_timer = None
        self._counted = None
        self._draining = False
        self.waiting_since = time.monotonic()

    # -- admission
    def connection_made(self, transport):
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        if host is not None and not self.limits.is_trusted(host):
            host = client_key(host)
            held = self.per_client.get(host, 0)
            if held >= self.limits.connections_per_client:
                GUARD_REFUSALS.labels("client_connections").inc()
                transport.write(
                    _answer(
                        429,
                        f"this address already has {held} connections open (at most {self.limits.connections_per_client})",
                        b"retry-after: 5\r\n",
                    )
                )
                transport.close()
                return
            self.per_client[host] = held + 1
            self._counted = host
        if len(self.connections) > self.limits.max_connections:
            self._make_room()
        self._arm_head_timer()

    def _idle(self):
        return (self.cycle is None or self.cycle.response_complete) and not self.pipeline

    def _make_room(self):
        """Close the connections waiting longest with no request in progress (not this one)."""
        excess = len(self.connections) - self.limits.max_connections
        closing: list = []
        for connection in self.by_wait:  # oldest first, and only until enough are found
            if len(closing) >= excess:
                break
            if connection is not self and connection._idle() and not connection.transport.is_closing():
                closing.append(connection)
        for connection in closing:
            GUARD_REFUSALS.labels("room_for_another").inc()
            connection.transport.close()

    def connection_lost(self, exc):
        if self._counted is not None:
            left = self.per_client.get(self._counted, 1) - 1
            if left > 0:
                self.per_client[self._counted] = left
            else:
                self.per_client.pop(self._counted, None)
            self._counted = None
        self._cancel_head_timer()
        self.by_wait.pop(self, None)
        super().connection_lost(exc)

    # -- the head's time
    def _arm_head_timer(self):
        self._cancel_head_timer()
        self.waiting_since = time.monotonic()
        self.by_wait.pop(self, None)
        self.by_wait[self] = None
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self):
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self):
        self._head_timer = None
        if self._idle() and not self.transport.is_closing():
            GUARD_REFUSALS.labels("head_too_slow" if self._head_bytes else "idle_too_long").inc()
            if self._head_bytes:
                self.transport.write(_answer(408, f"the request's headers did not arrive within {self.limits.header_timeout_s:g} s"))
            self.transport.close()

    # -- the head's size
    def data_received(self, data):
        if not self._head_done:
            # Only the head's own bytes count: a read that also holds the body (a dropped
            # sample) or pipelined requests after it was counted whole, and refused 431.
            seen = self._head_tail + data
            end = seen.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._head_tail))
            self._head_tail = seen[-3:]
            if self._head_bytes > self.limits.header_bytes:
                self._cancel_head_timer()
                GUARD_REFUSALS.labels("head_too_large").inc()
                self.transport.write(_answer(431, f"the request's headers are larger than {self.limits.header_bytes} bytes"))
                self.transport.close()
                self.parser = None  # type: ignore[assignment]  # closed by a guard; data_received checks it
                return
        if self.parser is None:
            return  # closed by a guard; the rest of what was sent is dropped
        super().data_received(data)

    def send_400_response(self, msg):
        """What uvicorn answers a request llhttp cannot parse, in the app's error shape (uvicorn's
        own is text/plain): a client reads every refusal the same way."""
        self.transport.write(_answer(400, f"not an HTTP/1.1 request this server can read ({msg.rstrip('.')})"))
        self.transport.close()

    def on_headers_complete(self):
        self._head_done = True
        self._cancel_head_timer()
        self.by_wait.pop(self, None)  # busy until its answer is sent; then it waits again, last
        super().on_headers_complete()
        if self._draining and self.cycle is not None:
            self.cycle.keep_alive = False  # answered, then closed

    def on_message_complete(self):
        self._head_done = False
        self._head_bytes = 0
        self._head_tail = b""
        super().on_message_complete()

    def on_response_complete(self):
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm_head_timer()

    def shutdown(self):
        """The server is draining (SIGTERM): a connection with a request in progress is closed
        after its answer; an idle one gets :data:`DRAIN_GRACE_S` for a request already on its
        way (uvicorn would close it at once, resetting what it has not read yet)."""
        self._cancel_head_timer()
        self._draining = True
        if self._idle():
            self.loop.call_later(DRAIN_GRACE_S, self._close_if_idle)
        else:
            super().shutdown()

    def _close_if_idle(self):
        if self._idle() and not self.transport.is_closing():
            self.transport.close()


class DrainingWorkers(Multiprocess):
    """uvicorn's supervisor of ``--workers N``, which stops listening as soon as it stops.

    Each worker closes its copy of the listening socket when SIGTERM drains it, but uvicorn's
    supervisor kept its own copy open until every worker had exited: a client reconnecting
    after its keep-alive connection was closed landed in a listen queue that no process read,
    and was reset when the supervisor exited (20 of 20 keep-alive clients). Closed here before
    the workers are told to drain, a reconnect is refused, as with one worker, and a client
    or balancer goes to another replica at once.
    """

    def terminate_all(self):
        for listening in self.sockets:
            listening.close()
        super().terminate_all()


class ClientLimited(Exception):
    """A client over :attr:`Limits.decodes_per_client`; ``reason`` and ``retry_after_s``."""

    def __init__(self, reason, retry_after_s=1):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class ClientDecodes:
    """Counts the sounds each client address has decoding; refuses one over the limit.

    ``async with decodes.slot(address): ...`` around a decode (a cache hit takes no slot).
    Trusted proxy addresses (a request that came without ``X-Forwarded-For``: a health check,
    a local bench) are not limited.
    """

    def __init__(self, limits=None):
        self.limits = limits or current_limits()
        self.busy = {}

    def slot(self, address):
        return _Slot(self, address)


class _Slot:
    def __init__(self, owner, address):
        self.owner = owner
        self.address = None if owner.limits.is_trusted(address) else client_key(address)

    async def __aenter__(self):
        if self.address is None:
            return
        busy = self.owner.busy.get(self.address, 0)
        if busy >= self.owner.limits.decodes_per_client:
            self.address = None
            raise ClientLimited(
                f"this client already has {busy} sounds decoding (at most {self.owner.limits.decodes_per_client} at once); try again"
            )
        self.owner.busy[self.address] = busy + 1

    async def __aexit__(self, *exc):
        if self.address is None:
            return
        left = self.owner.busy.get(self.address, 1) - 1
        if left > 0:
            self.owner.busy[self.address] = left
        else:
            self.owner.busy.pop(self.address, None)
