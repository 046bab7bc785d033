"""The edge of the live protocol: what a hostile or broken client can send stops here.

Three layers, in the order a message meets them (docs/security.md, "Hostile or broken
clients"; the codes are in docs/protocol.md):

1. :class:`GuardedPacket` decodes every Socket.IO packet (python-socketio's ``serializer``
   hook). Size, nesting depth and every value are checked by :mod:`deliberation.inputs`
   before and after parsing; a packet that fails becomes the internal event
   :data:`REFUSED_EVENT` *with the client's acknowledgement id kept*, so the client gets a
   documented refusal (``bad_request``, ``too_large``, ``unknown_event``) instead of a
   traceback in the log and no answer. Packet types a client never sends (binary, acks
   of callbacks we never ask for) are refused the same way.
2. A token bucket per caller (:func:`admit_event`) charges every event its cost before its
   handler runs, so a flood is refused in memory (``rate_limited`` with ``retry_after``)
   and never reaches the database; a socket that keeps sending after being told is
   disconnected.
3. :func:`admit_connection` caps the sockets one address may hold on this process, and
   charges each connection to its caller's bucket: buckets belong to the participant (named
   by the token's signature, read without the database), so reconnecting refills nothing.

Handlers are registered with :func:`event`, which applies layer 2 and passes the handler
the payload (the first argument; extra arguments are ignored).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_babel import force_locale, lazy_gettext
from flask_socketio import disconnect
from socketio import packet as sio_packet

from .. import inputs
from ..extensions import socketio
from . import rooms

log = logging.getLogger(__name__)

# Never a name a client can use: it starts with a NUL, which inputs refuses in any string.
REFUSED_EVENT = "\x00refused"
# Event names python-socketio and Flask-SocketIO reserve for the connection itself.
RESERVED_EVENTS = frozenset({"connect", "disconnect", "message", "json", "*"})
# The transport's own limit (Engine.IO's max_http_buffer_size and the websocket's maximum
# message): above it the connection is closed (websocket close code 1009, polling HTTP 400).
TRANSPORT_MAX_BYTES = 1_000_000

# Token bucket per socket: BURST tokens, refilled at RATE per second; each event costs its
# weight in EVENT_COSTS (what it costs the server, roughly), any other event 1.
DEFAULT_RATE = 10.0
DEFAULT_BURST = 30.0
EVENT_COSTS = {
    "vote": 1,
    "sync": 4,
    "propose": 4,
    "my_proposals": 2,
    "list_proposals": 2,
    "moderate": 2,
}
FACILITATOR_ACTION_COST = 2
# A connection costs the server a token check and a full state: charged like a sync and a
# half, before any database access.
CONNECT_COST = 6
# Refusals since the bucket was last full after which the socket is disconnected. Not "in a
# row": a flood of cheap events (a vote costs 1) is let through one event per refill, every
# 0.1 s, which reset a count "in a row" before it reached 100, so a vote flood never ended
# and, on a machine short of CPU, its refusals alone starved the others' votes. An honest
# phone's bucket fills up again between its events; a flooder's never does.
DEFAULT_FLOOD_DISCONNECT = 100
# Sockets one address may hold on one process: far above a hall behind one NAT address.
DEFAULT_SOCKETS_PER_ADDRESS = 5000

MESSAGES = {
    "bad_request": lazy_gettext("The request could not be read."),
    "too_large": lazy_gettext("This message is too large."),
    "unknown_event": lazy_gettext("This request is not known to the server."),
    "rate_limited": lazy_gettext("Too many requests at once: please wait a moment."),
    "too_many_connections": lazy_gettext(
        "Too many connections from your network: please try again later."
    ),
}


# -- layer 1: decoding ----------------------------------------------------------------------


class _PayloadJson:
    """The ``json`` a :class:`GuardedPacket` parses with: limits first, then the parser."""

    @staticmethod
    def loads(text: str, *args: Any, **kwargs: Any) -> Any:
        return inputs.loads(text)

    dumps = staticmethod(sio_packet.Packet.json.dumps)


class GuardedPacket(sio_packet.Packet):
    """A Socket.IO packet that never raises on decoding and never hands a handler a value
    :mod:`deliberation.inputs` refuses (see the module docstring)."""

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        if encoded_packet is not None and not encoded_packet:
            # An empty message: the base class would leave an EVENT without data.
            self._refuse("bad_request")

    def decode(self, encoded_packet: Any) -> int:
        # The limits apply to what clients send, so only here: the class keeps the plain
        # JSON module, which the client managers also take for the messages between server
        # processes (a state larger than a client's limit goes through Redis as it is).
        self.json = _PayloadJson
        self.packet_type, self.namespace, self.id, self.data = sio_packet.EVENT, None, None, None
        if not isinstance(encoded_packet, str):
            # Binary frames: our protocol is JSON only.
            return self._refuse("bad_request")
        try:
            attachments = super().decode(encoded_packet)
        except inputs.Malformed as refusal:
            return self._refuse(refusal.code)
        except (ValueError, TypeError, IndexError, RecursionError):
            return self._refuse("bad_request")
        if attachments or self.packet_type not in (
            sio_packet.CONNECT,
            sio_packet.DISCONNECT,
            sio_packet.EVENT,
        ):
            # Binary events, acks of callbacks the server never asked for, CONNECT_ERROR,
            # unknown types: nothing a client of this protocol sends.
            self.packet_type = sio_packet.EVENT
            return self._refuse("bad_request")
        if self.packet_type == sio_packet.EVENT:
            data = self.data
            if not isinstance(data, list) or not data or not isinstance(data[0], str):
                return self._refuse("bad_request")
            if data[0] in RESERVED_EVENTS or data[0] == REFUSED_EVENT:
                return self._refuse("unknown_event")
        return 0

    def _refuse(self, code: str) -> int:
        if self.packet_type == sio_packet.CONNECT:
            # Not an object with a role: the connect handler refuses it as bad_request.
            self.data = {"refused": code}
        else:
            self.packet_type = sio_packet.EVENT
            self.data = [REFUSED_EVENT, code]
        return 0


# -- per-socket state: address, and the bucket of who is calling ----------------------------


@dataclass
class _Bucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)
    refused_since_full: int = 0
    sockets: int = 0


@dataclass
class _Socket:
    address: str
    key: str


_lock = threading.Lock()
_sockets: dict[str, _Socket] = {}
_per_address: dict[str, int] = {}
# Buckets belong to who calls (a participant, whatever their sockets; else the socket), so
# reconnecting does not refill one: a client that reconnects to flood again finds it empty.
_buckets: dict[str, _Bucket] = {}
# How many idle buckets may wait for a sweep beyond twice the sockets connected.
SWEEP_SLACK = 1000


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def caller_key(sid: str, subject: str | None) -> str:
    """Whose bucket a socket draws from: the participant named by its token (read from the
    token's signature, without the database), else the socket itself."""
    return f"participant:{subject}" if subject else f"socket:{sid}"


def admit_connection(sid: str, address: str | None, key: str) -> tuple[str, float] | None:
    """Count a new socket against its address and charge its caller ``CONNECT_COST``; None
    when admitted, else ``(code, retry_after)``: ``too_many_connections`` (the address holds
    too many sockets) or ``rate_limited`` (this caller reconnects too fast)."""
    address = address or "?"
    limit = int(_setting("SOCKETS_PER_ADDRESS", DEFAULT_SOCKETS_PER_ADDRESS))
    with _lock:
        if sid in _sockets:
            return None  # a second connect packet on the same socket: already counted
        if _per_address.get(address, 0) >= limit:
            return "too_many_connections", 0.0
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = _Bucket(tokens=_setting("SOCKET_BURST", DEFAULT_BURST))
        wait = _take(bucket, CONNECT_COST)
        if wait:
            return "rate_limited", wait
        bucket.sockets += 1
        _per_address[address] = _per_address.get(address, 0) + 1
        _sockets[sid] = _Socket(address, key)
    return None


def forget(sid: str) -> None:
    """The socket is gone (or was refused): free its place; its caller's bucket goes once
    no socket of theirs is left and it has filled up again (nothing left to remember)."""
    with _lock:
        state = _sockets.pop(sid, None)
        if state is None:
            return
        left = _per_address.get(state.address, 0) - 1
        if left > 0:
            _per_address[state.address] = left
        else:
            _per_address.pop(state.address, None)
        bucket = _buckets.get(state.key)
        if bucket is not None:
            bucket.sockets -= 1
            if _idle(bucket, time.monotonic()):
                del _buckets[state.key]
        # Buckets left half-empty by their last socket go in a sweep now and then: a hall
        # disconnecting at once must not scan every bucket for every socket.
        if len(_buckets) > 2 * len(_sockets) + SWEEP_SLACK:
            now = time.monotonic()
            for key in [key for key, bucket in _buckets.items() if _idle(bucket, now)]:
                del _buckets[key]


def _idle(bucket: _Bucket, now: float) -> bool:
    """No socket draws from it and it has filled up again: nothing left to remember."""
    rate, burst = _setting("SOCKET_RATE", DEFAULT_RATE), _setting("SOCKET_BURST", DEFAULT_BURST)
    return bucket.sockets <= 0 and bucket.tokens + (now - bucket.stamp) * rate >= burst


def close_transport_soon(sid: str, delay: float = 1.0) -> None:
    """Close the transport of a socket whose connection was refused, once the refusal has
    gone out: a client that keeps an unconnected transport open still holds a descriptor."""
    server = socketio.server
    eio_sid = server.manager.eio_sid_from_sid(sid, "/")
    if eio_sid is None:
        return

    def close() -> None:
        socketio.sleep(delay)
        if eio_sid in server.eio.sockets:
            server.eio.disconnect(eio_sid)

    socketio.start_background_task(close)


def clear() -> None:
    """Forget every socket (tests)."""
    with _lock:
        _sockets.clear()
        _per_address.clear()
        _buckets.clear()


# -- layer 2: rate limits -------------------------------------------------------------------


def _take(bucket: _Bucket, cost: float) -> float:
    """Charge ``cost`` tokens; return 0 when admitted, else the seconds until it would be."""
    rate, burst = _setting("SOCKET_RATE", DEFAULT_RATE), _setting("SOCKET_BURST", DEFAULT_BURST)
    now = time.monotonic()
    bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
    bucket.stamp = now
    if bucket.tokens >= burst:
        bucket.refused_since_full = 0  # the caller waited: its earlier refusals are forgiven
    if bucket.tokens >= cost:
        bucket.tokens -= cost
        return 0.0
    bucket.refused_since_full += 1
    return (cost - bucket.tokens) / rate


def refusal(code: str, language: str | None = None, **extra: Any) -> dict[str, Any]:
    """The acknowledgement of a refusal decided here, in the socket's language."""
    with force_locale(language or _language()):
        message = str(MESSAGES[code])
    return {"ok": False, "error": code, "message": message, **extra}


def _language() -> str:
    presence = rooms.of(request.sid)
    return presence.language if presence is not None else "fr"


def admit_event(cost: float) -> dict[str, Any] | None:
    """Charge this socket's bucket; None when the event may run, else its refusal.

    A socket refused ``FLOOD_DISCONNECT`` times since its bucket was last full is
    disconnected (it ignored ``retry_after``); its acknowledgement is then never sent.
    """
    sid = request.sid
    limit = _setting("SOCKET_FLOOD_DISCONNECT", DEFAULT_FLOOD_DISCONNECT)
    with _lock:
        state = _sockets.get(sid)
        bucket = _buckets.get(state.key) if state is not None else None
        if bucket is not None:
            wait = _take(bucket, cost)
            flooding = bucket.refused_since_full >= limit
    if bucket is None:
        # Not admitted (refused connect) or already forgotten: nothing may run.
        return refusal("bad_request")
    if not wait:
        return None
    if flooding:
        if bucket.refused_since_full == limit:  # one line per flood, not one per event
            log.warning("socket %s disconnected: %d events refused (rate limit ignored)",
                        sid, bucket.refused_since_full)  # fmt: skip
        disconnect()
        return None
    # Rounded up to a tenth of a second: waiting that long is always enough.
    return refusal("rate_limited", retry_after=math.ceil(wait * 10) / 10)


Handler = Callable[[Any], Any]


def event(name: str, cost: float | None = None) -> Callable[[Handler], Handler]:
    """Register ``handler(data)`` for the event ``name`` behind this socket's rate limit.

    The handler gets the first argument sent (or None) and only after the bucket admitted
    the event. A refused ``vote`` echoes its ``ballot_id`` (the phone matches acks on it).
    """
    charge = EVENT_COSTS.get(name, 1) if cost is None else cost

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        def guarded(*args: Any) -> Any:
            data = args[0] if args else None
            refused = admit_event(charge)
            if refused is not None:
                ballot_id = data.get("ballot_id") if isinstance(data, dict) else None
                if isinstance(ballot_id, str):
                    refused["ballot_id"] = ballot_id
                return refused
            return handler(data)

        socketio.on_event(name, guarded)
        return handler

    return decorator


@socketio.on(REFUSED_EVENT)
def on_refused(code: Any = None, *_ignored: Any) -> dict[str, Any] | None:
    """A packet :class:`GuardedPacket` refused: answer its code (after the rate limit)."""
    refused = admit_event(1)
    if refused is not None:
        return refused
    return refusal(code if code in MESSAGES else "bad_request")


@socketio.on("*")
def on_unknown_event(_name: Any = None, *_args: Any) -> dict[str, Any] | None:
    """Any event without a handler: ``unknown_event`` (after the rate limit)."""
    refused = admit_event(1)
    if refused is not None:
        return refused
    return refusal("unknown_event")
