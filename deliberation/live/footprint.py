"""The server memory a connected phone costs (issue 17: under 60 KiB a phone), and the CPU
of each message it is sent.

Measured with 2,000 phones on one process (tracemalloc diffed between the joins and all
sockets connected, gc counts by type, each greenlet's saved stack; docs/benchmarks.md,
"Memory per phone"): most of the ~77 KiB is not our state but the *greenlets* a websocket
keeps alive — gevent's handler of the connection, simple-websocket's reader, Engine.IO's
writer and Engine.IO's ping task — each with its C stack copied to the heap on every switch
(2.5-5.5 KiB), its own Python frame stack (a 16 KiB chunk per greenlet, pages touched by
its frames) and gevent's bookkeeping of who spawned it.

* gevent records for every greenlet the stack that spawned it and a shared "tree locals"
  dict (``config.track_greenlet_tree``): ~30 frame records per phone, kept for hours, read
  only by gevent's debugging tools (``gevent.util.GreenletTree``), which nothing here uses.
  Turned off.
* Engine.IO's ping task is a greenlet that sleeps ``ping_interval`` (25 s) and sends one
  PING: one of the four greenlets of every phone, asleep nearly all its life. Here the wait
  is a timer of the loop, and the greenlet only exists for the instant of sending the PING
  (``gevent.spawn_later``: a greenlet not yet started has no stack). Same order of events,
  same ``last_ping`` bookkeeping, the same ``send`` (which checks the ping timeout and
  closes a silent client). Only under gevent: other async modes keep Engine.IO's task.
* simple-websocket reads each websocket in a thread of its own (a greenlet under gevent)
  that hands every message to Engine.IO's handler greenlet, which only ever waits for it.
  :class:`ReadsWhenAsked` reads in the handler itself, when it asks for the next message:
  the same reads, the same wsproto events, the same answers (pongs, the close handshake),
  the socket closed when the connection ends as the thread would close it — and one
  greenlet less per phone. Without a reader running ahead, a client that floods is read
  as fast as its messages are handled, no faster (nothing piles up in ``input_buffer``).
  Only without simple-websocket's own pings (``ping_interval``: Engine.IO never asks for
  them, it pings above the websocket), which need the thread to send them on time.
* Engine.IO's writer of a websocket waits for its next packet with a timeout
  (``ping_interval + ping_timeout``): a timer of the loop made, started and cancelled for
  every message a socket is sent, ~20 % of the server's CPU for a message to a room
  (docs/benchmarks.md, "One message to a room"). Under gevent, with Engine.IO's service
  task running (it closes a socket whose PING goes unanswered, which ends its writer), the
  writer waits without it. Polling transports keep Engine.IO's wait.
* gevent's HTTP handler reads requests through an 8 KiB buffer kept for the connection's
  whole life; after a websocket's handshake it is never read again. A request line and its
  headers fit in ``REQUEST_READ_BUFFER_BYTES``; a longer header or a body is read in more
  calls, as a buffered reader does.
* Flask-SocketIO runs every socket event (the connect included) in a request context built
  from the websocket's handshake, whose path (``/socket.io/``) matches no Flask rule. Flask
  keeps the ``NotFound`` in ``request.routing_exception``, and that exception's traceback
  holds the frame whose ``self`` holds the request: a reference cycle (~60 objects, ~6 KiB
  with the request, its environ copy and the frames) that only the cyclic collector frees.
  A handler that waits on I/O meanwhile (PostgreSQL, Redis) lets it age into the old
  generation, whose collections ``gc_pacing`` defers while a hall connects or votes: with
  PostgreSQL, 7 KiB a phone left in obmalloc's pools after a hall connected. The exception
  is kept (Flask raises it when a view is dispatched) without its traceback and the
  ``NoMatch`` it replaced (raised ``from None``: never shown), so the request is freed by
  reference counting when its context ends.
"""

from __future__ import annotations

import selectors
import time
from typing import Any

import engineio.packet
import engineio.socket
import flask.ctx
import gevent
import simple_websocket
from gevent import pywsgi
from wsproto.utilities import LocalProtocolError

# A request line and its headers usually fit in one read (more reads otherwise, as any
# buffered reader does): what a websocket keeps for its whole life after the handshake.
REQUEST_READ_BUFFER_BYTES = 2048

_handler_init = pywsgi.WSGIHandler.__init__


def _handler_with_a_small_read_buffer(
    handler: pywsgi.WSGIHandler, sock: Any, address: Any, server: Any, rfile: Any = None
) -> None:
    if rfile is None:
        rfile = sock.makefile("rb", REQUEST_READ_BUFFER_BYTES)
    _handler_init(handler, sock, address, server, rfile)


_schedule_ping = engineio.socket.Socket.schedule_ping


def _ping_now(engine_socket: engineio.socket.Socket) -> None:
    # Engine.IO's Socket._send_ping after its sleep (python-engineio 4.15; the unit test
    # test_engineio_ping_task_is_still_sleep_then_ping fails if that changes).
    if not engine_socket.closing and not engine_socket.closed:
        engine_socket.last_ping = time.time()
        engine_socket.send(engineio.packet.Packet(engineio.packet.PING))


def _schedule_ping_on_a_timer(engine_socket: engineio.socket.Socket) -> None:
    if engine_socket.server.async_mode != "gevent":
        _schedule_ping(engine_socket)
        return
    # As Engine.IO's: only once the previous PING was answered (last_ping None = waiting).
    if engine_socket.last_ping:
        engine_socket.last_ping = None
        gevent.spawn_later(engine_socket.server.ping_interval, _ping_now, engine_socket)


_poll = engineio.socket.Socket.poll


def _poll_without_a_timer(engine_socket: engineio.socket.Socket) -> list[Any]:
    server = engine_socket.server
    if not (
        engine_socket.upgraded
        and server.async_mode == "gevent"
        and server.service_task_handle is not None
    ):
        return _poll(engine_socket)
    # Engine.IO's Socket.poll (python-engineio 4.15; test_engineio_poll_is_unchanged fails if
    # it changes) without the timeout of its first wait: the writer of a websocket waits for
    # the next packet with no timer of the loop set and cancelled each time. That timeout
    # only ended the writer of a socket silent for ping_interval + ping_timeout; the
    # service task closes such a socket first (its PING unanswered for ping_timeout), which
    # queues the None that ends the writer.
    queue = engine_socket.queue
    first = queue.get()
    queue.task_done()
    if first is None:
        return []
    packets = [first]
    while queue.qsize():
        packet = queue.get_nowait()
        queue.task_done()
        if packet is None:
            queue.put(None)
            break
        packets.append(packet)
    return packets


_match_request = flask.ctx.RequestContext.match_request


def _match_request_without_a_cycle(context: flask.ctx.RequestContext) -> None:
    _match_request(context)
    unmatched = context.request.routing_exception
    if unmatched is not None:
        # Its traceback holds match_request's frame, which holds this request: a cycle.
        unmatched.__traceback__ = None
        unmatched.__context__ = None


def keep_connections_small() -> None:
    """Install the measures above (idempotent: once per process is enough)."""
    gevent.config.track_greenlet_tree = False
    engineio.socket.Socket.schedule_ping = _schedule_ping_on_a_timer
    engineio.socket.Socket.poll = _poll_without_a_timer
    pywsgi.WSGIHandler.__init__ = _handler_with_a_small_read_buffer
    flask.ctx.RequestContext.match_request = _match_request_without_a_cycle


# -- one reader less ------------------------------------------------------------------------


class _ReaderNotStarted:
    """Takes the place of simple-websocket's reader thread, which is never started."""

    name = "(simple_websocket.Base._thread)"  # simple-websocket renames its thread

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def start(self) -> None:
        pass


class ReadsWhenAsked(simple_websocket.Server):
    """simple-websocket's server that reads in ``receive()`` instead of a reader thread.

    Put before ``simple_websocket.Server`` (``class X(ReadsWhenAsked, simple_websocket.Server)``).
    """

    def __init__(self, environ: dict, *args: Any, **kwargs: Any) -> None:
        # ping_interval is the fourth positional parameter of simple_websocket.Server.
        pings = kwargs.get("ping_interval", args[2] if len(args) > 2 else None)
        self.reads_when_asked = not pings
        if self.reads_when_asked:
            kwargs["thread_class"] = _ReaderNotStarted
        super().__init__(environ, *args, **kwargs)

    def receive(self, timeout: float | None = None) -> Any:
        if not self.reads_when_asked:
            return super().receive(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.connected and not self.input_buffer:
            if deadline is not None and not self._readable_within(deadline - time.monotonic()):
                return None
            self._read_once()
        if not self.connected:
            # Where the reader thread ended: the connection is over, its socket closed.
            self.sock.close()
        if self.input_buffer:
            return self.input_buffer.pop(0)
        raise simple_websocket.ConnectionClosed(self.close_reason, self.close_message)

    def _read_once(self) -> None:
        # The body of simple-websocket 1.1.0's Base._thread loop without its pings (the unit
        # test test_simple_websocket_reader_loop_is_unchanged fails if that loop changes).
        try:
            in_data = self.sock.recv(self.receive_bytes)
            if len(in_data) == 0:
                raise OSError()
            self.ws.receive_data(in_data)
            self.connected = self._handle_events()
        except (OSError, LocalProtocolError):
            self.connected = False

    def _readable_within(self, seconds: float) -> bool:
        with self.selector_class() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            return bool(selector.select(max(seconds, 0)))
