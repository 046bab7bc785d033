"""What a session's ``tally`` push carries, read in ONE statement (docs/protocol.md, ``tally``).

While a hall votes, every process pushes a ``tally`` to the projector and the consoles up to
four times a second (``broadcast``). Read through the ORM it was six statements each time —
the session again, its process (for the language), its current item, that item's latest
poll, the ballots counted, the places taken — about 3 ms of CPU a push on PostgreSQL, more
under gevent, and 9 % of a server's CPU in a vote of two hosts (docs/benchmarks.md, "Fewer
round trips per batch"). Here they are one indexed read of the tables. The distribution
(when a screen may see it) and a ticket session's ticket counts are still read as before,
only when they are needed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func

from ...extensions import db
from ...models import LiveSession, Participant, Poll, PollCount, Process
from ...tally.rules import BALLOTS_KEY


@dataclass(frozen=True)
class PollSeen:
    """The current poll as far as who may see its distribution goes (``voting.results_visible``)."""

    id: int
    state: str
    secret: bool
    show_live: bool


@dataclass(frozen=True)
class Turnout:
    session_id: int
    language: str
    expected: int | None
    admission: str
    poll: PollSeen | None  # the latest poll of the current item, if any
    voted: int  # ballots counted in that poll's current round
    joined: int  # places taken in the session (a voided place no longer counts)


def read(session_id: int) -> Turnout | None:
    row = db.session.execute(_statement(), {"session_id": session_id}).first()
    if row is None:
        return None
    poll = None
    if row.poll_id is not None:
        poll = PollSeen(row.poll_id, row.poll_state, bool(row.secret), bool(row.show_live))
    return Turnout(
        session_id=row.id,
        language=row.language or "fr",
        expected=row.expected_count,
        admission=row.admission,
        poll=poll,
        voted=int(row.voted),
        joined=int(row.joined),
    )


@functools.cache
def _statement() -> Any:
    sessions, processes = LiveSession.__table__, Process.__table__
    polls, counts, places = Poll.__table__, PollCount.__table__, Participant.__table__
    item_polls = polls.alias("item_poll")  # not the outer query's poll (no correlation)
    latest_poll = (
        db.select(func.max(item_polls.c.id))
        .where(item_polls.c.agenda_item_id == sessions.c.current_item_id)
        .scalar_subquery()
    )
    voted = (
        db.select(func.coalesce(func.sum(counts.c.count), 0))
        .where(counts.c.poll_id == polls.c.id, counts.c.key == BALLOTS_KEY)
        .scalar_subquery()
    )
    joined = (
        db.select(func.count(places.c.id))
        .where(places.c.session_id == sessions.c.id, places.c.voided_at.is_(None))
        .scalar_subquery()
    )
    return (
        db.select(
            sessions.c.id,
            sessions.c.expected_count,
            sessions.c.admission,
            processes.c.language,
            polls.c.id.label("poll_id"),
            polls.c.state.label("poll_state"),
            polls.c.secret,
            polls.c.show_live,
            voted.label("voted"),
            joined.label("joined"),
        )
        .select_from(
            sessions.join(processes, processes.c.id == sessions.c.process_id).outerjoin(
                polls, polls.c.id == latest_poll
            )
        )
        .where(sessions.c.id == bindparam("session_id"))
    )
