"""The record of a named poll: who voted what (docs/security.md, "Secret and named votes").

Only named polls have one, and only once closed: the console shows it after the close, the
organisers' open data and the Actes print it. A secret poll has none, by construction: once
closed its ballots name nobody (``services.live.secrecy``); this module refuses to read it even
while it is open.
"""

from __future__ import annotations

from typing import Any

from ... import methods
from ...extensions import db
from ...models import Ballot, Participant, Poll

RECORDED_STATES = ("closed", "published")


def participant_numbers(session_id: int) -> dict[int, int]:
    """participant id → its number in the session (1 for the first to join)."""
    ids = db.session.scalars(
        db.select(Participant.id).filter_by(session_id=session_id).order_by(Participant.id)
    )
    return {participant_id: number for number, participant_id in enumerate(ids, start=1)}


def choice_text(poll: Poll, choice: dict[str, Any], labels: dict[str, str]) -> str:
    """A choice in words, as its method says it: "Yes"; "Option A: Good; Option B: Poor";
    "Option A × 2". ``labels`` names the answer or grade keys."""
    options = {option["key"]: option["label"] for option in poll.options or []}
    return methods.method(poll.method).choice_words(choice, options, labels)


def named_record(poll: Poll, labels: dict[str, str]) -> list[dict[str, Any]]:
    """One row per voter of a closed named poll, in the order they joined; ``[]`` for a
    secret poll or a poll not closed yet. ``labels`` names the answer or grade keys."""
    if poll.secret or poll.state not in RECORDED_STATES:
        return []
    rows = db.session.execute(
        db.select(Participant.id, Participant.display_name, Participant.group, Ballot.choice)
        .join(Ballot, Ballot.participant_id == Participant.id)
        .where(Ballot.poll_id == poll.id)
        .order_by(Participant.id)
    ).all()
    numbers = participant_numbers(poll.session_id) if rows else {}
    return [
        {
            "participant": numbers.get(row.id, 0),
            "name": row.display_name or "",
            "group": row.group or "",
            "choice": row.choice,
            "choice_label": choice_text(poll, row.choice, labels),
        }
        for row in rows
    ]
