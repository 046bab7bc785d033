"""The one place that emits to rooms, always after the commit.

* :func:`session_changed` sends the full ``state`` to every screen of a session at once
  (a new item, a poll opened or closed… rare events).
* :func:`ballot_counted` and :func:`presence_changed` only mark the session dirty; a background
  task sends one ``tally`` per dirty session every ``TALLY_PUSH_INTERVAL`` seconds (≤ 4/s)
  to the projector and facilitator rooms. Phones never get per-vote messages.
* :func:`flush_now` sends what is pending immediately (tests, and the background task).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask
from flask_babel import force_locale
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..database import discard_failed_work
from ..extensions import db, socketio
from ..models import LiveSession, Poll
from ..services.live import sessions, voting
from ..services.live.turnout import Turnout
from ..services.live.turnout import read as read_turnout
from . import gc_pacing, rooms, screens

log = logging.getLogger(__name__)
# The database cannot be reached or has no connection free: the push is tried again.
DATABASE_UNAVAILABLE = (OperationalError, PoolTimeout)

_lock = threading.Lock()
_dirty_sessions: set[int] = set()
_started_for: set[int] = set()


def session_changed(session_id: int) -> dict[str, Any] | None:
    """Send the new state to the projector, the facilitators and every phone of a session;
    return the facilitators' state (the acting console's acknowledgement carries it)."""
    gc_pacing.activity()  # a poll may have opened: no full collection while the hall votes
    session = db.session.get(LiveSession, session_id)
    if session is None:
        return None
    db.session.refresh(session)
    states = {role: screens.state_for(session, role) for role in ("projector", "facilitator")}
    for role, state in states.items():
        socketio.emit("state", state, to=rooms.room(session_id, role))
    phone_state = screens.state_for(session, "phone")
    # ONE message to the phones' room (one Redis publish with a message queue, not one per
    # participant). Only a participant may learn whether they voted, so this common state
    # says nothing about it (``voted: null``): a phone keeps what it knows from its own ack,
    # and gets its personal ``voted`` in the state sent at every (re)connect. When a poll has
    # just opened (or re-opened for a new round) nobody has voted in it yet: false for all.
    poll = phone_state.get("poll")
    just_opened = poll is not None and poll.get("state") == "open" and not _has_ballots(poll)
    phone_state["voted"] = False if just_opened else None
    socketio.emit("state", phone_state, to=rooms.room(session_id, "phone"))
    with _lock:
        _dirty_sessions.discard(session_id)  # the state just sent carries fresh counts
    return states["facilitator"]


def _has_ballots(poll: dict[str, Any]) -> bool:
    """Whether any ballot of the poll's current round is counted (one indexed lookup)."""
    return voting.voted_count(db.session.get(Poll, poll["id"])) > 0


def ballot_counted(session_id: int) -> None:
    """A new ballot was committed: a tally soon, and no full garbage collection meanwhile."""
    gc_pacing.activity()
    mark_dirty(session_id)


def presence_changed(session_id: int) -> None:
    mark_dirty(session_id)


def mark_dirty(session_id: int) -> None:
    with _lock:
        _dirty_sessions.add(session_id)


def tallies_for(turnout: Turnout) -> dict[str, dict[str, Any]]:
    """The ``tally`` of each screen role: the figures read once (:mod:`turnout`), the
    distribution where visible, a ticket session's ticket counts for the consoles."""
    poll = turnout.poll
    common: dict[str, Any] = {
        "session_id": turnout.session_id,
        "poll_id": poll.id if poll is not None else None,
        "voted": turnout.voted,
        "connected": rooms.connected_count(turnout.session_id),
        "joined": turnout.joined,
        "expected": turnout.expected,
        "results": None,
        # Server clock (seconds since the epoch) when the push was built.
        "sent_at": round(time.time(), 3),
    }
    results = None
    tallies = {}
    for role in ("projector", "facilitator"):
        payload = dict(common)
        if role == "facilitator":
            payload["tickets"] = (
                sessions.ticket_counts(db.session.get(LiveSession, turnout.session_id))
                if turnout.admission == "tickets"
                else None
            )
        # A secret poll's distribution goes out only once it is closed: turnout meanwhile.
        if poll is not None and voting.results_visible(poll, role):
            if results is None:
                results = voting.results(db.session.get(Poll, poll.id))
            payload["results"] = results
        tallies[role] = payload
    return tallies


def flush_now() -> int:
    """Send one ``tally`` per dirty session now; return how many sessions were sent."""
    with _lock:
        pending = sorted(_dirty_sessions)
        _dirty_sessions.clear()
    for session_id in pending:
        try:
            _push_tally(session_id)
        except DATABASE_UNAVAILABLE as error:
            # No connection free in time (a host's phones all arriving at once, measured by
            # bench.live --scenario failover) or the database down: an outage, not a bug.
            # One line, and the session stays dirty, so its tally goes out at the next turn
            # instead of the projector keeping an old count until something else changes.
            discard_failed_work()
            mark_dirty(session_id)
            log.warning(
                "tally push for session %s postponed: database unavailable (%s)",
                session_id,
                type(error).__name__,
            )
        except Exception:  # one failing session must not starve the others
            discard_failed_work()  # the next session's push must not inherit a failed read
            log.exception("tally push failed for session %s", session_id)
    return len(pending)


def _push_tally(session_id: int) -> None:
    turnout = read_turnout(session_id)
    if turnout is None:
        return
    # Labels are in the process language; this also runs outside any request.
    with force_locale(turnout.language):
        for role, tally in tallies_for(turnout).items():
            socketio.emit("tally", tally, to=rooms.room(session_id, role))


def ensure_started(app: Flask) -> None:
    """Start the coalescing task once per process (not under TESTING: tests call flush_now)."""
    if app.testing and not app.config.get("LIVE_BACKGROUND_FLUSH"):
        return
    with _lock:
        if id(app) in _started_for:
            return
        _started_for.add(id(app))
    socketio.start_background_task(_flush_forever, app)


def _flush_forever(app: Flask) -> None:
    interval = float(app.config.get("TALLY_PUSH_INTERVAL", 0.25))
    refresh_every = max(1, int(rooms.PRESENCE_TTL / 4 / interval))
    turn = 0
    while True:
        socketio.sleep(interval)
        turn += 1
        try:
            with app.app_context():
                rooms.sync()
                flush_now()
                if turn % refresh_every == 0:
                    rooms.refresh()
                db.session.remove()
            gc_pacing.collect_if_quiet()
        except Exception:  # a failed push must not stop the next ones
            log.exception("tally push failed")


def reset() -> None:
    """Forget pending pushes (tests)."""
    with _lock:
        _dirty_sessions.clear()


def organizer_signed_out(organizer_id: int) -> None:
    """The organiser's sessions have ended (committed): disconnect their facilitator
    sockets, on every process when a Redis message queue joins them. Until the disconnect
    lands, their events are refused anyway (the login id no longer loads)."""
    room = rooms.organizer_room(organizer_id)
    manager = socketio.server.manager if socketio.server is not None else None
    if hasattr(manager, "disconnect_room"):
        manager.disconnect_room(room, "/")
        return
    # Another message queue than Redis (Flask-SocketIO's own manager): this process only.
    for sid, _presence in rooms.facilitators_of(organizer_id):
        socketio.server.disconnect(sid, namespace="/")


def emit_after_commit(event: str, payload: dict[str, Any], room: str) -> None:
    """Send one event to one room; the caller has committed what it reports (proposals)."""
    socketio.emit(event, payload, to=room)


def minutes_saved(session_id: int, payload: dict[str, Any]) -> None:
    """The minutes of an item were saved (committed): the other consoles of the session
    show the new text unless they are typing (docs/protocol.md, "Minutes")."""
    socketio.emit("minutes", payload, to=rooms.room(session_id, "facilitator"))
