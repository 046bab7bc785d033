"""What a connected phone costs the server: the measures of deliberation/live/footprint.py,
and the library code they stand in for (these pins fail when an upgrade changes it)."""

from __future__ import annotations

import gc
import inspect
import socket
import sys
import textwrap
import threading
import time
import weakref

import engineio
import engineio.exceptions
import engineio.packet
import engineio.socket
import flask
import flask.ctx
import gevent
import gevent.socket
import greenlet
import pytest
import simple_websocket
import simple_websocket.ws
from gevent import pywsgi
from werkzeug.exceptions import NotFound
from werkzeug.test import EnvironBuilder
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    Pong,
    Request,
    TextMessage,
)

from deliberation.extensions import socketio
from deliberation.live import broadcast, footprint, rooms
from deliberation.live.websocket import WholeFrameServer
from deliberation.services.live import sessions
from tests.live_fixtures import make_process, workshop


@pytest.fixture(autouse=True)
def installed():
    footprint.keep_connections_small()  # what create_app does


def _source(function) -> str:
    return textwrap.dedent(inspect.getsource(function))


# -- gevent's records of who spawned whom -------------------------------------------------


def test_greenlets_keep_no_record_of_their_spawning():
    spawned = gevent.spawn(lambda: None)
    assert spawned.spawning_stack is None
    assert spawned.spawn_tree_locals is None
    spawned.join()


# -- Engine.IO's ping -----------------------------------------------------------------------


def _running_greenlets() -> int:
    return sum(
        1
        for thing in gc.get_objects()
        if isinstance(thing, greenlet.greenlet) and thing.gr_frame is not None
    )


def _engine_socket(ping_interval: float) -> engineio.socket.Socket:
    server = engineio.Server(async_mode="gevent", ping_interval=ping_interval)
    engine_socket = engineio.socket.Socket(server, "sid")
    engine_socket.connected = True
    return engine_socket


def test_waiting_for_the_next_ping_runs_no_greenlet_and_the_ping_is_sent():
    engine_socket = _engine_socket(ping_interval=0.05)
    before = _running_greenlets()
    engine_socket.schedule_ping()  # as Engine.IO does after the OPEN and each PONG
    gevent.sleep(0)  # a task spawned would start here
    assert engine_socket.last_ping is None  # waiting: a PONG now schedules nothing more
    assert _running_greenlets() == before  # Engine.IO's task would be asleep here
    gevent.sleep(0.2)
    sent = engine_socket.queue.get_nowait()
    assert sent.packet_type == engineio.packet.PING
    assert engine_socket.last_ping is not None  # the ping timeout runs from now
    assert engine_socket.queue.empty()  # one ping per PONG, not a stream of them


def test_a_socket_closed_before_its_ping_is_sent_none():
    engine_socket = _engine_socket(ping_interval=0.05)
    engine_socket.schedule_ping()
    engine_socket.closed = True
    gevent.sleep(0.2)
    assert engine_socket.queue.empty()


def test_engineio_ping_task_is_still_sleep_then_ping():
    """footprint._ping_now is this task after its sleep, and schedule_ping's condition."""
    assert _source(footprint._schedule_ping) == textwrap.dedent("""\
        def schedule_ping(self):
            # only schedule a new ping if the previous ping wait cycle completed
            if self.last_ping:
                self.last_ping = None
                self.server.start_background_task(self._send_ping)
    """)
    assert _source(engineio.socket.Socket._send_ping) == textwrap.dedent("""\
        def _send_ping(self):
            self.server.sleep(self.server.ping_interval)
            if not self.closing and not self.closed:
                self.last_ping = time.time()
                self.send(packet.Packet(packet.PING))
    """)


# -- gevent's request buffer ----------------------------------------------------------------


def test_the_http_handler_reads_through_a_small_buffer():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        handler = pywsgi.WSGIHandler(ours, ("127.0.0.1", 1), server=None)
        default = ours.makefile("rb", -1)
        assert sys.getsizeof(handler.rfile) < sys.getsizeof(default) - 4096
        default.close()
        handler.rfile.close()
    # footprint passes its reader through this parameter of gevent's handler.
    assert "rfile" in inspect.signature(footprint._handler_init).parameters


def test_a_request_with_long_headers_and_a_chunked_body_is_read_whole():
    bodies = []

    def application(environ, start_response):
        bodies.append((environ["HTTP_COOKIE"], environ["wsgi.input"].read()))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = pywsgi.WSGIServer(("127.0.0.1", 0), application, log=None)
    server.environ = {"SERVER_NAME": "test", "SERVER_PORT": "1"}
    ours, theirs = gevent.socket.socketpair()
    cookie = "token=" + "x" * 5000  # more than twice the buffer
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (b"a" * 3000, b"b" * 7))
    request = (
        (
            "POST /api HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
            f"Cookie: {cookie}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    theirs.sendall(request)
    handler = pywsgi.WSGIHandler(ours, ("127.0.0.1", 1), server)
    gevent.spawn(handler.handle).join(timeout=5)
    answer = theirs.recv(65536)
    theirs.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
    assert bodies == [(cookie, b"a" * 3000 + b"b" * 7)]


# -- websockets read in their handler ---------------------------------------------------------


class _Peer:
    """A browser's end of a websocket: wsproto over one end of a socket pair."""

    def __init__(self, ping_interval: float | None = None) -> None:
        self.sock, server_end = socket.socketpair()
        self.ws = WSConnection(ConnectionType.CLIENT)
        offer = self.ws.send(Request(host="test", target="/socket.io/?transport=websocket"))
        headers = dict(
            line.split(": ", 1) for line in offer.decode().split("\r\n")[1:] if ": " in line
        )
        environ = {
            "SERVER_SOFTWARE": "gevent/26.9 Python/3.11",
            "wsgi.input": server_end.makefile("rb"),
            **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
        }
        self.server = WholeFrameServer(environ, ping_interval=ping_interval)
        server_end.close()  # the server works on its own duplicate, as under gevent's pywsgi
        self.sock.settimeout(5)
        assert any(isinstance(event, AcceptConnection) for event in self.events())

    def send(self, *events) -> None:
        self.sock.sendall(b"".join(self.ws.send(event) for event in events))

    def events(self) -> list:
        self.ws.receive_data(self.sock.recv(65536))
        return list(self.ws.events())


def test_a_websocket_is_read_without_a_reader_thread():
    threads = threading.active_count()
    peer = _Peer()
    assert threading.active_count() == threads  # simple-websocket would have started one
    peer.send(
        TextMessage(data="4first"),
        TextMessage(data="4sec", message_finished=False),  # one message in two frames
        TextMessage(data="ond"),
        Ping(payload=b"are you there"),
    )
    assert peer.server.receive() == "4first"
    assert peer.server.receive() == "4second"
    assert peer.server.receive(timeout=0.05) is None  # the ping is no message
    answers = peer.events()
    assert [type(event) for event in answers] == [Pong]
    assert answers[0].payload == b"are you there"
    peer.server.send("4back")
    assert [event.data for event in peer.events()] == ["4back"]
    peer.sock.close()


def test_a_websocket_closed_by_the_client_ends_and_frees_its_socket():
    peer = _Peer()
    peer.send(TextMessage(data="4last"), CloseConnection(code=1000))
    assert peer.server.receive() == "4last"
    with pytest.raises(simple_websocket.ConnectionClosed):
        peer.server.receive()
    assert peer.server.sock.fileno() == -1  # closed, as the reader thread would
    assert any(isinstance(event, CloseConnection) for event in peer.events())  # answered
    peer.sock.close()


def test_a_websocket_whose_client_vanishes_ends_and_frees_its_socket():
    peer = _Peer()
    peer.sock.close()
    with pytest.raises(simple_websocket.ConnectionClosed):
        peer.server.receive()
    assert peer.server.sock.fileno() == -1


def test_a_websocket_closed_by_the_server_ends_the_read_that_follows():
    peer = _Peer()
    peer.server.close()  # Engine.IO's writer, when the socket is closed
    with pytest.raises(simple_websocket.ConnectionClosed):
        peer.server.receive()
    assert peer.server.sock.fileno() == -1
    peer.sock.close()


def test_a_websocket_with_its_own_pings_keeps_its_reader_thread():
    peer = _Peer(ping_interval=30)
    assert isinstance(peer.server.thread, threading.Thread)
    peer.send(TextMessage(data="4hello"))
    assert peer.server.receive(timeout=5) == "4hello"
    peer.sock.close()
    peer.server.thread.join(timeout=5)


READER_LOOP = [
    "in_data = self.sock.recv(self.receive_bytes)",
    "if len(in_data) == 0:",
    "raise OSError()",
    "self.ws.receive_data(in_data)",
    "self.connected = self._handle_events()",
    "except (OSError, ConnectionResetError,",
    "LocalProtocolError):  # pragma: no cover",
    "self.connected = False",
    "self.event.set()",
    "break",
    "sel.close() if sel else None",
    "self.sock.close()",
]


def _lines_in(source: str, expected: list[str]) -> bool:
    lines = [line.strip() for line in source.splitlines()]
    return any(lines[i : i + len(expected)] == expected for i in range(len(lines)))


def test_simple_websocket_reader_loop_is_unchanged():
    """ReadsWhenAsked._read_once is this loop's body without its pings."""
    assert _lines_in(_source(simple_websocket.ws.Base._thread), READER_LOOP)
    init = _source(simple_websocket.ws.Base.__init__)
    assert "self.thread = thread_class(target=self._thread)" in init
    assert "self.thread.start()" in init


# -- Engine.IO's websocket writer waits without a timer --------------------------------------


def _writer_socket(*, service_task: bool, upgraded: bool = True) -> engineio.socket.Socket:
    # The shortest wait Engine.IO's poll allows itself: ping_interval + ping_timeout.
    server = engineio.Server(async_mode="gevent", ping_interval=0.02, ping_timeout=0.02)
    if service_task:
        server.service_task_handle = gevent.spawn(lambda: None)  # as after the first connect
    engine_socket = engineio.socket.Socket(server, "sid")
    engine_socket.connected = True
    engine_socket.upgraded = upgraded
    return engine_socket


def test_a_websocket_writer_waits_for_its_next_packet_as_long_as_it_takes():
    engine_socket = _writer_socket(service_task=True)
    waiting = gevent.spawn(engine_socket.poll)
    gevent.sleep(0.2)  # five times Engine.IO's timeout
    assert not waiting.ready()
    first = engineio.packet.Packet(engineio.packet.MESSAGE, "first")
    second = engineio.packet.Packet(engineio.packet.MESSAGE, "second")
    engine_socket.queue.put(first)
    engine_socket.queue.put(second)
    engine_socket.queue.put(None)  # closed after them
    assert waiting.get(timeout=5) == [first, second]  # in order, all that was queued
    assert engine_socket.poll() == []  # then the end, kept for the next poll
    assert engine_socket.queue.unfinished_tasks == 0  # close(wait=True) would not hang


def test_a_silent_client_still_ends_its_writer():
    """The wait's timeout is no longer what ends it: the PING left unanswered does."""
    engine_socket = _writer_socket(service_task=True)
    waiting = gevent.spawn(engine_socket.poll)
    engine_socket.last_ping = time.time() - 1  # sent, and not answered within ping_timeout
    assert engine_socket.check_ping_timeout() is False  # what Engine.IO's service task calls
    assert waiting.get(timeout=5) == []
    assert engine_socket.closed


@pytest.mark.parametrize(
    "service_task, upgraded", [(False, True), (True, False)], ids=["no service task", "polling"]
)
def test_a_poll_without_the_service_task_or_on_polling_keeps_its_timeout(service_task, upgraded):
    engine_socket = _writer_socket(service_task=service_task, upgraded=upgraded)
    with pytest.raises(engineio.exceptions.QueueEmpty):
        gevent.spawn(engine_socket.poll).get(timeout=5)


def test_engineio_poll_is_unchanged():
    """footprint._poll_without_a_timer is this without the first wait's timeout, and relies
    on the service task checking every socket's PING, started at the first connection."""
    assert _source(footprint._poll) == textwrap.dedent("""\
        def poll(self):
            \"\"\"Wait for packets to send to the client.\"\"\"
            queue_empty = self.server.get_queue_empty_exception()
            try:
                packets = [self.queue.get(
                    timeout=self.server.ping_interval + self.server.ping_timeout)]
                self.queue.task_done()
            except queue_empty:
                raise exceptions.QueueEmpty()
            if packets == [None]:
                return []
            while True:
                try:
                    pkt = self.queue.get(block=False)
                    self.queue.task_done()
                    if pkt is None:
                        self.queue.put(None)
                        break
                    packets.append(pkt)
                except queue_empty:
                    break
            return packets
    """)
    service = _source(engineio.Server._service_task)
    assert "elif not s.closing:" in service and "s.check_ping_timeout()" in service
    connect = _source(engineio.Server._handle_connect)
    assert "self.service_task_handle = self.start_background_task(" in connect


# -- a socket event's request context -------------------------------------------------------


def _request_freed_without_the_cycle_collector(app: flask.Flask, path: str) -> bool:
    """Push and pop a request context for ``path`` (as Flask-SocketIO does for each socket
    event, from the handshake's environ); True if its request is gone by reference counting."""
    environ = EnvironBuilder(path=path).get_environ()
    gc.collect()
    gc.disable()
    try:
        with app.request_context(environ) as context:
            request = weakref.ref(context.request)
            unmatched = context.request.routing_exception
            assert isinstance(unmatched, NotFound)
        del context, unmatched
        return request() is None
    finally:
        gc.enable()
        gc.collect()


def test_a_socket_event_context_is_freed_without_the_cycle_collector():
    app = flask.Flask(__name__)
    assert _request_freed_without_the_cycle_collector(app, "/socket.io/")


def test_without_the_measure_flask_leaves_a_cycle(monkeypatch):
    """Why the measure: Flask's unmatched request holds its NotFound, whose traceback holds
    the request (what gc_pacing's deferred collections then left in memory)."""
    monkeypatch.setattr(flask.ctx.RequestContext, "match_request", footprint._match_request)
    app = flask.Flask(__name__)
    assert not _request_freed_without_the_cycle_collector(app, "/socket.io/")


def test_routing_answers_are_unchanged():
    app = flask.Flask(__name__)
    app.add_url_rule("/page/", "page", lambda: "page")
    client = app.test_client()
    assert client.get("/nowhere").status_code == 404
    assert client.post("/page/").status_code == 405
    redirected = client.get("/page")  # strict slashes: Flask redirects to /page/
    assert redirected.status_code == 308
    assert redirected.headers["Location"].endswith("/page/")
    assert client.get("/page/").get_data(as_text=True) == "page"


def test_flask_match_request_still_keeps_the_routing_exception():
    """footprint._match_request_without_a_cycle relies on this method's body."""
    assert _source(footprint._match_request) == textwrap.dedent("""\
        def match_request(self) -> None:
            \"\"\"Can be overridden by a subclass to hook into the matching
            of the request.
            \"\"\"
            try:
                result = self.url_adapter.match(return_rule=True)  # type: ignore
                self.request.url_rule, self.request.view_args = result  # type: ignore
            except HTTPException as e:
                self.request.routing_exception = e
    """)


def test_a_phone_connecting_and_syncing_leaves_no_request_to_the_cycle_collector(app):
    """The app's own socket events (Flask-SocketIO's request context per event)."""
    rooms.clear()
    broadcast.reset()
    with app.app_context():
        code = workshop(make_process()).join_code
        _, token = sessions.join(code, "", "service_user")
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        client = socketio.test_client(app, auth={"role": "phone", "token": token})
        assert client.is_connected()
        client.emit("sync", callback=True)
        client.disconnect()
        gc.collect()
        left = [thing for thing in gc.garbage if isinstance(thing, flask.Request | NotFound)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        rooms.clear()
        broadcast.reset()
    assert left == []
