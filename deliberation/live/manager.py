"""Socket.IO client managers whose disconnect costs O(rooms of the socket), not O(all rooms).

python-socketio 5.18's ``BaseManager.basic_disconnect`` copies and scans every room of the
namespace for each disconnecting socket, ``get_rooms`` scans them all too, and the
pending connect/disconnect bookkeeping is kept in lists (``sid in list``, ``list.remove``).
With one room per socket, one per participant and a few role rooms (~6,000 rooms for a
hall of 2,000 phones), a hall reconnecting at once is quadratic.

:class:`IndexedRoomsMixin` keeps, per namespace, an index ``sid -> rooms`` maintained where
the base class changes ``self.rooms`` (``basic_enter_room`` / ``basic_leave_room``;
``basic_close_room`` goes through ``basic_leave_room``) and keeps the pending sids in
multisets (``{sid: count}``: same semantics as the lists, which can hold a sid twice).
Everything else — ``self.rooms``, emits, the pub/sub protocol — is the base class's.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any

import socketio
from bidict import ValueDuplicationError

from . import phone_states, rooms

Room = Hashable  # None (every connected sid), a sid, or an application room name
Pending = dict[str, dict[str, int]]  # namespace -> sid -> times listed


def _add(pending: Pending, namespace: str, sid: str) -> None:
    counts = pending.setdefault(namespace, {})
    counts[sid] = counts.get(sid, 0) + 1


def _discard_one(pending: Pending, namespace: str, sid: str) -> None:
    """Like the base's ``list.remove`` guarded by ``in``: one occurrence, if any."""
    counts = pending.get(namespace)
    if counts is None or sid not in counts:
        return
    if counts[sid] > 1:
        counts[sid] -= 1
    else:
        del counts[sid]
        if not counts:
            del pending[namespace]


def _listed(pending: Pending, namespace: str, sid: str) -> bool:
    counts = pending.get(namespace)
    return counts is not None and sid in counts


class IndexedRoomsMixin:
    """Put before a ``socketio.Manager`` subclass: ``class X(IndexedRoomsMixin, Manager)``."""

    rooms: dict[str, dict[Room, Any]]
    pending_connect: Pending
    pending_disconnect: Pending
    callbacks: dict[str, Any]
    server: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # namespace -> sid -> rooms the sid is in (a dict used as an insertion-ordered set).
        self._sid_rooms: dict[str, dict[str, dict[Room, None]]] = {}
        # namespace -> room -> creation number: get_rooms returns rooms in the order of
        # self.rooms[namespace] (creation order, a re-created room goes last), as the base does.
        self._room_order: dict[str, dict[Room, int]] = {}
        self._room_counter = itertools.count()

    # --- the index -------------------------------------------------------------------

    def _note_room(self, namespace: str, room: Room) -> None:
        ns = self.rooms.get(namespace)
        if ns is not None and room in ns:
            order = self._room_order.setdefault(namespace, {})
            if room not in order:
                order[room] = next(self._room_counter)

    def basic_enter_room(self, sid: str, namespace: str, room: Room, eio_sid: str | None = None):
        try:
            result = super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        except KeyError:
            # The base creates the room before looking the sid up (unknown sid: KeyError) and
            # leaves it empty in self.rooms; keep its place in the order all the same.
            self._note_room(namespace, room)
            raise
        self._note_room(namespace, room)
        self._sid_rooms.setdefault(namespace, {}).setdefault(sid, {})[room] = None
        return result

    def basic_leave_room(self, sid: str, namespace: str, room: Room):
        result = super().basic_leave_room(sid, namespace, room)
        index = self._sid_rooms.get(namespace)
        if index is not None:
            rooms = index.get(sid)
            if rooms is not None:
                rooms.pop(room, None)
                if not rooms:
                    del index[sid]
                    if not index:
                        del self._sid_rooms[namespace]
        ns = self.rooms.get(namespace)
        if ns is None or room not in ns:  # the base deleted the emptied room
            order = self._room_order.get(namespace)
            if order is not None:
                order.pop(room, None)
                if not order:
                    del self._room_order[namespace]
        return result

    def get_rooms(self, sid: str, namespace: str) -> list[Room]:
        """Return the rooms a client is in."""
        rooms = self._sid_rooms.get(namespace, {}).get(sid)
        if not rooms:
            return []
        order = self._room_order[namespace]
        return sorted((room for room in rooms if room is not None), key=order.__getitem__)

    # --- connect / disconnect (same steps as BaseManager, multisets instead of lists) ----

    def pre_connect(self, eio_sid: str, namespace: str) -> str | None:
        sid = self.server.eio.generate_id()
        try:
            self.basic_enter_room(sid, namespace, None, eio_sid=eio_sid)
        except ValueDuplicationError:
            return None  # already connected
        self.basic_enter_room(sid, namespace, sid, eio_sid=eio_sid)
        _add(self.pending_connect, namespace, sid)
        return sid

    def connect(self, sid: str, namespace: str) -> str | None:
        if not self.is_pre_connected(sid, namespace):
            # A complete connection attempt: sid is actually the eio_sid.
            sid = self.pre_connect(sid, namespace)
        _discard_one(self.pending_connect, namespace, sid)
        return sid

    def is_pre_connected(self, sid: str, namespace: str) -> bool:
        if not _listed(self.pending_connect, namespace, sid):
            return False
        try:
            return self.rooms[namespace][None][sid] is not None
        except KeyError:
            return False

    def is_connected(self, sid: str, namespace: str) -> bool:
        if _listed(self.pending_connect, namespace, sid) or _listed(
            self.pending_disconnect, namespace, sid
        ):
            return False  # connecting or disconnecting
        try:
            return self.rooms[namespace][None][sid] is not None
        except KeyError:
            return False

    def pre_disconnect(self, sid: str, namespace: str) -> str | None:
        _add(self.pending_disconnect, namespace, sid)
        return self.rooms[namespace][None].get(sid)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        if namespace not in self.rooms:
            return  # as the base: callbacks and pending entries stay
        # Leaving order differs from the base's scan, the end state does not.
        for room in list(self._sid_rooms.get(namespace, {}).get(sid, ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        _discard_one(self.pending_connect, namespace, sid)
        _discard_one(self.pending_disconnect, namespace, sid)


def _note_phone_state(event: str, data: Any, room: Room) -> None:
    """A ``state`` on its way to a session's phones' room: what phones connecting next get
    (:mod:`.phone_states`)."""
    if event != "state" or not isinstance(room, str) or not isinstance(data, dict):
        return
    session_id = rooms.session_of_phones_room(room)
    if session_id is not None:
        phone_states.delivered(session_id, data)


class ReportsPhoneStatesMixin:
    """A manager that hands every state sent to a phones' room to :mod:`.phone_states`
    (each subclass where its emits pass), which then keeps them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        phone_states.follow_deliveries()


class IndexedManager(ReportsPhoneStatesMixin, IndexedRoomsMixin, socketio.Manager):
    """Single process."""

    def emit(self, event: str, data: Any, namespace: str | None, room: Room = None, **kwargs: Any):
        # Noted before the delivery: a phone joining the room meanwhile sees the new
        # generation (phone_states) or gets the message.
        _note_phone_state(event, data, kwargs.get("to") or room)
        return super().emit(event, data, namespace, room=room, **kwargs)

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        """Disconnect every socket in ``room`` (an organiser whose sessions ended)."""
        for sid, _eio_sid in list(self.get_participants(namespace, room)):
            self.server.disconnect(sid, namespace=namespace, ignore_queue=True)


class IndexedRedisManager(ReportsPhoneStatesMixin, IndexedRoomsMixin, socketio.RedisManager):
    """Several processes sharing a Redis message queue."""

    def emit(self, event: str, data: Any, namespace: str | None = None, room: Room = None,
             **kwargs: Any):  # fmt: skip
        # A message to one socket of this process (a connecting phone's own state, a
        # console's answer) concerns no other process: python-socketio would publish it
        # all the same, and every other process would unpickle it to find no such socket.
        target = kwargs.get("to") or room
        namespace = namespace or "/"
        if isinstance(target, str) and (
            self.is_connected(target, namespace) or self.is_pre_connected(target, namespace)
        ):
            kwargs["ignore_queue"] = True
        return super().emit(event, data, namespace, room=room, **kwargs)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        # Every emit that reaches this process's sockets passes here, the process's own
        # (python-socketio 5.x: PubSubManager.emit calls it before publishing) and the
        # other processes' (read from Redis); tests/test_multiprocess.py pins it.
        data = message.get("data")
        payload = data[0] if isinstance(data, list) and len(data) == 1 else None
        _note_phone_state(message.get("event"), payload, message.get("room"))
        super()._handle_emit(message)

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        """Disconnect every socket in ``room``, on every process.

        python-socketio forwards ``disconnect`` for one sid, and a process only knows its
        own sockets' sids; ``close_room`` goes to every process by room name. So the
        message is a ``close_room`` marked ``disconnect``: each process of this app
        disconnects its own sockets in the room first (:meth:`_handle_close_room`); a
        process without this class would only empty the room.
        """
        message = {
            "method": "close_room",
            "room": room,
            "namespace": namespace or "/",
            "host_id": self.host_id,
            "disconnect": True,
        }
        self._handle_close_room(message)  # this process
        self._publish(message)  # the others

    def _handle_close_room(self, message: dict[str, Any]) -> None:
        if message.get("disconnect"):
            namespace = message.get("namespace") or "/"
            for sid, _eio_sid in list(self.get_participants(namespace, message.get("room"))):
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        super()._handle_close_room(message)


def client_manager(message_queue: str | None, channel: str) -> socketio.Manager | None:
    """The manager for ``socketio.init_app(client_manager=...)``.

    Built as Flask-SocketIO 5.7 builds its own from ``message_queue`` (``RedisManager(url,
    channel=channel, write_only=False)``, no json: a server-side manager takes the server's).
    None for a queue other than Redis: Flask-SocketIO then picks its (unindexed) manager.
    """
    if not message_queue:
        return IndexedManager()
    if message_queue.startswith(("redis://", "rediss://")):
        return IndexedRedisManager(message_queue, channel=channel, write_only=False)
    return None
