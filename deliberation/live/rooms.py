"""Room names and presence (who is connected).

Presence is a cache, never a source of truth for votes: it is rebuilt as sockets (re)connect
after a restart. Each process keeps its own sockets in memory. When the app runs several
processes behind a Redis message queue (``SOCKETIO_MESSAGE_QUEUE=redis://…``), each process
also mirrors its phones in Redis — one hash per session and process, expiring unless the
process refreshes it — so "connected" counts every process's phones. A process killed
outright leaves its entries for at most ``PRESENCE_TTL`` seconds.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from flask import current_app, has_app_context

ROLE_ROOMS = {"phone": "phones", "projector": "projector", "facilitator": "facilitator"}
PRESENCE_TTL = 60
PREFIX = "deliberation:presence"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Presence:
    session_id: int
    role: str
    participant_id: int | None = None
    # The process language: messages to this socket are written in it.
    language: str = "fr"


_lock = threading.Lock()
_sockets: dict[str, Presence] = {}
_process_id = uuid.uuid4().hex
_redis_clients: dict[str, Any] = {}


def room(session_id: int, role: str) -> str:
    return f"session:{session_id}:{ROLE_ROOMS[role]}"


def participant_room(participant_id: int) -> str:
    return f"participant:{participant_id}"


def _redis() -> Any | None:
    """The shared Redis when the message queue is Redis, else None (single process)."""
    if not has_app_context():
        return None
    url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=2)
    return client


def _key(session_id: int) -> str:
    return f"{PREFIX}:{session_id}:{_process_id}"


def add(sid: str, presence: Presence) -> None:
    with _lock:
        _sockets[sid] = presence
    if presence.role == "phone":
        _mirror(lambda r: _set(r, presence.session_id, sid, presence.participant_id))


def remove(sid: str) -> Presence | None:
    with _lock:
        presence = _sockets.pop(sid, None)
    if presence is not None and presence.role == "phone":
        _mirror(lambda r: r.hdel(_key(presence.session_id), sid))
    return presence


def of(sid: str) -> Presence | None:
    return _sockets.get(sid)


def _set(client: Any, session_id: int, sid: str, participant_id: int | None) -> None:
    pipe = client.pipeline()
    pipe.hset(_key(session_id), sid, str(participant_id))
    pipe.expire(_key(session_id), PRESENCE_TTL)
    pipe.execute()


def _mirror(write: Any) -> None:
    client = _redis()
    if client is None:
        return
    try:
        write(client)
    except Exception:  # presence is approximate by nature: never fail a connection on it
        log.warning("presence: Redis unavailable", exc_info=True)


def local_participants(session_id: int) -> set[int]:
    """Participants with a phone socket on this process."""
    with _lock:
        return {
            presence.participant_id
            for presence in _sockets.values()
            if presence.session_id == session_id
            and presence.role == "phone"
            and presence.participant_id is not None
        }


def connected_count(session_id: int) -> int:
    """Distinct participants with at least one phone socket connected (all processes when
    presence is shared through Redis)."""
    local = local_participants(session_id)
    client = _redis()
    if client is None:
        return len(local)
    try:
        everyone = {str(pid) for pid in local}
        for key in client.scan_iter(match=f"{PREFIX}:{session_id}:*", count=100):
            everyone.update(value.decode() for value in client.hvals(key))
        return len(everyone)
    except Exception:
        log.warning("presence: Redis unavailable, counting this process only", exc_info=True)
        return len(local)


def refresh() -> None:
    """Keep this process's Redis entries alive (called by the broadcast loop)."""
    client = _redis()
    if client is None:
        return
    with _lock:
        sessions = {p.session_id for p in _sockets.values() if p.role == "phone"}
    try:
        for session_id in sessions:
            client.expire(_key(session_id), PRESENCE_TTL)
    except Exception:
        log.warning("presence: Redis unavailable", exc_info=True)


def clear() -> None:
    """Forget everyone (tests)."""
    with _lock:
        _sockets.clear()
