"""Casting ballots: the hot path of a hall voting at once (the rules are those of ``voting``).

:func:`cast` is what the phone's socket, the HTTP fallback and the demo call. It goes
through the process's :class:`~deliberation.group_commit.GroupCommit`: ballots arriving
while another batch is being written are written together, in ONE transaction that locks
the poll row(s) first (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on PostgreSQL), reads
the receipts and earlier ballots of the whole batch in two queries, and writes the batch's
ballots, counters and receipts in one statement each on PostgreSQL (arrays, ``unnest``),
one executemany each on SQLite. So a close can never slip between a ballot and its
counters, and the count at close is final.

Each ballot keeps its own answer: a refusal (closed poll, stale round…) refuses that ballot
only, and a batch whose write fails for any reason is written again ballot by ballot, so
one bad ballot can never fail the others. Nothing is acknowledged before the commit.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import JSON, Connection, Text, any_, bindparam, func
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ... import inputs
from ...extensions import db
from ...group_commit import GroupCommit
from ...models import Ballot, BallotReceipt, Participant, Poll, PollCount, utcnow
from .voting import (
    BALLOT_ID,
    BALLOTS_KEY,
    CastResult,
    VoteError,
    choice_counters,
    write_or_busy,
)

MAX_BATCH = 256
# While ballots arrive faster than they are written, a batch waits this long for more: a
# hall of 2,000 then shares each transaction among several ballots (docs/benchmarks.md).
GATHER_S = 0.01

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BallotRequest:
    """One ballot as received: the fields are checked by :func:`cast_many`, not here."""

    participant_id: int
    poll_id: Any
    ballot_id: Any
    choice: Any
    round: Any = None

    def malformed(self) -> bool:
        """Ids out of range never reach the batch (SQLite cannot even bind them)."""
        return (
            not inputs.is_id(self.poll_id)
            or not isinstance(self.ballot_id, str)
            or not BALLOT_ID.match(self.ballot_id)
            or (self.round is not None and not inputs.is_round(self.round))
        )


Outcome = CastResult | VoteError


def cast(
    participant_id: int,
    poll_id: Any,
    ballot_id: Any,
    choice: Any,
    round: Any = None,
) -> CastResult:
    """Record a participant's ballot, once. Acknowledge only what this returns (committed).

    A ``ballot_id`` seen before for this poll is a resend: acknowledged as a duplicate and
    never counted again, even after the poll closed. A new ``ballot_id`` from someone who
    already voted replaces their ballot while the poll is open (the last one counts).
    Raises :class:`VoteError` for a refusal; nothing of that ballot was written.
    """
    request = BallotRequest(participant_id, poll_id, ballot_id, choice, round)
    outcome = _writer().submit(request)
    # The batch may have been written by another caller's transaction (group commit) while
    # this caller's session held a read begun earlier (SQLite: a snapshot from before that
    # commit). End it, so that what this caller reads next shows its ballot: the phone page
    # a no-JavaScript vote answers with said "recorded" for 39 of 100 ballots before
    # (bench.live --http form, docs/benchmarks.md).
    session = db.session()
    if session.in_transaction():
        session.commit()
    if isinstance(outcome, VoteError):
        raise outcome
    return outcome


def cast_many(requests: list[BallotRequest]) -> list[Outcome]:
    """Write a batch of ballots in one transaction; one outcome per request, in order."""
    outcomes: list[Outcome | None] = [
        VoteError("bad_request") if request.malformed() else None for request in requests
    ]
    todo = [index for index, outcome in enumerate(outcomes) if outcome is None]
    if todo:
        try:
            # A lock or a connection that cannot be had in time is server_busy: nothing is
            # written, the phones keep their ballots and send them again.
            with write_or_busy():
                # Statements go to the connection itself: the ORM session's bookkeeping
                # per statement costs more than the statement on this path.
                connection = db.session.connection()
                voters = _voters(connection, {requests[index].participant_id for index in todo})
                written = _write(connection, requests, todo, voters)
        except VoteError as busy:
            written = {index: busy for index in todo}
        except Exception as error:  # noqa: BLE001 - whatever it is, it fails one ballot only
            # Retried one by one, so one ballot cannot sink the others. A constraint
            # another writer hit first (no path known: the poll lock orders them) is worth
            # sending again; anything else is a server fault, logged without the ballot
            # (it may hold a choice).
            db.session.rollback()
            if len(todo) > 1:
                written = {index: cast_many([requests[index]])[0] for index in todo}
            elif isinstance(error, IntegrityError):
                written = {todo[0]: VoteError("server_busy")}
            else:
                log.error("a ballot could not be written: %s", type(error).__name__)
                written = {todo[0]: VoteError("server_error")}
        for index, outcome in written.items():
            outcomes[index] = outcome
    return outcomes  # type: ignore[return-value]


def _writer() -> GroupCommit[BallotRequest, Outcome]:
    """The app's group commit (one per app: a leader writes with its own app's database)."""
    extensions = current_app.extensions
    writer = extensions.get("ballot_writer")
    if writer is None:
        writer = extensions.setdefault(
            "ballot_writer", GroupCommit(cast_many, max_batch=MAX_BATCH, gather_s=GATHER_S)
        )
    return writer


# -- inside the transaction -----------------------------------------------------------------


@dataclass
class _Current:
    """A voter's ballot as it stands in this batch: in the database (row) or to insert."""

    choice: dict
    group: str
    row: int | None = None
    insert: dict[str, Any] | None = None


def _voters(connection: Connection, participant_ids: set[int]) -> dict[int, tuple[int, str]]:
    """participant id -> (session id, group)."""
    rows = connection.execute(
        _statement("voters", connection), {"participant_ids": sorted(participant_ids)}
    ).all()
    return {row.id: (row.session_id, row.group or "") for row in rows}


def _write(
    connection: Connection,
    requests: list[BallotRequest],
    todo: list[int],
    voters: dict[int, tuple[int, str]],
) -> dict[int, Outcome]:
    def execute(name: str, parameters: Any) -> Any:
        return connection.execute(_statement(name, connection), parameters)

    poll_ids = sorted({requests[index].poll_id for index in todo})
    polls = {row.id: row for row in execute("lock_polls", {"poll_ids": poll_ids})}
    keys = {"poll_ids": list(polls) or [0]}
    receipts = {
        (row.poll_id, row.client_id): (row.participant_id, row.round)
        for row in execute(
            "receipts",
            {**keys, "client_ids": sorted({requests[index].ballot_id for index in todo})},
        )
    }
    current = {
        (row.poll_id, row.participant_id): _Current(row.choice, row.group, row=row.id)
        for row in execute("ballots", {**keys, "participant_ids": sorted(voters)})
    }
    now = utcnow()
    outcomes: dict[int, Outcome] = {}
    inserts: list[dict[str, Any]] = []
    updates: dict[int, dict[str, Any]] = {}
    new_receipts: list[dict[str, Any]] = []
    deltas: dict[tuple[int, str, str], int] = defaultdict(int)

    def add(poll_id: int, group: str, counters: dict[str, int], sign: int) -> None:
        for key, amount in {BALLOTS_KEY: 1, **counters}.items():
            deltas[(poll_id, group, key)] += sign * amount

    for index in todo:
        request = requests[index]
        try:
            voter = voters.get(request.participant_id)
            if voter is None:
                raise VoteError("invalid_token")
            session_id, group = voter
            poll = polls.get(request.poll_id)
            if poll is None:
                raise VoteError("unknown_poll")
            if poll.session_id != session_id:
                raise VoteError("not_in_session")
            receipt = receipts.get((poll.id, request.ballot_id))
            if receipt is not None:
                # A closed secret poll's receipts name nobody: the id alone is the proof.
                owner, counted_in = receipt
                if owner is not None and owner != request.participant_id:
                    # Another participant's ballot id: refused, theirs untouched.
                    raise VoteError("bad_request")
                if counted_in != poll.round:
                    # Counted in a round a reset has since removed: it counts no more.
                    raise VoteError("stale_round")
                outcomes[index] = CastResult(request.ballot_id, True, poll.id, poll.session_id)
                continue
            if request.round is not None and request.round != poll.round:
                raise VoteError("stale_round")
            if poll.state != "open":
                raise VoteError("poll_not_open")
            cleaned, counters = choice_counters(poll, request.choice)
        except VoteError as refusal:
            outcomes[index] = refusal
            continue
        ballot = current.get((poll.id, request.participant_id))
        if ballot is None:
            row = {
                "poll_id": poll.id,
                "participant_id": request.participant_id,
                "choice": cleaned,
                "group": group,
                "cast_at": now,
            }
            inserts.append(row)
            current[(poll.id, request.participant_id)] = _Current(cleaned, group, insert=row)
        else:
            # A change of vote: the old choice leaves the counters, the new one enters.
            add(poll.id, ballot.group, choice_counters(poll, ballot.choice)[1], -1)
            ballot.choice, ballot.group = cleaned, group
            if ballot.insert is not None:
                ballot.insert.update(choice=cleaned, group=group, cast_at=now)
            else:
                updates[ballot.row] = {
                    "ballot_row": ballot.row,
                    "choice": cleaned,
                    "group": group,
                    "cast_at": now,
                }
        add(poll.id, group, counters, 1)
        receipts[(poll.id, request.ballot_id)] = (request.participant_id, poll.round)
        new_receipts.append(
            {
                "poll_id": poll.id,
                "client_id": request.ballot_id,
                "participant_id": request.participant_id,
                "round": poll.round,
            }
        )
        outcomes[index] = CastResult(request.ballot_id, False, poll.id, poll.session_id)

    bumps = [
        {"poll_id": poll_id, "group": group, "key": key, "count": count}
        for (poll_id, group, key), count in sorted(deltas.items())
        if count
    ]
    for name, rows in (
        ("insert_ballot", inserts),
        ("update_ballot", list(updates.values())),
        ("bump", bumps),
        ("insert_receipt", new_receipts),
    ):
        if rows:
            execute(name, _rows_as_parameters(connection, name, rows))
    return outcomes


# -- statements, built once per process and dialect ------------------------------------------

# The rows each write takes, column by column. On PostgreSQL a batch's rows travel as one
# array per column in ONE statement (``unnest``): an executemany through psycopg runs (and
# sends) one statement per row, each ~50-100 µs of the server's CPU under gevent, whether
# pipelined or not (docs/benchmarks.md, "Fewer round trips per batch"). On SQLite (in
# process) executemany is the cheapest.
BULK_COLUMNS: dict[str, tuple[str, ...]] = {
    "insert_ballot": ("poll_id", "participant_id", "choice", "group", "cast_at"),
    "update_ballot": ("ballot_row", "choice", "group", "cast_at"),
    "bump": ("poll_id", "group", "key", "count"),
    "insert_receipt": ("poll_id", "client_id", "participant_id", "round"),
}


def _rows_as_parameters(connection: Connection, name: str, rows: list[dict[str, Any]]) -> Any:
    """The parameters of a write: the rows themselves (executemany), or on PostgreSQL one
    list per column, a choice as its JSON text (cast back to JSON in the statement)."""
    if connection.dialect.name != "postgresql":
        return rows
    columns: dict[str, list[Any]] = {column: [] for column in BULK_COLUMNS[name]}
    for row in rows:
        for column, values in columns.items():
            values.append(json.dumps(row[column]) if column == "choice" else row[column])
    return columns


_statements: dict[str, Any] = {}


def _statement(name: str, connection: Connection) -> Any:
    dialect = connection.dialect.name
    key = f"{dialect}:{name}"
    if key not in _statements:
        _statements[key] = _build(dialect, name)
    return _statements[key]


def _build(dialect: str, name: str) -> Any:
    if dialect == "postgresql" and name in BULK_COLUMNS:
        return _build_bulk_postgresql(name)
    polls, ballots = Poll.__table__, Ballot.__table__
    receipts, participants = BallotReceipt.__table__, Participant.__table__

    def among(column: Any, values: str) -> Any:
        # PostgreSQL: ``= ANY(:array)``, the same SQL for every batch size, so the server
        # parses it once (psycopg prepares a statement run often). SQLite: an expanding IN.
        if dialect == "postgresql":
            return column == any_(bindparam(values, type_=ARRAY(column.type)))
        return column.in_(bindparam(values, expanding=True))

    if name == "voters":
        # A voided place (its ticket voided) votes no more: invalid_token.
        return db.select(participants.c.id, participants.c.session_id, participants.c.group).where(
            among(participants.c.id, "participant_ids"),
            participants.c.voided_at.is_(None),
        )
    if name == "lock_polls":
        # Ordered, so two writers locking the same polls take them in the same order.
        return (
            db.select(
                polls.c.id,
                polls.c.session_id,
                polls.c.state,
                polls.c.round,
                polls.c.method,
                polls.c.options,
                polls.c.dots,
            )
            .where(among(polls.c.id, "poll_ids"))
            .order_by(polls.c.id)
            .with_for_update()
        )
    if name == "receipts":
        return db.select(
            receipts.c.poll_id, receipts.c.client_id, receipts.c.participant_id, receipts.c.round
        ).where(among(receipts.c.poll_id, "poll_ids"), among(receipts.c.client_id, "client_ids"))
    if name == "ballots":
        return db.select(
            ballots.c.id,
            ballots.c.poll_id,
            ballots.c.participant_id,
            ballots.c.choice,
            ballots.c.group,
        ).where(
            among(ballots.c.poll_id, "poll_ids"),
            among(ballots.c.participant_id, "participant_ids"),
        )
    if name == "insert_ballot":
        return ballots.insert()
    if name == "update_ballot":
        return (
            ballots.update()
            .where(ballots.c.id == bindparam("ballot_row"))
            .values(
                choice=bindparam("choice"), group=bindparam("group"), cast_at=bindparam("cast_at")
            )
        )
    if name == "insert_receipt":
        return receipts.insert()
    if name == "bump":
        return _add_to_counters(sqlite_insert(PollCount.__table__).values(
            poll_id=bindparam("poll_id"),
            group=bindparam("group"),
            key=bindparam("key"),
            count=bindparam("count"),
        ))  # fmt: skip
    raise KeyError(name)


def _add_to_counters(insert: Any) -> Any:
    """Adds each row's count to its counter, creating the counter when missing."""
    table = PollCount.__table__
    return insert.on_conflict_do_update(
        index_elements=[table.c.poll_id, table.c.group, table.c.key],
        set_={"count": table.c.count + insert.excluded["count"]},
    )


def _build_bulk_postgresql(name: str) -> Any:
    """A write of many rows in one statement: the rows come as one array per column
    (:data:`BULK_COLUMNS`), ``unnest`` turns them back into rows."""
    table = {
        "insert_ballot": Ballot.__table__,
        "update_ballot": Ballot.__table__,
        "bump": PollCount.__table__,
        "insert_receipt": BallotReceipt.__table__,
    }[name]
    columns = BULK_COLUMNS[name]

    def array_of(column: str) -> Any:
        if column == "ballot_row":
            return bindparam(column, type_=ARRAY(table.c.id.type))
        # A choice travels as JSON text (PostgreSQL has no array of json parameters).
        element = Text() if column == "choice" else table.c[column].type
        return bindparam(column, type_=ARRAY(element))

    rows = (
        func.unnest(*(array_of(column) for column in columns))
        .table_valued(*columns)
        .render_derived(name="batch")
    )
    values = {
        column: sql_cast(rows.c[column], JSON) if column == "choice" else rows.c[column]
        for column in columns
        if column != "ballot_row"
    }
    if name == "update_ballot":
        return table.update().where(table.c.id == rows.c.ballot_row).values(**values)
    statement = pg_insert(table).from_select(list(values), db.select(*values.values()))
    return _add_to_counters(statement) if name == "bump" else statement
