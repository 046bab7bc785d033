"""The general assembly: built from the consolidation, and the final status it gives.

Which items go to the plenary (the organiser chooses a rule, then may adjust by hand):

* ``validated_or_amended`` — validated in at least one territory, or amended in at least one
  workshop (an amendment proposal accepted for a vote, merged or adopted, or a text version
  that came from an adopted amendment);
* ``voted`` — every item put to a vote in at least one workshop;
* ``all`` — every hypothesis, finding, recommendation, action path and condition;
* ``selected`` — exactly the items the organiser ticked.

The agenda follows field order whatever the order of the choice. The final status of an item
is the outcome of the assembly's latest *published* vote on it (a closed vote the room has
not seen yet decides nothing): validated, rework (to rework) or rejected — or no_votes when
the poll got no ballot. Dot votes rank; they give no status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext

from ... import methods
from ...extensions import db
from ...models import AgendaItem, LiveSession, Poll, Process, Proposal, TextVersion
from ...tally import OutcomeRule
from ..live import sessions
from .consolidation import (
    ItemConsolidation,
    OutlineItem,
    consolidate,
    counts_for,
    outline_items,
)

SELECTION_RULES = ("validated_or_amended", "voted", "all", "selected")
ASSEMBLY_TYPES = (
    "hypothesis",
    "finding",
    "recommendation",
    "action_path",
    "implementation_condition",
)
AMENDED_STATUSES = ("accepted", "merged", "adopted")
# The session title when none is given, in the process language (not the reader's).
DEFAULT_TITLES = {"fr": "Assemblée générale", "en": "General assembly"}


class AssemblyError(ValueError):
    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Candidate:
    """An item the organiser may send to the plenary, with what the workshops said."""

    item: OutlineItem
    consolidation: ItemConsolidation | None
    amended: bool

    @property
    def key(self) -> tuple[str, int]:
        return self.item.key

    @property
    def validated_somewhere(self) -> bool:
        return bool(self.consolidation and self.consolidation.validated_somewhere)

    @property
    def voted(self) -> bool:
        return bool(self.consolidation and self.consolidation.has_votes)


class SummaryFigures:
    """Figures read from the tally summary (``tally.summarize``) a result carries."""

    summary: dict[str, Any]

    @property
    def ballots(self) -> int:
        return int(self.summary.get("ballots") or 0)

    @property
    def support_percent(self) -> float | None:
        return self.summary.get("support_percent")


@dataclass(frozen=True)
class FinalStatus(SummaryFigures):
    item_type: str
    item_id: int
    status: str  # validated | rework | rejected | no_votes
    session_id: int
    session_title: str
    held_on: date | None
    poll_id: int
    method: str
    summary: dict[str, Any]


def amended_items(process: Process) -> set[tuple[str, int]]:
    """Items amended in a workshop: a kept amendment proposal, or an adopted new wording."""
    amended: set[tuple[str, int]] = set()
    proposals = db.session.execute(
        db.select(Proposal.item_type, Proposal.item_id)
        .join(LiveSession, Proposal.session_id == LiveSession.id)
        .filter(
            LiveSession.process_id == process.id,
            LiveSession.kind == "workshop",
            Proposal.kind == "amendment",
            Proposal.status.in_(AMENDED_STATUSES),
        )
    )
    amended.update((t, i) for t, i in proposals if i is not None)
    versions = db.session.execute(
        db.select(TextVersion.item_type, TextVersion.item_id)
        .join(LiveSession, TextVersion.session_id == LiveSession.id)
        .filter(
            LiveSession.process_id == process.id,
            LiveSession.kind == "workshop",
            TextVersion.kind == "amendment",
        )
    )
    amended.update(versions)
    return amended


def candidates(process: Process) -> list[Candidate]:
    """Every item that may go to the plenary, in field order, with its workshop record."""
    consolidated = {c.key: c for c in consolidate(process)}
    amended = amended_items(process)
    return [
        Candidate(item, consolidated.get(item.key), item.key in amended)
        for item in outline_items(process, ASSEMBLY_TYPES)
    ]


def select(
    items: Iterable[Candidate], rule: str, chosen: Iterable[tuple[str, int]] = ()
) -> list[Candidate]:
    """The candidates a selection rule keeps, in field order."""
    if rule not in SELECTION_RULES:
        raise AssemblyError(lazy_gettext("Choose which items go to the assembly."))
    picked = set(chosen)
    keep = {
        "validated_or_amended": lambda c: c.validated_somewhere or c.amended,
        "voted": lambda c: c.voted,
        "all": lambda c: True,
        "selected": lambda c: c.key in picked,
    }[rule]
    return [c for c in items if keep(c)]


def parse_keys(values: Iterable[str]) -> list[tuple[str, int]]:
    """Keys sent by a form as ``item_type:item_id``; anything else is refused."""
    keys = []
    for value in values:
        item_type, _sep, raw_id = (value or "").partition(":")
        if item_type not in ASSEMBLY_TYPES or not raw_id.isdigit():
            raise AssemblyError(lazy_gettext("An item of the list is not valid."))
        keys.append((item_type, int(raw_id)))
    return keys


def build_assembly(
    process: Process,
    rule: str,
    chosen: Iterable[tuple[str, int]] = (),
    title: str = "",
    held_on: date | None = None,
    place: str = "",
) -> LiveSession:
    """Create the general-assembly session with the chosen items on its agenda, in field order.

    Everything is checked before anything is written: an unknown item, an empty selection or
    a bad title leaves the database as it was.
    """
    chosen = list(chosen)
    pool = candidates(process)
    known = {c.key for c in pool}
    if rule == "selected" and any(key not in known for key in chosen):
        raise AssemblyError(lazy_gettext("An item of the list is not in this process."))
    selected = select(pool, rule, chosen)
    if not selected:
        raise AssemblyError(lazy_gettext("No item matches this choice: nothing to put to a vote."))
    title = (title or "").strip() or DEFAULT_TITLES.get(process.language, DEFAULT_TITLES["en"])
    try:
        session = sessions.create_session(
            process, "assembly", title, held_on=held_on, place=place or ""
        )
    except sessions.SessionError as error:
        raise AssemblyError(error.message) from error
    for candidate in selected:
        sessions.add_agenda_item(session, candidate.item.item_type, candidate.item.item_id)
    return session


def final_status(process: Process) -> dict[tuple[str, int], FinalStatus]:
    """(item_type, item_id) → the status given by the assembly's latest published vote."""
    rows = db.session.execute(
        db.select(Poll, AgendaItem, LiveSession)
        .join(AgendaItem, Poll.agenda_item_id == AgendaItem.id)
        .join(LiveSession, Poll.session_id == LiveSession.id)
        .filter(
            LiveSession.process_id == process.id,
            LiveSession.kind == "assembly",
            Poll.state == "published",
            Poll.method.in_(methods.VERDICT_METHODS),
            AgendaItem.item_type.in_(ASSEMBLY_TYPES),
        )
        .order_by(Poll.closed_at, Poll.id)
    ).all()
    if not rows:
        return {}
    counts = counts_for(poll.id for poll, _item, _session in rows)
    rule = OutcomeRule.from_process(process)
    statuses: dict[tuple[str, int], FinalStatus] = {}
    for poll, item, session in rows:  # later polls overwrite earlier ones
        labels = methods.method(poll.method).document_labels(process)
        summary = methods.summarize(
            poll.method, counts.get(poll.id, {}), rule, poll.options or (), labels
        )
        if summary["verdict"] is None:
            continue  # several options graded: a ranking, no status of the item
        statuses[(item.item_type, item.item_id)] = FinalStatus(
            item_type=item.item_type,
            item_id=item.item_id,
            status=summary.get("outcome") or "no_votes",
            session_id=session.id,
            session_title=session.title,
            held_on=session.held_on,
            poll_id=poll.id,
            method=poll.method,
            summary=summary,
        )
    return statuses
