"""Websocket compression that keeps no compressor per socket.

Phone browsers offer permessage-deflate, and simple-websocket accepts it with wsproto's
defaults: context takeover both ways, i.e. a zlib compressor (~256 KiB) and decompressor
kept for the whole life of every socket. Measured with 2,000 phones offering it: 180 KiB of
server memory per phone instead of 75 (docs/benchmarks.md). Our messages are small and
independent (a ``state``, an acknowledgement), so each is compressed on its own: the
agreement says ``server_no_context_takeover`` and ``client_no_context_takeover``, and
wsproto drops the zlib objects after every message. The ``state`` sent when a poll opens
still travels compressed to every phone when it is long (an item's text), which matters on
a venue's wifi; a message that fits in one network packet anyway (an acknowledgement, a
short state: under ``MIN_COMPRESSED_BYTES``) is sent as it is, with the RSV1 bit clear, as
RFC 7692 allows: compressing it would cost both ends CPU and save no airtime.

simple-websocket has no option for this; it names wsproto's ``PerMessageDeflate`` when it
accepts a handshake, so that name is given the parameters here (once per process).

A message to a room (a poll opening in front of 2,000 phones) is framed once for all the
sockets that agreed the same extensions (:class:`SharedFrames`), and written by the sender
itself to every websocket with nothing queued and nothing being written
(:func:`_send_at_once_or_queue`), instead of waking each socket's writer greenlet.

:func:`harden_transport` works around what a slow or hostile client could do below
Socket.IO (docs/deployment.md, "Transport defects worked around"):

* simple-websocket 1.1.0 writes a frame with ``socket.send()`` and ignores how much was
  written: when a slow reader's buffers are full, the rest of the frame is silently dropped
  and the stream is corrupted from then on (upstream issue #45). Its server class is given a
  socket whose ``send`` writes everything (``sendall``), one frame at a time, and gives up —
  closing the connection — on a reader that takes nothing for ``SLOW_READER_TIMEOUT_S``.
* simple-websocket buffers a message of any size before Engine.IO checks it: the server
  class refuses one over the transport limit as it arrives (close code 1009).
* A client sending without pause keeps its socket readable, and a gevent read on a readable
  socket never gives way: the reader of that one socket would hold the loop. Each read now
  gives way first.
* Engine.IO raises, and logs a traceback, on a packet it cannot decode (a websocket frame
  or a polling body that is not an Engine.IO packet, a polling body that is not UTF-8): such
  a packet now closes that client's transport, with one line in the log. A polling body it
  refuses (too large) made the request hang: Engine.IO's disconnect waits for a poll that
  never comes; the transport is now closed without waiting.
* gevent's HTTP server answers a request line it cannot read (a client writing websocket
  frames on a fresh connection, or any garbage) with a 400, and when that client is already
  gone the write raises out of the connection's greenlet: a traceback in the log for every
  such client (seen when a flooding client is disconnected and reconnects). A client gone
  before its answer is now one line at INFO.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from functools import partial
from typing import Any

import engineio.exceptions
import engineio.packet
import engineio.socket
import gevent
import gevent.socket
import simple_websocket
import simple_websocket.ws
from gevent import pywsgi
from wsproto import ConnectionState, WSConnection
from wsproto.events import Message, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode, RsvBits

from ..offload import gevent_patched
from .footprint import ReadsWhenAsked
from .guard import TRANSPORT_MAX_BYTES

log = logging.getLogger(__name__)

# Below this, a message fits in one packet (1,500-byte MTU, minus IP, TCP, TLS and
# websocket headers) compressed or not.
MIN_COMPRESSED_BYTES = 1200


class CompressLongMessages(PerMessageDeflate):
    """permessage-deflate that leaves whole messages under ``MIN_COMPRESSED_BYTES`` as they
    are, and compresses a message sent to a whole room once, not once per socket.

    Without context takeover a whole message's compressed form depends on its bytes and the
    window size only, so every socket of a room would compress the same bytes to the same
    result, each with a fresh zlib compressor (~256 KiB to set up): a poll opening in front
    of 2,000 phones did it 2,000 times. The last message compressed, and its result, are
    kept (process-wide: one state goes out to a whole room at a time)."""

    _last: tuple[tuple[int, bytes], bytes] | None = None

    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        whole = fin and opcode in (Opcode.TEXT, Opcode.BINARY)
        if whole and len(data) < MIN_COMPRESSED_BYTES:
            return rsv, data
        alone = whole and self.server_no_context_takeover and self._compressor is None
        if not alone or proto.client:
            return super().frame_outbound(proto, opcode, rsv, data, fin)
        key = (self.server_max_window_bits, bytes(data))
        last = CompressLongMessages._last
        if last is not None and last[0] == key:
            return RsvBits(True, rsv[1], rsv[2]), last[1]
        compressed_rsv, compressed = super().frame_outbound(proto, opcode, rsv, data, fin)
        CompressLongMessages._last = (key, compressed)
        return compressed_rsv, compressed


per_message_deflate = partial(
    CompressLongMessages, client_no_context_takeover=True, server_no_context_takeover=True
)


def compress_each_message_alone() -> None:
    simple_websocket.ws.PerMessageDeflate = per_message_deflate


# -- whole frames, and no stalled writer ----------------------------------------------------

# A reader that takes no byte for this long is gone (Engine.IO would time it out anyway).
SLOW_READER_TIMEOUT_S = 30.0


class WholeFrameSocket:
    """The socket simple-websocket writes to, whose ``send`` writes all it is given.

    Frames are written one at a time (the reader thread answers pings and closes while the
    writer sends messages). Under gevent, a reader that takes nothing for
    ``SLOW_READER_TIMEOUT_S`` gets its connection shut: its frame could only be finished by
    waiting on it forever. Everything else is the wrapped socket's.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._write = threading.Lock()
        self._broken = False
        self._gevent = gevent_patched()
        # Written straight to the OS socket only when gevent's is a plain TCP socket: a TLS
        # socket (gevent.ssl, a subclass) must go through its own send.
        self._plain_gevent_socket = self._gevent and type(sock) is gevent.socket.socket

    def send(self, data: bytes) -> int:
        with self._write:
            if self._broken:
                raise BrokenPipeError("the connection was given up (slow reader)")
            if not self._gevent:
                self._sock.sendall(data)  # a thread of its own: blocking only it
                return len(data)
            # The kernel almost always takes a whole message at once: one non-blocking
            # write (gevent keeps the socket non-blocking), and gevent's sendall with a
            # timer only for what a full buffer left (~15 % of a room message's CPU).
            sent = 0
            if self._plain_gevent_socket:
                try:
                    sent = self._sock._sock.send(data)  # the OS socket gevent wraps
                except BlockingIOError:
                    sent = 0
                if sent == len(data):
                    return sent
            self._send_rest(memoryview(data)[sent:])
        return len(data)

    def send_at_once(self, data: bytes) -> bool:
        """Write ``data`` now if nothing is being written and the kernel takes some of it at
        once; False when nothing was written (the caller queues it). Never waits: what a
        full buffer leaves is finished by a greenlet of its own, the lock held until then
        (nothing may be written in the middle of a frame)."""
        if not self._plain_gevent_socket or self._broken:
            return False
        if not self._write.acquire(blocking=False):
            return False
        try:
            sent = self._sock._sock.send(data)
        except OSError:  # BlockingIOError, or the connection is gone: the writer will see
            sent = 0
        if sent == len(data):
            self._write.release()
            return True
        if sent == 0:
            self._write.release()
            return False
        gevent.spawn(self._finish_and_release, memoryview(data)[sent:])
        return True

    def _finish_and_release(self, rest: memoryview) -> None:
        try:
            self._send_rest(rest)
        except OSError:
            pass  # the connection is shut: the writer's next write ends it
        finally:
            self._write.release()

    def _send_rest(self, rest: memoryview) -> None:
        try:
            with gevent.Timeout(SLOW_READER_TIMEOUT_S):
                self._sock.sendall(rest)
        except gevent.Timeout:
            # Half a frame went out: nothing more may follow it on this connection.
            self._broken = True
            log.warning("websocket closed: the client read nothing for %ss",
                        SLOW_READER_TIMEOUT_S)  # fmt: skip
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            raise BrokenPipeError("slow reader") from None

    def recv(self, size: int) -> bytes:
        if gevent_patched():
            # A client that sends without pause keeps its socket readable: gevent's recv
            # then returns at once, never giving way, and this one reader would keep the
            # loop from every other phone for as long as it sends. Give way at each read.
            time.sleep(0)
        return self._sock.recv(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class WholeFrameServer(ReadsWhenAsked, simple_websocket.Server):
    """simple-websocket's server with whole-frame writes, a maximum message size and frames
    shared between sockets (:class:`SharedFrames`).

    It reads in the handler, without a reader thread (footprint.ReadsWhenAsked).
    """

    def __init__(self, environ: dict, *args: Any, **kwargs: Any) -> None:
        kwargs["max_message_size"] = kwargs.get("max_message_size") or TRANSPORT_MAX_BYTES
        self.frame_form: Hashable | None = None
        super().__init__(environ, *args, **kwargs)

    def handshake(self) -> None:
        # Called by simple-websocket's constructor before it writes anything.
        self.sock = WholeFrameSocket(self.sock)
        super().handshake()
        if self.connected:
            self.frame_form = frame_form(self.ws)

    def send(self, data: Any) -> None:
        """simple-websocket's ``send``, the frame taken from :data:`shared_frames` when a
        socket of the same frame form has built it already."""
        if not self._may_share(data):
            super().send(data)
            return
        self.sock.send(self._shared_frame(data))

    def _may_share(self, data: Any) -> bool:
        """Whether this message's frame is one every socket of this frame form shares: an
        open connection whose frames do not depend on its past, a whole message not too long
        to be kept."""
        return not (
            self.frame_form is None
            or not self.connected
            or self.ws.state is not ConnectionState.OPEN
            or not isinstance(data, str | bytes)
            or len(data) > SharedFrames.MAX_MESSAGE_CHARS
        )

    def _shared_frame(self, data: str | bytes) -> bytes:
        key = (self.frame_form, data)
        frame = shared_frames.get(key)
        if frame is None:
            # This socket's own wsproto builds it, exactly as simple-websocket would have.
            event = Message(data=data) if isinstance(data, bytes) else TextMessage(data=data)
            frame = bytes(self.ws.send(event))
            shared_frames.put(key, frame)
        return frame

    def send_at_once(self, data: Any) -> bool:
        if not self._may_share(data):
            return False
        return self.sock.send_at_once(self._shared_frame(data))


# -- one frame per room message -------------------------------------------------------------


def frame_form(ws: WSConnection) -> Hashable | None:
    """What a server's frame of a whole message depends on besides the message: the
    extensions agreed (only ours, without context takeover, and its window). None for a
    connection whose frames may depend on its past (context takeover, another extension):
    its frames are its own."""
    connection = ws.connection
    if connection is None or connection._proto.client:
        return None
    form: list[tuple[str, int]] = []
    for extension in connection._proto.extensions:
        if not (
            isinstance(extension, CompressLongMessages)
            and extension.server_no_context_takeover
            and extension.client_no_context_takeover
        ):
            return None
        form.append((extension.name, extension.server_max_window_bits))
    return tuple(form)


class SharedFrames:
    """The websocket frames of the last messages sent, by frame form and message.

    A room message reaches every socket of the room as the same Engine.IO packet, whose
    encoding python-engineio caches: the same string, handed to each socket's ``send``.
    wsproto then built the same frame for each (UTF-8 encoding, the compressor's cached
    result, the header: ~14 % of a room message's CPU on the server). Here the first socket
    of each frame form builds it with its own wsproto, and the others write those bytes.
    Messages to one socket (an acknowledgement) pass through too, and soon leave: the
    last ``KEPT`` messages are kept, the least recently sent first out.
    """

    KEPT = 16
    MAX_MESSAGE_CHARS = 65536  # a larger one is framed for each socket, as before

    def __init__(self) -> None:
        self._frames: OrderedDict[tuple[Hashable, str | bytes], bytes] = OrderedDict()

    def get(self, key: tuple[Hashable, str | bytes]) -> bytes | None:
        frame = self._frames.get(key)
        if frame is not None:
            with contextlib.suppress(KeyError):  # another thread may have dropped it
                self._frames.move_to_end(key)
        return frame

    def put(self, key: tuple[Hashable, str | bytes], frame: bytes) -> None:
        self._frames[key] = frame
        while len(self._frames) > self.KEPT:
            with contextlib.suppress(KeyError):
                self._frames.popitem(last=False)


shared_frames = SharedFrames()


# -- written by the sender when nothing is waiting ------------------------------------------

_engineio_send = engineio.socket.Socket.send
_engineio_websocket_handler = engineio.socket.Socket._websocket_handler


def _websocket_handler_writing_at_once(engine_socket: engineio.socket.Socket, ws: Any) -> Any:
    # ws is Engine.IO's SimpleWebSocketWSGI; its .ws our WholeFrameServer, for the life of
    # the connection (test_engineio_send_and_its_websocket_handler_are_unchanged).
    engine_socket.writes_at_once = getattr(ws, "ws", None)
    try:
        return _engineio_websocket_handler(engine_socket, ws)
    finally:
        engine_socket.writes_at_once = None


def _send_at_once_or_queue(engine_socket: engineio.socket.Socket, pkt: Any) -> None:
    """Engine.IO's ``Socket.send``, which queues every packet for the socket's writer
    greenlet: a websocket with nothing queued and nothing being written gets the frame from
    the sender at once (``WholeFrameServer.send_at_once``); anything else is queued as
    before, behind what is already queued, so a socket's messages keep their order.

    A room message woke 2,000 writer greenlets, each to write one frame: ~35 % of its CPU
    (docs/benchmarks.md, "One message to a room")."""
    ws = getattr(engine_socket, "writes_at_once", None)
    if (
        ws is None
        or not engine_socket.upgraded
        or engine_socket.upgrading  # packets are held while a transport is upgraded
        or engine_socket.queue.qsize()
        or not isinstance(ws, WholeFrameServer)
    ):
        _engineio_send(engine_socket, pkt)
        return
    if not engine_socket.check_ping_timeout():
        return
    if not ws.send_at_once(pkt.encode()):
        engine_socket.queue.put(pkt)
    engine_socket.server.logger.info("%s: Sending packet %s data %s", engine_socket.sid,
        engineio.packet.packet_names[pkt.packet_type],
        pkt.data if not isinstance(pkt.data, bytes) else "<binary>")  # fmt: skip


# -- Engine.IO packets a client could not have meant ----------------------------------------

_engineio_decode = engineio.packet.Packet.decode
_engineio_post = engineio.socket.Socket.handle_post_request


def _decode_or_close(packet: engineio.packet.Packet, encoded_packet: Any) -> None:
    try:
        _engineio_decode(packet, encoded_packet)
    except (ValueError, TypeError, IndexError, RecursionError):  # binascii.Error is one
        log.warning("malformed Engine.IO packet: closing that client's transport")
        packet.packet_type, packet.data, packet.binary = engineio.packet.CLOSE, None, False


def _post_or_refuse(engine_socket: engineio.socket.Socket, environ: dict) -> None:
    try:
        _engineio_post(engine_socket, environ)
    except engineio.exceptions.EngineIOError:
        # Too large: Engine.IO answers 400 and disconnects the session, but its disconnect
        # waits for a poll to carry the goodbye — which never comes, so the request hung.
        # Closed here first, without waiting.
        log.warning("polling request over the limit: closing that client's transport")
        engine_socket.close(wait=False, abort=True)
        raise
    except (ValueError, TypeError, KeyError, IndexError):  # UnicodeDecodeError is one
        # The body was not Engine.IO: the same answer (400, the session closed).
        log.warning("malformed polling request: closing that client's transport")
        engine_socket.close(wait=False, abort=True)
        raise engineio.exceptions.EngineIOError("malformed payload") from None


_handle_connection = pywsgi.WSGIHandler.handle


def _handle_connection_of_a_client_that_may_leave(handler: pywsgi.WSGIHandler) -> None:
    try:
        _handle_connection(handler)
    except (BrokenPipeError, ConnectionResetError):
        log.info("client %s left before its answer was written", handler.client_address)


def harden_transport() -> None:
    """Install the workarounds above (idempotent: once per process is enough)."""
    # gunicorn's gevent worker handles connections with a subclass: this covers it too.
    pywsgi.WSGIHandler.handle = _handle_connection_of_a_client_that_may_leave
    simple_websocket.Server = WholeFrameServer
    engineio.packet.Packet.decode = _decode_or_close
    engineio.socket.Socket.handle_post_request = _post_or_refuse
    engineio.socket.Socket.send = _send_at_once_or_queue
    engineio.socket.Socket._websocket_handler = _websocket_handler_writing_at_once
