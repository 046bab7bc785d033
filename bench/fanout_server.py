"""The server side of ``bench.fanout``: Socket.IO on gevent with the app's transport only.

    python -m bench.fanout_server PORT

The same Socket.IO server as ``create_app`` makes (gevent, the indexed client manager, the
guarded packet class, the engine's buffer limit) and the same three transport measures
(``compress_each_message_alone``, ``harden_transport``, ``keep_connections_small``), without
the database: what is measured is what a room message costs below the application. Every
socket that connects joins session 1's phones' room; ``GET /emit?n=N&size=S[&room=R]``
sends one ``state`` (about S bytes of text, different for each N) to that room, as
``broadcast.session_changed`` does.
"""

if __name__ == "__main__":
    # Serving runs on gevent: patch the standard library before anything else is imported.
    from gevent import monkey

    monkey.patch_all()

import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

from deliberation.live import rooms  # noqa: E402
from deliberation.live.footprint import keep_connections_small  # noqa: E402
from deliberation.live.guard import TRANSPORT_MAX_BYTES, GuardedPacket  # noqa: E402
from deliberation.live.manager import IndexedManager  # noqa: E402
from deliberation.live.websocket import (  # noqa: E402
    compress_each_message_alone,
    harden_transport,
)

PHONES_ROOM = rooms.room(1, "phone")
TEXT = (
    "la commune conférence citoyenne propose que les transports publics soient gratuits "
    "pour les moins de vingt-cinq ans et que le budget soit voté chaque année par le "
    "conseil après une consultation ouverte des habitants du quartier concerné"
)


def item_text(n: int, size: int) -> str:
    """About ``size`` characters of prose, different for each ``n`` (compresses as text does)."""
    rng = random.Random(n)
    words_of_the_text = TEXT.split(" ")
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words_of_the_text)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]


def make_server() -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    socketio = SocketIO(
        app,
        async_mode="gevent",
        client_manager=IndexedManager(),
        serializer=GuardedPacket,
        max_http_buffer_size=TRANSPORT_MAX_BYTES,
    )
    compress_each_message_alone()
    harden_transport()
    keep_connections_small()

    @socketio.on("connect")
    def on_connect(auth: object = None) -> None:
        join_room(PHONES_ROOM)

    @app.get("/emit")
    def emit() -> str:
        n = int(request.args["n"])
        text = item_text(n, int(request.args["size"]))
        # The clock on which the clients measure how long the whole room took (loopback).
        state = {"session": 1, "generation": n, "sent_at": time.time()}
        state["poll"] = {"id": n, "text": text}
        socketio.emit("state", state, to=request.args.get("room", PHONES_ROOM))
        return "sent"

    return app, socketio


if __name__ == "__main__":
    app, socketio = make_server()
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False)
