"""The state every phone of a session is given on connecting, built once per change.

A hall reconnecting at once (the venue's wifi back, a host lost behind nginx) asks for the
same state a thousand times within seconds; built from the database each time, it was
several ORM reads per phone. What the phones of a session see changes only with a new
``state`` sent to the whole phones' room (``broadcast.session_changed``; with a Redis
message queue every process delivers it to its own phones): the client manager
(:mod:`.manager`) hands each such state to :func:`delivered` as it delivers it, on every
process, so this cache is never older than what the phones already connected were sent. A
phone connecting gets that common state plus what only it may know (whether it voted) and
the server's clock (:func:`deliberation.live.screens.phone_state`); so does the phone page
drawn over HTTP, with or without its script (:func:`~deliberation.live.screens.phone_page_state`).

Every session has a *generation*, bumped by each delivered state:

* a state built from the database by a connecting phone (nothing cached yet) is kept only
  if no state was delivered while it was being built — it could be older than that one;
* a connecting phone, once in the phones' room, compares the generation with the one it
  started from: a state delivered in between did not reach it (it was not in the room
  yet), so it takes the new one.

A kept state is also dropped after ``MAX_AGE_S``: a change that reached the database
without a broadcast (none is known) would not be served for long.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

# What differs from one phone to the next, or from one moment to the next: never kept.
PERSONAL_KEYS = ("voted", "server_time")
MAX_AGE_S = 10.0


@dataclass
class _Entry:
    generation: int = 0
    state: dict[str, Any] | None = None
    kept_at: float = field(default=0.0)


_lock = threading.Lock()
_entries: dict[int, _Entry] = {}
# Only a client manager that hands every delivered state to :func:`delivered` (ours, in
# live.manager) makes a kept state safe to serve; with another (a message queue other than
# Redis), nothing is kept and every phone's state is built from the database.
_following = False


def follow_deliveries() -> None:
    """Called by a client manager that reports every state delivered to a phones' room,
    when the app is made: nothing kept from an earlier app of the process (tests make one
    per test, on databases whose session ids start again at 1)."""
    global _following
    with _lock:
        _entries.clear()
        _following = True


def _common(state: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in state.items() if key not in PERSONAL_KEYS}


def cached(session_id: int) -> tuple[int, dict[str, Any] | None]:
    """The session's generation, and its common phone state if one is kept and fresh."""
    with _lock:
        entry = _entries.get(session_id)
        if entry is None:
            return 0, None
        if entry.state is not None and time.monotonic() - entry.kept_at > MAX_AGE_S:
            entry.state = None
        return entry.generation, entry.state


def generation(session_id: int) -> int:
    with _lock:
        entry = _entries.get(session_id)
        return entry.generation if entry is not None else 0


def keep(session_id: int, built_at_generation: int, state: dict[str, Any]) -> None:
    """Keep a state built from the database, unless a newer one was delivered meanwhile."""
    if not _following:
        return
    with _lock:
        entry = _entries.setdefault(session_id, _Entry())
        if entry.generation != built_at_generation:
            return
        entry.state = _common(state)
        entry.kept_at = time.monotonic()


def delivered(session_id: int, state: dict[str, Any]) -> None:
    """A new state is being sent to every phone of the session (on this process)."""
    with _lock:
        entry = _entries.setdefault(session_id, _Entry())
        entry.generation += 1
        entry.state = _common(state)
        entry.kept_at = time.monotonic()


def forget(session_id: int | None = None) -> None:
    """Drop what is kept, for one session or all (tests; a session deleted)."""
    with _lock:
        if session_id is None:
            _entries.clear()
        else:
            _entries.pop(session_id, None)
