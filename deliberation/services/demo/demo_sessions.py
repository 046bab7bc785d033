"""Demonstration workshops with recorded results, so that the consolidation and the
traceability pages show something real on first run.

Every ballot goes through the live voting service (participants join with the session code,
polls are opened, ballots cast, polls closed and published), so the counters are exactly what
a real workshop would have left. The sessions are flagged ``demo`` and their titles start
with "[Démo]". Loading is idempotent (a demo session already there is left alone) and
deterministic (a seeded random generator draws the ballots).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ...database import write_transaction
from ...extensions import db
from ...methods import DEFAULT_METHOD
from ...methods.consensus import CONSENSUS
from ...models import Field, LiveSession, Participant, Process, Territory
from ..live import ballots, sessions, voting

DEMO_PREFIX = "[Démo]"
SEED = 20131024


@dataclass(frozen=True)
class Vote:
    """One item put to the vote: ``ballots`` is a list of (group, choice); None means the
    item was on the agenda but never voted on."""

    item_type: str
    item_id: int
    ballots: Sequence[tuple[str, dict]] | None
    method: str = DEFAULT_METHOD
    publish: bool = True
    # Options of a majority-judgment or dot vote ({"key", "label"}); None: the item's own.
    options: Sequence[dict] | None = None


def record_session(
    process: Process,
    title: str,
    votes: Sequence[Vote],
    session_kind: str = "workshop",
    territory: Territory | None = None,
    field: Field | None = None,
    held_on: date | None = None,
    place: str = "",
    demo: bool = False,
) -> LiveSession:
    """A session whose agenda holds ``votes``' items and whose polls hold their ballots.

    Participants are shared across the items: the k-th ballot of group g on every item
    comes from the same person, as in a real room.
    """
    session = sessions.create_session(
        process,
        session_kind,
        title,
        field_id=field.id if field else None,
        territory_id=territory.id if territory else None,
        held_on=held_on,
        place=place,
    )
    if demo:
        with write_transaction():
            session.demo = True
    people: dict[tuple[str, int], Participant] = {}
    for number, vote in enumerate(votes):
        agenda_item = sessions.add_agenda_item(session, vote.item_type, vote.item_id)
        if vote.ballots is None:
            continue
        poll = voting.open_poll(
            session,
            agenda_item,
            vote.method,
            options=list(vote.options) if vote.options is not None else None,
            actor="demo",
        )
        seen: dict[str, int] = {}
        for index, (group, choice) in enumerate(vote.ballots):
            rank = seen.get(group, 0)
            seen[group] = rank + 1
            participant = people.get((group, rank))
            if participant is None:
                participant, _token = sessions.join(session.join_code, group=group)
                people[(group, rank)] = participant
            ballots.cast(participant.id, poll.id, f"demo-{session.id}-{number}-{index}", choice)
        voting.close_poll(poll, actor="demo")
        if vote.publish:
            voting.publish_poll(poll, actor="demo")
    return session


def consensus_ballots(
    rng: random.Random, spec: Sequence[tuple[str, int, Sequence[float]]]
) -> list[tuple[str, dict]]:
    """Ballots drawn per group: (group, how many, weights of full/reservations/mixed/
    disagree/block)."""
    ballots = []
    for group, count, weights in spec:
        for answer in rng.choices(CONSENSUS.answer_keys, weights=weights, k=count):
            ballots.append((group, {"answer": answer}))
    return ballots


# Weights of the five answers, from keen to hostile.
KEEN = (6, 3, 1, 0.3, 0)
FAVOURABLE = (3, 4, 2, 1, 0)
SPLIT = (1, 2, 3, 3, 0.5)
HOSTILE = (0.3, 1, 2, 4, 1)


def _field_one_items(process: Process) -> list[tuple[str, int]]:
    field_one = process.fields[0] if process.fields else None
    if field_one is None:
        return []
    items: list[tuple[str, int]] = []
    for finding in field_one.findings:
        items += [("recommendation", r.id) for r in finding.recommendations]
        items += [("action_path", a.id) for a in finding.action_paths]
    return items


def ensure_demo_sessions(process: Process) -> list[str]:
    """Two or three demonstration workshops on field 1, in different territories (needs the
    process to have at least two territories and items in field 1). Returns report lines.

    The three workshops differ on purpose: in the first the groups broadly agree, in the
    second service users and professionals diverge, and the third leaves its last item
    without a vote."""
    # Only into a process without sessions: demo workshops already there are left alone, and
    # so is a process where the organisers run (or deleted) their own sessions.
    existing = db.session.scalar(
        db.select(LiveSession.demo).filter_by(process_id=process.id).limit(1)
    )
    if existing is not None:
        return [
            "Demo workshops already there."
            if existing
            else "The process has sessions of its own: no demo workshops added."
        ]
    # Four items × three workshops × about a dozen ballots: enough to read, quick to load
    # (every ballot goes through the voting service, one transaction each).
    items = _field_one_items(process)[:4]
    territories = list(process.territories)
    if len(items) < 2 or len(territories) < 2:
        return ["Demo workshops skipped: field 1 needs items and the process two territories."]
    rng = random.Random(SEED)
    field_one = process.fields[0]
    plans = [
        # A territory where the groups agree with each other.
        ((KEEN, KEEN), date(2013, 10, 24)),
        # A territory where service users and professionals diverge.
        ((FAVOURABLE, HOSTILE), date(2013, 11, 7)),
        # A territory more split, which leaves its last item without a vote.
        ((SPLIT, SPLIT), date(2013, 11, 21)),
    ]
    lines = []
    for index, (territory, ((users, workers), held_on)) in enumerate(
        zip(territories, plans, strict=False)
    ):
        votes = []
        for number, (item_type, item_id) in enumerate(items):
            if index == 2 and number == len(items) - 1:
                votes.append(Vote(item_type, item_id, None))
                continue
            spec = [
                ("service_user", rng.randint(4, 6), users),
                ("social_worker", rng.randint(4, 6), workers),
                ("employer", 3, FAVOURABLE),
                ("", rng.randint(0, 1), SPLIT),
            ]
            votes.append(Vote(item_type, item_id, consensus_ballots(rng, spec)))
        record_session(
            process,
            f"{DEMO_PREFIX} Atelier champ 1 — {territory.name}",
            votes,
            territory=territory,
            field=field_one,
            held_on=held_on,
            place=territory.name,
            demo=True,
        )
        lines.append(f"Demo workshop recorded in {territory.name} ({len(votes)} items).")
    return lines
