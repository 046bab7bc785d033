"""What each screen is shown: the whole state given to a phone, the projector or the
facilitator console (docs/protocol.md), built from the item presented (:mod:`.items`) and the
votes (:mod:`.voting`).

Read-only: the rules that change things live in :mod:`.sessions` and :mod:`.voting`. Who is
connected is known only to the Socket.IO layer (``live.rooms``): its caller passes the count
in (``live.screens.state_for`` does), so this layer never reaches up to the sockets.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale

from ...extensions import db
from ...models import LiveSession, Participant, Ticket, utcnow
from ..authoring.numbering import finding_numbers
from . import minutes, record, voting
from .items import present_item


def join_path(session: LiveSession) -> str:
    return f"/j/{session.join_code}"


# -- what each screen is given ------------------------------------------------------------


def _iso(moment: Any) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def server_time() -> str:
    """The server's clock as every state carries it (screens correct their countdowns)."""
    return _iso(utcnow())


def screen_language(session: LiveSession) -> str:
    """The language every screen of a session is written in: the process's."""
    return session.process.language or "fr"


def state_for(
    session: LiveSession,
    role: str,
    participant: Participant | None = None,
    *,
    connected: int = 0,
) -> dict[str, Any]:
    """The whole state for one screen, in the process language (see docs/protocol.md).

    ``connected``: the phones connected now, which only the socket layer knows (shown to the
    projector and the console, not to phones)."""
    language = screen_language(session)
    with force_locale(language):
        item = session.current_item
        poll = voting.latest_poll(item) if item is not None else None
        state: dict[str, Any] = {
            "role": role,
            "session": {
                "id": session.id,
                "code": session.join_code,
                "title": session.title,
                "kind": session.kind,
                "join_url": join_path(session),
                "language": language,
                "current_item_id": session.current_item_id,
                "admission": session.admission,
                # The organisers' default for the phones (docs/phones.md, easy to read).
                "easy_read": session.easy_read,
                "projector_theme": session.projector_theme or "light",
            },
            "item": present_item(item) if item is not None else None,
            "poll": voting.describe_poll(poll) if poll is not None else None,
            "voted": None,
            "counts": None,
            "results": None,
            "agenda": None,
            "record": None,
            "minutes": None,
            "server_time": server_time(),
        }
        if role == "phone":
            state["voted"] = bool(
                poll is not None and participant is not None and voting.has_voted(poll, participant)
            )
        else:
            state["counts"] = {
                "connected": connected,
                "voted": voting.voted_count(poll) if poll is not None else 0,
                "joined": joined_count(session),
                "expected": session.expected_count,
                "tickets": ticket_counts(session) if role == "facilitator" else None,
            }
        if poll is not None and voting.results_visible(poll, role):
            state["results"] = voting.results(poll)
        if role == "facilitator":
            state["agenda"] = agenda_summary(session)
            # The notes box of the console follows the item shown.
            state["minutes"] = minutes.current(item) if item is not None else None
            if poll is not None and not poll.secret:
                state["record"] = record.named_record(poll, voting.answer_labels(poll)) or None
    return state


def joined_count(session: LiveSession) -> int:
    """Places taken in the session (a voided place no longer counts)."""
    return db.session.scalar(
        db.select(db.func.count(Participant.id)).filter_by(session_id=session.id, voided_at=None)
    )


def ticket_counts(session: LiveSession) -> dict[str, int] | None:
    """Tickets of a ticket session: issued (not voided), used (claimed), voided."""
    if session.admission != "tickets":
        return None
    issued = used = voided = 0
    rows = db.session.execute(
        db.select(Ticket.voided_at.is_(None), Ticket.participant_id.is_(None), db.func.count())
        .where(Ticket.session_id == session.id)
        .group_by(Ticket.voided_at.is_(None), Ticket.participant_id.is_(None))
    )
    for valid, unclaimed, count in rows:
        if not valid:
            voided += count
            continue
        issued += count
        if not unclaimed:
            used += count
    return {"issued": issued, "used": used, "voided": voided}


def agenda_summary(session: LiveSession) -> list[dict[str, Any]]:
    summary = []
    numbers = finding_numbers(session.process)
    for agenda_item in session.agenda:
        presented = present_item(agenda_item, numbers)
        summary.append(
            {
                "id": agenda_item.id,
                "position": agenda_item.position,
                "type": agenda_item.item_type,
                "item_id": agenda_item.item_id,
                "title": presented["title"],
                "excerpt": presented["excerpt"],
                "polls": [
                    {"id": poll.id, "state": poll.state, "method": poll.method, "round": poll.round}
                    for poll in agenda_item.polls
                ],
            }
        )
    return summary
