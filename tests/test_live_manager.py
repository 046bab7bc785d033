"""The indexed Socket.IO client managers (deliberation/live/manager.py) against
python-socketio's own: same rooms, same get_rooms, same pending connect/disconnect
semantics, after the same operations; and the app built by create_app uses them."""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
import socketio as python_socketio

from deliberation.extensions import db, socketio
from deliberation.live import rooms
from deliberation.live.manager import IndexedManager, IndexedRedisManager
from deliberation.services.live import sessions
from tests.conftest import REDIS_URL, make_app, redis_available
from tests.live_fixtures import free_item, make_process, workshop


def _bind(manager: Any) -> Any:
    """A stand-in server: the managers only need sids (deterministic here) and json."""
    ids = itertools.count(1)
    server = SimpleNamespace(
        eio=SimpleNamespace(generate_id=lambda: f"s{next(ids)}"),
        packet_class=SimpleNamespace(json=json),
    )
    manager.set_server(server)
    return manager


def _pair() -> tuple[python_socketio.Manager, IndexedManager]:
    return _bind(python_socketio.Manager()), _bind(IndexedManager())


def _pending(pending: dict) -> dict:
    # The base keeps lists (a sid can be listed twice), the indexed manager {sid: count}.
    return {
        ns: dict(Counter(sids) if isinstance(sids, list) else sids) for ns, sids in pending.items()
    }


def _rooms(manager: Any) -> dict:
    # Room order included: get_rooms follows it.
    return {
        ns: [(room, dict(members)) for room, members in ns_rooms.items()]
        for ns, ns_rooms in manager.rooms.items()
    }


def _assert_index_consistent(manager: IndexedManager) -> None:
    expected: dict = {}
    for ns, ns_rooms in manager.rooms.items():
        for room, members in ns_rooms.items():
            for sid in members:
                expected.setdefault(ns, {}).setdefault(sid, set()).add(room)
    assert {
        ns: {sid: set(r) for sid, r in index.items()} for ns, index in manager._sid_rooms.items()
    } == expected
    assert {ns: list(order) for ns, order in manager._room_order.items()} == {
        ns: list(ns_rooms) for ns, ns_rooms in manager.rooms.items()
    }
    for order in manager._room_order.values():
        assert list(order.values()) == sorted(order.values())


def _assert_same(base: Any, indexed: IndexedManager, sids: list, namespaces: list) -> None:
    assert _rooms(indexed) == _rooms(base)
    assert _pending(indexed.pending_connect) == _pending(base.pending_connect)
    assert _pending(indexed.pending_disconnect) == _pending(base.pending_disconnect)
    assert set(indexed.callbacks) == set(base.callbacks)
    for ns in namespaces:
        for sid in sids:
            assert indexed.get_rooms(sid, ns) == base.get_rooms(sid, ns), (sid, ns)
            assert indexed.is_connected(sid, ns) == base.is_connected(sid, ns), (sid, ns)
            assert indexed.is_pre_connected(sid, ns) == base.is_pre_connected(sid, ns), (sid, ns)
    _assert_index_consistent(indexed)


def _call(manager: Any, method: str, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", getattr(manager, method)(*args)
    except Exception as error:  # the same refusals from both, by type
        return "raised", type(error)


def test_random_operations_leave_both_managers_in_the_same_state():
    rng = random.Random(20261122)
    namespaces = ["/", "/projector"]
    base, indexed = _pair()
    sids: list = []
    eio_ids = [f"e{n}" for n in range(12)]
    app_rooms = ["session:1:phones", "session:1:screens", "participant:1", "participant:2"]
    seen: Counter = Counter()
    for step in range(3000):
        # Recent sids (older ones are mostly gone), plus None and a sid nobody has.
        recent = sids[-15:] + [None, "ghost"]
        ns = rng.choice(namespaces)
        sid = rng.choice(recent)
        op = rng.randrange(100)
        if op < 12:
            call = ("pre_connect", rng.choice(eio_ids), ns)  # a reused eio_sid: refused
        elif op < 20:
            # connect a pre-connected sid, or (with an eio_sid) a complete connection
            call = ("connect", sid if rng.random() < 0.7 else rng.choice(eio_ids), ns)
        elif op < 50:
            room = rng.choice(app_rooms + [rng.choice(recent)])  # a sid room: refused
            call = ("enter_room", sid, ns, room)
        elif op < 62:
            call = ("leave_room", sid, ns, rng.choice(app_rooms + [sid, None]))
        elif op < 66:
            call = ("close_room", rng.choice(app_rooms + [sid]), ns)
        elif op < 76:
            call = ("pre_disconnect", sid, ns)
        elif op < 92:
            call = ("disconnect", sid, ns)
        elif op < 96:
            call = ("_generate_ack_id", sid, print)
        else:
            call = ("get_rooms", sid, ns)
        outcome = _call(base, *call)
        assert _call(indexed, *call) == outcome, (step, call)
        seen[call[0], outcome[0] if outcome[0] == "ok" else outcome[1].__name__] += 1
        new_sid = outcome[1] if call[0] in ("pre_connect", "connect") else None
        if outcome[0] == "ok" and new_sid and new_sid not in sids:
            sids.append(new_sid)
        if call[0] == "pre_connect" and outcome == ("ok", None):
            seen["pre_connect", "refused"] += 1
        _assert_same(base, indexed, sids if step % 250 == 0 else recent, namespaces)
    _assert_same(base, indexed, sids + [None, "ghost"], namespaces)
    # The sequence did exercise the cases it is meant to, refusals included.
    assert len(sids) > 100
    for case in [
        ("pre_connect", "refused"),
        ("enter_room", "ValueError"),  # a sid room, or a namespace nobody is in
        ("enter_room", "KeyError"),  # an unknown sid: the base leaves an empty room
        ("close_room", "ValueError"),
        ("pre_disconnect", "KeyError"),
        ("disconnect", "ok"),
    ]:
        assert seen[case] > 0, (case, seen)


def test_rooms_are_indexed_on_enter_leave_and_close():
    manager = _bind(IndexedManager())
    a = manager.connect("eio-a", "/")  # complete connection
    b = manager.connect("eio-b", "/")
    manager.enter_room(a, "/", "session:1:phones")
    manager.enter_room(a, "/", "participant:1")
    manager.enter_room(b, "/", "session:1:phones")
    assert manager._sid_rooms["/"][a].keys() == {None, a, "session:1:phones", "participant:1"}
    assert manager.get_rooms(a, "/") == [a, "session:1:phones", "participant:1"]

    manager.leave_room(a, "/", "participant:1")
    assert "participant:1" not in manager.rooms["/"]
    assert manager.get_rooms(a, "/") == [a, "session:1:phones"]

    manager.close_room("session:1:phones", "/")
    assert "session:1:phones" not in manager.rooms["/"]
    assert manager.get_rooms(a, "/") == [a]
    assert manager.get_rooms(b, "/") == [b]
    _assert_index_consistent(manager)
    with pytest.raises(ValueError):
        manager.close_room(a, "/")  # a sid room, as the base refuses


def test_get_rooms_keeps_the_base_order_when_a_room_is_recreated():
    base, indexed = _pair()
    for manager in (base, indexed):
        a = manager.connect("eio-a", "/")
        b = manager.connect("eio-b", "/")
        manager.enter_room(b, "/", "x")
        manager.enter_room(a, "/", "y")
        manager.enter_room(a, "/", "x")  # a entered y first, but x was created first
        manager.leave_room(b, "/", "x")
        manager.leave_room(a, "/", "x")  # x deleted...
        manager.enter_room(a, "/", "x")  # ...and re-created: now after y
    assert indexed.get_rooms("s1", "/") == base.get_rooms("s1", "/") == ["s1", "y", "x"]


def test_disconnect_leaves_every_room_and_the_index():
    manager = _bind(IndexedManager())
    sids = [manager.connect(f"eio-{n}", "/") for n in range(3)]
    for n, sid in enumerate(sids):
        manager.enter_room(sid, "/", "session:1:phones")
        manager.enter_room(sid, "/", f"participant:{n}")
    manager._generate_ack_id(sids[0], print)

    assert manager.pre_disconnect(sids[0], "/") == "eio-0"
    manager.disconnect(sids[0], "/")
    assert all(sids[0] not in members for members in manager.rooms["/"].values())
    assert "participant:0" not in manager.rooms["/"] and sids[0] not in manager.rooms["/"]
    assert sids[0] not in manager._sid_rooms["/"]
    assert sids[0] not in manager.callbacks
    assert manager.pending_disconnect == {}
    assert manager.get_rooms(sids[0], "/") == []

    for sid in sids[1:]:
        manager.pre_disconnect(sid, "/")
        manager.disconnect(sid, "/")
    # Nothing left anywhere: no namespace, no index, no room order.
    assert manager.rooms == {} and manager._sid_rooms == {} and manager._room_order == {}


def test_pending_connect_and_disconnect():
    manager = _bind(IndexedManager())
    sid = manager.pre_connect("eio-1", "/")
    assert sid == "s1"
    assert manager.pre_connect("eio-1", "/") is None  # that engine.io socket is already in
    # In the connect handler: pre-connected, not yet connected.
    assert manager.is_pre_connected(sid, "/") and not manager.is_connected(sid, "/")
    assert manager.pending_connect == {"/": {sid: 1}}
    assert manager.connect(sid, "/") == sid
    assert manager.pending_connect == {}
    assert manager.is_connected(sid, "/") and not manager.is_pre_connected(sid, "/")

    # In the disconnect handler: still in its rooms, no longer connected.
    assert manager.pre_disconnect(sid, "/") == "eio-1"
    assert not manager.is_connected(sid, "/")
    assert manager.get_rooms(sid, "/") == [sid]
    assert manager.eio_sid_from_sid(sid, "/") == "eio-1"
    manager.disconnect(sid, "/")
    assert manager.pending_disconnect == {} and not manager.is_connected(sid, "/")

    # A connection refused by the connect handler: disconnected while pending.
    refused = manager.pre_connect("eio-2", "/")
    manager.disconnect(refused, "/")
    assert manager.pending_connect == {} and manager.rooms == {}


def test_a_sid_listed_twice_for_disconnect_stays_listed_once_as_in_the_base():
    base, indexed = _pair()
    for manager in (base, indexed):
        sid = manager.connect("eio-1", "/")
        other = manager.connect("eio-2", "/")  # keeps the namespace alive
        manager.pre_disconnect(sid, "/")
        manager.pre_disconnect(sid, "/")
        manager.disconnect(sid, "/")
    assert _pending(indexed.pending_disconnect) == _pending(base.pending_disconnect)
    assert indexed.pending_disconnect == {"/": {sid: 1}}
    assert not indexed.is_connected(other, "/") is base.is_connected(other, "/") is False


# --- the app ----------------------------------------------------------------------------


def test_the_app_uses_the_indexed_manager_and_a_phone_leaves_no_trace(app):
    manager = socketio.server.manager
    assert type(manager) is IndexedManager
    rooms.clear()
    with app.app_context():
        session = workshop(make_process())
        free_item(session, "Shall we open on Sundays?")
        participant, token = sessions.join(session.join_code, "", "service_user")
        session_id, participant_id = session.id, participant.id
    client = socketio.test_client(app, auth={"role": "phone", "token": token})
    try:
        assert client.is_connected()
        sid = manager.sid_from_eio_sid(client.eio_sid, "/")
        # The rooms the phone's connect handler joined, as the base class would list them.
        assert manager.get_rooms(sid, "/") == python_socketio.Manager.get_rooms(manager, sid, "/")
        assert set(manager.get_rooms(sid, "/")) == {
            sid,
            rooms.room(session_id, "phone"),
            rooms.participant_room(participant_id),
        }
        client.disconnect()
        assert manager.get_rooms(sid, "/") == []
        assert sid not in manager._sid_rooms.get("/", {})
        assert all(sid not in members for members in manager.rooms.get("/", {}).values())
        assert manager.pending_connect == {} and manager.pending_disconnect == {}
    finally:
        rooms.clear()
        with app.app_context():
            db.session.remove()


def test_the_app_with_a_redis_queue_uses_the_indexed_redis_manager(tmp_path):
    import flask
    import flask_socketio

    channel = f"deliberation-test-{uuid.uuid4().hex}"
    app = make_app(tmp_path, SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=channel)
    manager = socketio.server.manager
    assert type(manager) is IndexedRedisManager

    # Built as Flask-SocketIO 5.7 builds its own from message_queue and channel.
    reference = flask_socketio.SocketIO()
    reference.init_app(
        flask.Flask(__name__), async_mode="gevent", message_queue=REDIS_URL, channel=channel
    )
    theirs = reference.server.manager
    assert type(theirs) is python_socketio.RedisManager
    for attribute in ("redis_url", "channel", "write_only", "redis_options", "json", "logger"):
        assert getattr(manager, attribute) == getattr(theirs, attribute), attribute
    assert manager.channel == channel and manager.write_only is False

    reason = redis_available()
    if reason:
        print(f"Redis part skipped: {reason}")
        pytest.skip(reason)
    import redis

    # A room change for a socket of another process goes out on our channel of our Redis.
    listener = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    try:
        manager.enter_room("sid-on-another-process", "/", "participant:7")
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            # None also for the subscription's confirmation, which is skipped.
            message = listener.get_message(timeout=1)
        assert message is not None and message["channel"] == channel.encode()
        published = json.loads(message["data"])
        assert published["method"] == "enter_room"
        assert published["sid"] == "sid-on-another-process"
        assert published["room"] == "participant:7"
        assert published["host_id"] == manager.host_id
    finally:
        listener.close()
        if manager.redis is not None:
            manager.redis.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_message_to_a_socket_of_this_process_is_not_published(tmp_path, monkeypatch):
    """With a Redis queue, a message to one socket of this process is delivered here only;
    one to a room, or to a socket this process does not hold, still goes to the others."""
    reason = redis_available()
    if reason:
        pytest.skip(reason)
    channel = f"deliberation-test-{uuid.uuid4().hex}"
    app = make_app(tmp_path, SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=channel)
    manager = socketio.server.manager
    published, delivered = [], []
    monkeypatch.setattr(manager, "_publish", published.append)
    monkeypatch.setattr(
        manager.server, "_send_eio_packet", lambda eio_sid, _packet: delivered.append(eio_sid)
    )
    try:
        here = manager.connect("eio-here", "/")
        connecting = manager.pre_connect("eio-connecting", "/")
        manager.enter_room(here, "/", "session:1:phone", eio_sid="eio-here")
        published.clear()
        manager.emit("state", {"a": 1}, "/", to=here)
        manager.emit("state", {"a": 2}, "/", to=connecting)
        assert published == [] and delivered == ["eio-here", "eio-connecting"]
        manager.emit("state", {"a": 3}, "/", to="session:1:phone")
        manager.emit("state", {"a": 4}, "/", to="sid-of-another-process")
        assert [message["room"] for message in published] == [
            "session:1:phone",
            "sid-of-another-process",
        ]
    finally:
        if manager.redis is not None:
            manager.redis.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
