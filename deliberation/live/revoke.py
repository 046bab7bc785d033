"""Cutting the live connections of an organiser who may no longer run a session.

Each facilitator event checks membership again (``live.handlers``), but a socket that sends
nothing still receives the facilitators' room: states and tallies. After a membership
change commits, :func:`recheck_facilitators` disconnects this server process's facilitator
sockets on the process's sessions whose organiser fails the check now. With several server
processes, the sockets held by the others are not reached (docs/security.md says so); their
next event is refused, and their next connection too.
"""

from __future__ import annotations

from flask_socketio import disconnect

from ..extensions import db
from ..models import LiveSession, Organizer
from ..services.people import access
from . import rooms


def recheck_facilitators(process_id: int) -> int:
    """Disconnect the facilitator sockets of ``process_id`` no longer allowed; how many."""
    cut = 0
    for sid, presence in rooms.facilitators():
        session = db.session.get(LiveSession, presence.session_id)
        if session is None or session.process_id != process_id:
            continue
        organizer = db.session.get(Organizer, presence.organizer_id or 0)
        if organizer is None or not access.can_facilitate(organizer, session):
            disconnect(sid=sid, namespace="/")
            rooms.remove(sid)
            cut += 1
    return cut
