"""The place a joined phone holds, as its page draws it (``GET /s/<CODE>`` and the answer of
its form's ballot, docs/protocol.md §10): a few columns of the session, its process, its
field and the participant, and whether that participant voted in the poll on screen.

A hall of phones without JavaScript reads this on every page: it was an ORM query of the
session, its process and the participant (whose objects the cast's commit then expired, so
that the answer of a ballot read them all again), and a second statement for the ballot.
Here it is one Core statement, built once per shape with bound parameters, and its answer
is plain values that no commit expires (docs/benchmarks.md, "The no-JavaScript form voter").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam

from ... import inputs
from ...extensions import db
from ...models import Field, LiveSession, Participant, Poll, Process
from . import sessions, voting


@dataclass(frozen=True)
class PhoneSeat:
    """What the phone page needs of its session and participant (never an ORM object)."""

    session_id: int
    join_code: str
    title: str
    # The organisers' default for the easy-to-read mode (a phone's own choice wins).
    easy_read: bool
    # The process's language as stored (the page's locale is chosen from it).
    language: str | None
    process_slug: str
    # The session's field when its handouts are published (the page links to them).
    handouts_field_id: int | None
    participant_id: int
    display_name: str
    group: str
    # Whether the participant voted in the poll asked about; None when none was asked.
    voted: bool | None = None


def seat_of(live_session: LiveSession, participant: Participant) -> PhoneSeat:
    """The seat of ORM objects already read (the join form's answer, a refused proposal)."""
    field_ = live_session.field if live_session.field_id else None
    published = field_ is not None and field_.handouts_published_at is not None
    return PhoneSeat(
        session_id=live_session.id,
        join_code=live_session.join_code,
        title=live_session.title,
        easy_read=bool(live_session.easy_read),
        language=live_session.process.language,
        process_slug=live_session.process.slug,
        handouts_field_id=field_.id if published else None,
        participant_id=participant.id,
        display_name=participant.display_name,
        group=participant.group,
    )


def phone_seat(
    code: str | None,
    claims: sessions.TokenClaims | None,
    voted_in: sessions.PollAsked | None = None,
) -> PhoneSeat | None:
    """The seat a token's claims hold in the session a code names (a place held as
    :func:`sessions.place_held` says), and whether it voted in ``voted_in``; None when the
    code or the place is not found (then :func:`sessions.session_by_code` tells which)."""
    row = _seat_row(code, claims, voted_in, None)
    return _seat(row, voted_in) if row is not None else None


@dataclass(frozen=True)
class PostedPoll:
    """The poll a posted ballot form names, as its reader needs it (phone_forms)."""

    id: int
    session_id: int
    method: str
    options: list[dict[str, Any]] | None
    dots: int | None


def seat_and_posted_poll(
    code: str | None, claims: sessions.TokenClaims | None, poll_id: int | None
) -> tuple[PhoneSeat, PostedPoll | None] | None:
    """:func:`phone_seat`, with the poll a posted form names (None: no such poll, in any
    session) read in the same statement."""
    asked = poll_id if inputs.is_id(poll_id) else None
    row = _seat_row(code, claims, None, asked)
    if row is None:
        return None
    poll = None
    if asked is not None and row.poll_session_id is not None:
        poll = PostedPoll(
            id=asked,
            session_id=row.poll_session_id,
            method=row.poll_method,
            options=row.poll_options,
            dots=row.poll_dots,
        )
    return _seat(row, None), poll


def _seat_row(
    code: str | None,
    claims: sessions.TokenClaims | None,
    voted_in: sessions.PollAsked | None,
    poll_id: int | None,
) -> Any:
    code = sessions.normalize_code(code)
    if claims is None or not isinstance(claims.session_id, int):
        return None
    if not sessions.possible_code(code):
        return None
    parameters: dict[str, Any] = {
        "code": code,
        "subject": claims.subject,
        "session_id": claims.session_id,
    }
    sealed = None
    if voted_in is not None:
        parameters["poll_id"] = voted_in.poll_id
        sealed = voted_in.sealed
    if poll_id is not None:
        parameters["posted_poll_id"] = poll_id
    statement = _statement(sealed, poll_id is not None)
    # On a pooled connection of its own, not the ORM session's: the session's transaction
    # bookkeeping (begin, close, its objects detached) cost more than this one statement,
    # 155-166 against 94-106 µs a read (docs/benchmarks.md, "The no-JavaScript form voter").
    with db.engine.connect() as connection:
        return connection.execute(statement, parameters).first()


def _seat(row: Any, voted_in: sessions.PollAsked | None) -> PhoneSeat:
    return PhoneSeat(
        session_id=row.session_id,
        join_code=row.join_code,
        title=row.title,
        easy_read=bool(row.easy_read),
        language=row.language,
        process_slug=row.slug,
        handouts_field_id=row.field_id if row.handouts_published else None,
        participant_id=row.participant_id,
        display_name=row.display_name,
        group=row.group,
        voted=bool(row.voted) if voted_in is not None else None,
    )


@functools.cache
def _statement(sealed: bool | None, posted_poll: bool) -> Any:
    """The seat's statement, with the ballot's look-up (``sealed``: in the voter roll of a
    closed secret poll) or without it (None), and the posted form's poll or not. Built once
    per shape: only its parameters change."""
    seats, places = LiveSession.__table__, Participant.__table__
    processes, fields, polls = Process.__table__, Field.__table__, Poll.__table__
    columns = [
        seats.c.id.label("session_id"),
        seats.c.join_code,
        seats.c.title,
        seats.c.easy_read,
        processes.c.language,
        processes.c.slug,
        seats.c.field_id,
        fields.c.handouts_published_at.is_not(None).label("handouts_published"),
        places.c.id.label("participant_id"),
        places.c.display_name,
        places.c.group,
    ]
    if sealed is not None:
        voted = voting.voted_clause(bindparam("poll_id"), places.c.id, sealed=sealed)
        columns.append(voted.label("voted"))
    joined = (
        seats.join(processes, processes.c.id == seats.c.process_id)
        .join(places, places.c.session_id == seats.c.id)
        .outerjoin(fields, fields.c.id == seats.c.field_id)
    )
    if posted_poll:
        # Whatever its session: the form's reader tells a poll of another session apart.
        joined = joined.outerjoin(polls, polls.c.id == bindparam("posted_poll_id"))
        columns += [
            polls.c.session_id.label("poll_session_id"),
            polls.c.method.label("poll_method"),
            polls.c.options.label("poll_options"),
            polls.c.dots.label("poll_dots"),
        ]
    return (
        db.select(*columns)
        .select_from(joined)
        .where(
            seats.c.join_code == bindparam("code"),
            *sessions.place_held(bindparam("subject"), bindparam("session_id")),
        )
    )
