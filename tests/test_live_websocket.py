"""Websocket compression as phone browsers negotiate it, against the server as deployed;
a room message framed once for all its sockets, and written whole."""

from __future__ import annotations

import _socket
import inspect
import socket
import textwrap
from typing import Any

import engineio.packet
import engineio.socket
import gevent
import gevent.socket
import pytest
import simple_websocket.ws
import socketio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol

from deliberation.live import websocket
from deliberation.live.websocket import (
    SharedFrames,
    WholeFrameServer,
    frame_form,
    per_message_deflate,
)


def test_a_browser_offering_deflate_gets_each_message_compressed_alone(live_server):
    """Context takeover would keep a zlib compressor (~256 KiB) per phone for hours."""
    client = WSConnection(ConnectionType.CLIENT)
    offer = PerMessageDeflate()  # what Chromium and Firefox offer: context takeover allowed
    events = []
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(
            client.send(
                Request(
                    host=f"127.0.0.1:{live_server.port}",
                    target="/socket.io/?EIO=4&transport=websocket",
                    extensions=[offer],
                )
            )
        )
        while not any(isinstance(event, TextMessage) for event in events):
            data = sock.recv(65536)
            assert data, "the server closed the connection"
            client.receive_data(data)
            events.extend(client.events())
    accepted = next(event for event in events if isinstance(event, AcceptConnection))
    assert [type(extension) for extension in accepted.extensions] == [PerMessageDeflate]
    assert offer.server_no_context_takeover and offer.client_no_context_takeover
    # The first message (Engine.IO's "open", compressed by the server) reads back.
    opening = next(event for event in events if isinstance(event, TextMessage))
    assert opening.data.startswith('0{"sid":')


def test_messages_that_fit_in_one_packet_are_sent_uncompressed():
    """Compressing an acknowledgement costs both ends CPU and saves no airtime."""
    from deliberation.live.websocket import MIN_COMPRESSED_BYTES, per_message_deflate

    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(
        client.send(Request(host="x", target="/", extensions=[PerMessageDeflate()]))
    )
    request = next(event for event in server.events() if isinstance(event, Request))
    assert request.extensions
    client.receive_data(server.send(AcceptConnection(extensions=[per_message_deflate()])))
    assert any(isinstance(event, AcceptConnection) for event in client.events())

    ack = '43[{"ok":true,"ballot_id":"b3f1c2d4e5","duplicate":false}]'
    state = '42["state",' + '"' + "Le champ de l'insertion professionnelle. " * 60 + '"]'
    assert len(ack) < MIN_COMPRESSED_BYTES < len(state)
    for text, compressed in ((ack, False), (state, True)):
        frame = server.send(TextMessage(data=text))
        assert bool(frame[0] & 0x40) is compressed  # RSV1: this message is compressed
        assert (len(frame) < len(text)) is compressed
        client.receive_data(frame)
        received = [event for event in client.events() if isinstance(event, TextMessage)]
        assert "".join(event.data for event in received) == text


def _deflating_pair():
    from deliberation.live.websocket import per_message_deflate

    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(
        client.send(Request(host="x", target="/", extensions=[PerMessageDeflate()]))
    )
    next(event for event in server.events() if isinstance(event, Request))
    client.receive_data(server.send(AcceptConnection(extensions=[per_message_deflate()])))
    list(client.events())
    return client, server


def test_a_message_to_a_whole_room_is_compressed_once(monkeypatch):
    """A poll opening sends the same state to every phone: one compression, not 2,000."""
    import zlib

    from deliberation.live import websocket

    made: list[int] = []
    compressobj = zlib.compressobj
    monkeypatch.setattr(websocket.CompressLongMessages, "_last", None)
    monkeypatch.setattr(
        "wsproto.extensions.zlib.compressobj",
        lambda *args: made.append(1) or compressobj(*args),
    )
    state = '42["state",' + '"' + "Le champ de l'insertion professionnelle. " * 60 + '"]'
    other = state.replace("insertion", "formation")
    pairs = [_deflating_pair() for _ in range(3)]
    for text, compressions in ((state, 1), (other, 2), (state, 3)):
        for client, server in pairs:
            frame = server.send(TextMessage(data=text))
            assert frame[0] & 0x40  # compressed
            client.receive_data(frame)
            received = [event for event in client.events() if isinstance(event, TextMessage)]
            assert "".join(event.data for event in received) == text
        assert len(made) == compressions, "each message compressed once for all the sockets"


# -- one frame per room message (docs/benchmarks.md, "One message to a room") -----------------

LONG_STATE = '42["state",' + '"' + "Le champ de l'insertion professionnelle. " * 60 + '"]'
ACK = '43[{"ok":true,"ballot_id":"b3f1c2d4e5","duplicate":false}]'


def _server_of(client: WSConnection, server_end: Any, offer: list | None = None) -> Any:
    """The server's end of a websocket whose browser (``client``) asks to upgrade, with
    ``offer``'s extensions, as gevent's handler hands the request to simple-websocket."""
    request = client.send(Request(host="test", target="/", extensions=offer or []))
    headers = dict(
        line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line
    )
    environ = {
        "SERVER_SOFTWARE": "gevent/26.9 Python/3.11",
        "wsgi.input": server_end.makefile("rb"),
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    server = WholeFrameServer(environ)
    server_end.close()
    return server


class _Phone:
    """A browser's end of a websocket (wsproto over a socket pair), against the server class
    Engine.IO uses once the app is made (``WholeFrameServer``)."""

    def __init__(self, offer: list | None = None) -> None:

        self.sock, server_end = socket.socketpair()
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.server = _server_of(self.ws, server_end, offer)
        self.sock.settimeout(5)
        self.frames: list[bytes] = []
        assert any(isinstance(event, AcceptConnection) for event in self.events())

    def events(self) -> list:
        data = self.sock.recv(1 << 20)
        self.frames.append(data)
        self.ws.receive_data(data)
        return list(self.ws.events())

    def messages(self, count: int) -> list[str]:
        received: list[str] = []
        while len(received) < count:
            received += [event.data for event in self.events() if isinstance(event, TextMessage)]
        return received


@pytest.fixture
def frames_built(monkeypatch):
    """Frames wsproto serialises on the server's side, with a fresh cache of shared frames."""
    # What create_app does (compress_each_message_alone), undone after the test.
    monkeypatch.setattr(simple_websocket.ws, "PerMessageDeflate", websocket.per_message_deflate)
    monkeypatch.setattr(websocket, "shared_frames", websocket.SharedFrames())
    built: list[bytes] = []
    serialize = FrameProtocol._serialize_frame

    def counting(proto, *args, **kwargs):
        frame = serialize(proto, *args, **kwargs)
        if not proto.client:
            built.append(bytes(frame))
        return frame

    monkeypatch.setattr(FrameProtocol, "_serialize_frame", counting)
    return built


def test_a_room_message_is_framed_once_per_kind_of_socket(frames_built):
    """2,000 phones, one state: wsproto built the same frame 2,000 times."""
    plain = [_Phone() for _ in range(3)]
    deflating = [_Phone(offer=[PerMessageDeflate()]) for _ in range(2)]
    frames_built.clear()  # the handshakes
    for phone in plain + deflating:
        phone.server.send(LONG_STATE)
    assert len(frames_built) == 2, "one frame per kind of socket, not one per socket"
    plain[0].server.send(ACK)  # a message to one socket, between two room messages
    for phone in plain + deflating:
        phone.server.send("2")
    assert len(frames_built) == 5
    for phone in plain + deflating:
        expected = [LONG_STATE, ACK, "2"] if phone is plain[0] else [LONG_STATE, "2"]
        assert phone.messages(len(expected)) == expected  # whole, and in order
        compressed = phone in deflating
        assert bool(phone.frames[1][0] & 0x40) is compressed  # RSV1 as the socket agreed
        phone.sock.close()


def test_a_frame_is_shared_only_between_sockets_that_agreed_the_same_extensions():

    def agreed(offer: list, accepted: list) -> WSConnection:
        client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
        server.receive_data(client.send(Request(host="x", target="/", extensions=offer)))
        next(event for event in server.events() if isinstance(event, Request))
        client.receive_data(server.send(AcceptConnection(extensions=accepted)))
        return server

    assert frame_form(agreed([], [])) == ()
    ours = frame_form(agreed([PerMessageDeflate()], [per_message_deflate()]))
    assert ours == (("permessage-deflate", 15),)
    # A client may ask for a smaller window: a different compressed form.
    smaller_window = PerMessageDeflate(server_max_window_bits=10)
    form = frame_form(agreed([smaller_window], [per_message_deflate()]))
    assert form == (("permessage-deflate", 10),)
    # wsproto's own deflate keeps a compressor between messages: frames of its own.
    assert frame_form(agreed([PerMessageDeflate()], [PerMessageDeflate()])) is None


def test_a_message_too_large_to_keep_is_framed_for_each_socket(frames_built):

    phones = [_Phone(), _Phone()]
    frames_built.clear()
    large = "4" + "x" * SharedFrames.MAX_MESSAGE_CHARS
    for phone in phones:
        phone.server.send(large)
        assert phone.messages(1) == [large]
        phone.sock.close()
    assert len(frames_built) == 2


# -- the library behaviour the shared frames rely on (an upgrade that changes it fails here) --


def test_a_servers_frame_depends_only_on_the_message_and_the_agreed_extensions():
    """What makes a frame built by one socket's wsproto right for another of its form."""

    def frames(history: list[str]) -> list[bytes]:
        client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
        server.receive_data(
            client.send(Request(host="x", target="/", extensions=[PerMessageDeflate()]))
        )
        next(event for event in server.events() if isinstance(event, Request))
        client.receive_data(server.send(AcceptConnection(extensions=[per_message_deflate()])))
        for text in history:  # a past: messages received and sent
            server.receive_data(client.send(TextMessage(data=text)))
            list(server.events())
            server.send(TextMessage(data=text))
        return [bytes(server.send(TextMessage(data=text))) for text in (LONG_STATE, ACK)]

    assert frames([]) == frames([LONG_STATE.replace("champ", "chant"), ACK, "x" * 5000])


def test_a_room_message_reaches_each_websocket_as_the_same_string():
    """python-socketio builds one Engine.IO packet per room message and hands it to every
    socket; Engine.IO's packet caches its encoding; its websocket writer sends that string."""

    packet = engineio.packet.Packet(engineio.packet.MESSAGE, '2["state",{}]')
    assert packet.encode() is packet.encode()
    emit = inspect.getsource(socketio.Manager.emit)
    assert "eio_pkt = [eio_packet.Packet(eio_packet.MESSAGE, p)" in emit
    assert "self.server._send_eio_packet(eio_sid, p)" in emit
    # The library's own handler (create_app, run by other tests of this process, installs
    # ours in its place; live/websocket.py keeps the library's).
    handler = websocket._engineio_websocket_handler
    assert handler.__module__ == "engineio.socket"
    assert "ws.send(pkt.encode())" in inspect.getsource(handler)


def test_simple_websocket_send_is_unchanged():
    """WholeFrameServer.send is this, the frame taken from the shared ones when it can."""

    body = textwrap.dedent(inspect.getsource(simple_websocket.ws.Base.send).split('"""')[-1])
    assert body == textwrap.dedent("""
        if not self.connected:
            raise ConnectionClosed(self.close_reason, self.close_message)
        if isinstance(data, bytes):
            out_data = self.ws.send(Message(data=data))
        else:
            out_data = self.ws.send(TextMessage(data=str(data)))
        self.sock.send(out_data)
    """)


# -- whole frames, written without a timer when the kernel takes them -------------------------


@pytest.fixture
def gevent_pair(monkeypatch):
    """Both ends of a gevent socket pair, the server's wrapped as under gevent."""

    monkeypatch.setattr(websocket, "gevent_patched", lambda: True)
    ours, theirs = gevent.socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    yield websocket.WholeFrameSocket(ours), theirs
    ours.close()
    theirs.close()


def test_a_frame_the_kernel_takes_at_once_is_written_without_a_timer(gevent_pair, monkeypatch):

    class NoTimer:
        def __init__(self, *args):
            raise AssertionError("a timer was set for a frame the kernel took at once")

    written, reader = gevent_pair
    monkeypatch.setattr(gevent, "Timeout", NoTimer)
    assert written.send(b"frame") == 5
    assert reader.recv(100) == b"frame"


def test_a_frame_larger_than_the_buffers_is_written_whole(gevent_pair):

    written, reader = gevent_pair
    frame = bytes(range(256)) * 4096  # 1 MiB: many times the buffers
    received = bytearray()

    def read() -> None:
        while len(received) < len(frame):
            received.extend(reader.recv(65536))

    reading = gevent.spawn(read)
    assert written.send(frame) == len(frame)
    reading.join(timeout=10)
    assert bytes(received) == frame


def test_a_reader_that_takes_nothing_is_given_up(gevent_pair, monkeypatch):

    monkeypatch.setattr(websocket, "SLOW_READER_TIMEOUT_S", 0.2)
    written, _reader = gevent_pair
    with pytest.raises(BrokenPipeError):
        written.send(b"x" * (1 << 20))
    with pytest.raises(BrokenPipeError):  # nothing may follow half a frame
        written.send(b"next")


def test_a_socket_of_another_kind_is_written_through_its_own_sendall(monkeypatch):
    """A TLS socket (gevent.ssl's, a subclass) must never be written to below its TLS."""

    class Wrapping(gevent.socket.socket):
        sent: list[bytes] = []

        def sendall(self, data, flags=0):
            self.sent.append(bytes(data))

    monkeypatch.setattr(websocket, "gevent_patched", lambda: True)
    ours, theirs = gevent.socket.socketpair()
    wrapping = Wrapping(fileno=ours.detach())
    with wrapping, theirs:
        assert websocket.WholeFrameSocket(wrapping).send(b"frame") == 5
        assert Wrapping.sent == [b"frame"]


def test_gevent_sockets_wrap_a_non_blocking_socket():
    """WholeFrameSocket's first write goes straight to it."""

    ours, theirs = gevent.socket.socketpair()
    with ours, theirs:
        assert isinstance(ours._sock, _socket.socket)
        assert ours._sock.gettimeout() == 0.0


# -- a frame written by the sender when nothing is waiting -------------------------------------


class _GeventPhone:
    """A browser on a gevent socket pair, and Engine.IO's socket of its websocket (as its
    handler leaves it: upgraded, its WholeFrameServer known), without a writer greenlet."""

    def __init__(self, buffers: int | None = None) -> None:
        self.sock, server_end = gevent.socket.socketpair()
        if buffers:
            server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffers)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffers)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.server = _server_of(self.ws, server_end)
        self.sock.settimeout(5)
        self.ws.receive_data(self.sock.recv(65536))
        assert any(isinstance(event, AcceptConnection) for event in self.ws.events())
        self.engine = engineio.socket.Socket(engineio.Server(async_mode="gevent"), "sid")
        self.engine.connected = self.engine.upgraded = True
        self.engine.writes_at_once = self.server

    def messages(self, count: int) -> list[str]:
        received: list[str] = []
        part = ""
        while len(received) < count:
            self.ws.receive_data(self.sock.recv(1 << 20))
            for event in self.ws.events():
                if isinstance(event, TextMessage):  # wsproto hands a long one in parts
                    part += event.data
                    if event.message_finished:
                        received.append(part)
                        part = ""
        return received

    def close(self) -> None:
        self.sock.close()
        self.server.sock.close()


def _message(text: str) -> engineio.packet.Packet:
    return engineio.packet.Packet(engineio.packet.MESSAGE, text)


@pytest.fixture
def at_once(monkeypatch):
    monkeypatch.setattr(websocket, "gevent_patched", lambda: True)  # gevent's sockets
    monkeypatch.setattr(engineio.socket.Socket, "send", websocket._send_at_once_or_queue)
    monkeypatch.setattr(websocket, "shared_frames", SharedFrames())
    phones: list[_GeventPhone] = []
    yield lambda **kwargs: phones.append(_GeventPhone(**kwargs)) or phones[-1]
    for phone in phones:
        phone.close()


def test_a_websocket_with_nothing_waiting_is_written_by_the_sender(at_once):
    phone = at_once()
    phone.engine.send(_message('2["state",{"generation":1}]'))
    assert phone.engine.queue.qsize() == 0  # no writer greenlet woken for it
    assert phone.messages(1) == ['42["state",{"generation":1}]']


def test_a_message_behind_queued_ones_is_queued_behind_them(at_once):
    phone = at_once()
    first, second = _message("2first"), _message("2second")
    phone.engine.queue.put(first)  # not written yet by the socket's writer
    phone.engine.send(second)
    assert [phone.engine.queue.get_nowait(), phone.engine.queue.get_nowait()] == [first, second]


@pytest.mark.parametrize("busy", ["a frame being written", "an upgrade under way"])
def test_a_websocket_busy_gets_its_message_through_the_queue(at_once, busy):
    phone = at_once()
    if busy == "a frame being written":
        phone.server.sock._write.acquire()
    else:
        phone.engine.upgrading = True
    message = _message("2ack")
    phone.engine.send(message)
    assert phone.engine.queue.get_nowait() is message


def test_a_frame_the_kernel_takes_in_part_is_finished_before_anything_follows(at_once):
    phone = at_once(buffers=4096)
    long_state = "2" + "état de la session " * 3000  # 54 KiB: many times the buffers
    phone.engine.send(_message(long_state))
    assert phone.engine.queue.qsize() == 0  # sent: the rest is being finished
    ack = _message("2ack")
    phone.engine.send(ack)
    assert phone.engine.queue.get_nowait() is ack  # not into the middle of the frame
    assert phone.messages(1) == ["4" + long_state]  # whole (read while it is finished)
    phone.server.send(ack.encode())  # what the writer then does, the lock given back
    assert phone.messages(1) == ["42ack"]


def test_a_reader_that_takes_nothing_holds_no_sender(at_once, monkeypatch):
    monkeypatch.setattr(websocket, "SLOW_READER_TIMEOUT_S", 0.2)
    phone = at_once(buffers=4096)
    phone.engine.send(_message("2" + "x" * 60000))  # returns: the rest is not its to wait on
    gevent.sleep(0.5)
    assert phone.server.sock._broken  # given up, as the writer would
    assert phone.server.sock._write.acquire(blocking=False)  # and the lock given back


def test_engineio_send_and_its_websocket_handler_are_unchanged():
    """_send_at_once_or_queue is Engine.IO's send with the write done at once when it can;
    the websocket handler gets SimpleWebSocketWSGI, whose .ws is simple-websocket's server."""
    from engineio.async_drivers import _websocket_wsgi

    assert textwrap.dedent(inspect.getsource(websocket._engineio_send)) == textwrap.dedent('''\
        def send(self, pkt):
            """Send a packet to the client."""
            if not self.check_ping_timeout():
                return
            else:
                self.queue.put(pkt)
            self.server.logger.info('%s: Sending packet %s data %s',
                                    self.sid, packet.packet_names[pkt.packet_type],
                                    pkt.data if not isinstance(pkt.data, bytes)
                                    else '<binary>')
    ''')
    call = inspect.getsource(_websocket_wsgi.SimpleWebSocketWSGI.__call__)
    assert "self.ws = simple_websocket.Server(environ, **self.server_args)" in call
    assert "ret = self.app(self)" in call
    upgrade = inspect.getsource(engineio.socket.Socket._upgrade_websocket)
    assert "self._websocket_handler, self.server)" in upgrade
