"""Room names and presence (who is connected), kept in memory in this process.

Presence is a cache rebuilt as sockets (re)connect after a restart. With several server
processes behind a message queue each process only sees its own sockets, so the
"connected" figure is approximate then (votes and results never depend on it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

ROLE_ROOMS = {"phone": "phones", "projector": "projector", "facilitator": "facilitator"}


@dataclass(frozen=True)
class Presence:
    session_id: int
    role: str
    participant_id: int | None = None
    # The process language: messages to this socket are written in it.
    language: str = "fr"


_lock = threading.Lock()
_sockets: dict[str, Presence] = {}


def room(session_id: int, role: str) -> str:
    return f"session:{session_id}:{ROLE_ROOMS[role]}"


def participant_room(participant_id: int) -> str:
    return f"participant:{participant_id}"


def add(sid: str, presence: Presence) -> None:
    with _lock:
        _sockets[sid] = presence


def remove(sid: str) -> Presence | None:
    with _lock:
        return _sockets.pop(sid, None)


def of(sid: str) -> Presence | None:
    return _sockets.get(sid)


def connected_count(session_id: int) -> int:
    """Distinct participants with at least one phone socket connected to this process."""
    with _lock:
        return len(
            {
                presence.participant_id
                for presence in _sockets.values()
                if presence.session_id == session_id and presence.role == "phone"
            }
        )


def clear() -> None:
    """Forget everyone (tests)."""
    with _lock:
        _sockets.clear()
