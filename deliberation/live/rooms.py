"""Room names and presence (who is connected).

Presence is a cache, never a source of truth for votes: it is rebuilt as sockets (re)connect
after a restart. Each process keeps its own sockets in memory. When the app runs several
processes behind a Redis message queue (``SOCKETIO_MESSAGE_QUEUE=redis://…``), each process
also mirrors its phones in Redis — one hash per session and process, expiring unless the
process refreshes it — so "connected" counts every process's phones. A process killed
outright leaves its entries for at most ``PRESENCE_TTL`` seconds.

Connects and disconnects only change memory and mark the session; the broadcast loop calls
:func:`sync` a few times a second, which rewrites the marked sessions' hashes in one
pipeline. (Writing Redis from every connect handler let a hall connecting at once open
hundreds of Redis connections at the same time.) A process counts its own phones from
memory and only the other processes' from Redis, read at most once per
``REMOTE_REFRESH_S`` per session (the tally goes out 4 times a second: reading 2,000
entries each time was a sixth of a process's CPU during a vote, measured).
"""

from __future__ import annotations

import logging
import threading
import time
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
    # The organiser behind a facilitator socket: its sockets are cut when their membership
    # changes, or when their sessions end (log-out, password change).
    organizer_id: int | None = None


REMOTE_REFRESH_S = 1.0

_lock = threading.Lock()
_sockets: dict[str, Presence] = {}
# session id -> socket id -> participant id, for the phones only (kept with _sockets).
_phones: dict[int, dict[str, int | None]] = {}
# session id -> (when read, participants with a phone on the other processes).
_remote: dict[int, tuple[float, set[int]]] = {}
_process_id = uuid.uuid4().hex
_redis_clients: dict[str, Any] = {}
_unsynced_sessions: set[int] = set()
REDIS_MAX_CONNECTIONS = 10


def room(session_id: int, role: str) -> str:
    return f"session:{session_id}:{ROLE_ROOMS[role]}"


def session_of_phones_room(name: str) -> int | None:
    """The session whose phones' room ``name`` is (:func:`room` with role ``phone``), else None."""
    prefix, _, rest = name.partition(":")
    session_id, _, suffix = rest.partition(":")
    if prefix != "session" or suffix != ROLE_ROOMS["phone"] or not session_id.isdigit():
        return None
    return int(session_id)


def participant_room(participant_id: int) -> str:
    return f"participant:{participant_id}"


def organizer_room(organizer_id: int) -> str:
    """Every facilitator socket of one organiser account, on every process."""
    return f"organizer:{organizer_id}"


def _redis() -> Any | None:
    """The shared Redis when the message queue is Redis, else None (single process)."""
    if not has_app_context():
        return None
    url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    client = _redis_clients.get(url)
    if client is None:
        # One client per process; a blocking pool waits for a free connection instead of
        # failing when greenlets ask at the same time.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=REDIS_MAX_CONNECTIONS, timeout=5, socket_timeout=5
        )
        client = _redis_clients[url] = redis.Redis(connection_pool=pool)
    return client


def _key(session_id: int) -> str:
    return f"{PREFIX}:{session_id}:{_process_id}"


def add(sid: str, presence: Presence) -> None:
    with _lock:
        _sockets[sid] = presence
        if presence.role == "phone":
            _phones.setdefault(presence.session_id, {})[sid] = presence.participant_id
            _unsynced_sessions.add(presence.session_id)


def remove(sid: str) -> Presence | None:
    with _lock:
        presence = _sockets.pop(sid, None)
        if presence is not None and presence.role == "phone":
            phones = _phones.get(presence.session_id, {})
            phones.pop(sid, None)
            if not phones:
                _phones.pop(presence.session_id, None)
            _unsynced_sessions.add(presence.session_id)
    return presence


def of(sid: str) -> Presence | None:
    return _sockets.get(sid)


def facilitators() -> list[tuple[str, Presence]]:
    """This process's facilitator sockets (a handful; phones are skipped)."""
    with _lock:
        return [(sid, p) for sid, p in _sockets.items() if p.role == "facilitator"]


def facilitators_of(organizer_id: int) -> list[tuple[str, Presence]]:
    """This process's facilitator sockets of one organiser."""
    return [(sid, p) for sid, p in facilitators() if p.organizer_id == organizer_id]


def sync() -> int:
    """Write this process's phones of every changed session to Redis (one pipeline);
    return how many sessions were written. No-op without a Redis message queue."""
    client = _redis()
    with _lock:
        if client is None or not _unsynced_sessions:
            return 0
        changed = set(_unsynced_sessions)
        _unsynced_sessions.clear()
        snapshots = {
            session_id: {sid: str(pid) for sid, pid in _phones.get(session_id, {}).items()}
            for session_id in changed
        }
    try:
        pipe = client.pipeline(transaction=False)
        for session_id, mapping in snapshots.items():
            pipe.delete(_key(session_id))
            if mapping:
                pipe.hset(_key(session_id), mapping=mapping)
                pipe.expire(_key(session_id), PRESENCE_TTL)
        pipe.execute()
    except Exception:  # presence is approximate by nature: try again at the next sync
        with _lock:
            _unsynced_sessions.update(changed)
        log.warning("presence: Redis unavailable", exc_info=True)
        return 0
    return len(snapshots)


def local_participants(session_id: int) -> set[int]:
    """Participants with a phone socket on this process."""
    with _lock:
        return {pid for pid in _phones.get(session_id, {}).values() if pid is not None}


def connected_count(session_id: int) -> int:
    """Distinct participants with at least one phone socket connected (all processes when
    presence is shared through Redis)."""
    local = local_participants(session_id)
    client = _redis()
    if client is None:
        return len(local)
    try:
        return len(local | _remote_participants(client, session_id))
    except Exception:
        log.warning("presence: Redis unavailable, counting this process only", exc_info=True)
        return len(local)


def _remote_participants(client: Any, session_id: int) -> set[int]:
    """The other processes' phones of a session, read from Redis at most once a second."""
    now = time.monotonic()
    cached = _remote.get(session_id)
    if cached is not None and now - cached[0] < REMOTE_REFRESH_S:
        return cached[1]
    remote: set[int] = set()
    ours = _key(session_id).encode()
    for key in client.scan_iter(match=f"{PREFIX}:{session_id}:*", count=100):
        if key != ours:  # this process's phones are counted from memory, never stale
            remote.update(int(value) for value in client.hvals(key) if value.isdigit())
    _remote[session_id] = (now, remote)
    return remote


def refresh() -> None:
    """Keep this process's Redis entries alive (called by the broadcast loop)."""
    client = _redis()
    if client is None:
        return
    sync()
    with _lock:
        sessions = set(_phones)
    try:
        pipe = client.pipeline(transaction=False)
        for session_id in sessions:
            pipe.expire(_key(session_id), PRESENCE_TTL)
        pipe.execute()
    except Exception:
        log.warning("presence: Redis unavailable", exc_info=True)


def clear() -> None:
    """Forget everyone (tests)."""
    with _lock:
        _sockets.clear()
        _phones.clear()
        _remote.clear()
        _unsynced_sessions.clear()
