"""Websocket compression as phone browsers negotiate it, against the server as deployed."""

from __future__ import annotations

import socket

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate


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
