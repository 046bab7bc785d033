"""Secret polls, on SQLite and PostgreSQL: once closed, nothing stored links a participant
to a choice; a test plays the attacker and tries to join them by ids, by row order, by time
and by group size, in every table (and, on SQLite, in the database files' bytes). Named
polls keep their record."""

from __future__ import annotations

import json
import struct
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import DateTime, inspect

from deliberation.extensions import db
from deliberation.models import (
    Ballot,
    Participant,
    Poll,
    PollAudit,
    PollCount,
    PollVoter,
)
from deliberation.services.live import ballots, record, secrecy, sessions, voting
from tests.live_fixtures import ballot_id, free_item, make_process, workshop

# Who votes, and what. Group sizes chosen to exercise the folding: 5 and 4 are shown, the
# lone employer, the 2 experts and the one who gave no group must be merged into "other".
ROOM = [
    ("Amandine Service", "service_user", "full"),
    ("Bastien Service", "service_user", "full"),
    ("Chloé Service", "service_user", "reservations"),
    ("Dorian Service", "service_user", "mixed"),
    ("Eliott Service", "service_user", "block"),
    ("Fanny Travail", "social_worker", "disagree"),
    ("Gaspard Travail", "social_worker", "full"),
    ("Hortense Travail", "social_worker", "reservations"),
    ("Igor Travail", "social_worker", "reservations"),
    ("Josiane Patron", "employer", "block"),
    ("Kévin Expert", "expert", "mixed"),
    ("Léa Expert", "expert", "disagree"),
    ("Marius Anonyme", "", "full"),
]
SMALL_GROUPS = {"employer", "expert", ""}
ANSWERS = ("full", "reservations", "mixed", "disagree", "block")


@pytest.fixture
def ctx(any_db_app):
    with any_db_app.test_request_context(), force_locale("en"):
        yield any_db_app


def hold_a_secret_vote(changes: bool = True) -> tuple[Poll, dict[int, str], list[str]]:
    """A secret consensus vote of ROOM, with changes of mind; returns the poll, each
    participant's final answer, and the times the ballots were stored with (before close)."""
    process = make_process()
    session = workshop(process)
    poll = voting.open_poll(session, free_item(session), "consensus")
    truth: dict[int, str] = {}
    for name, group, answer in ROOM:
        participant, _token = sessions.join(session.join_code, name, group)
        if changes:  # a first choice, then the final one: the ballot row is rewritten
            ballots.cast(participant.id, poll.id, ballot_id(), {"answer": "block"})
        ballots.cast(participant.id, poll.id, ballot_id(), {"answer": answer})
        truth[participant.id] = answer
    stored_times = [
        str(moment) for moment in db.session.scalars(db.select(Ballot.cast_at)) if moment
    ]
    # While open, the ballot rows still name their voter (a vote can be changed)...
    assert db.session.scalar(
        db.select(db.func.count(Ballot.id)).where(Ballot.participant_id.is_not(None))
    ) == len(ROOM)
    voting.close_poll(poll, actor="f@example.org")
    db.session.expire_all()
    return db.session.get(Poll, poll.id), truth, stored_times


def every_row() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as an attacker holding a copy of the database sees it."""
    rows = {}
    for table in db.metadata.sorted_tables:
        rows[table.name] = [dict(row._mapping) for row in db.session.execute(table.select())]
    return rows


def test_a_closed_secret_poll_links_no_participant_to_a_choice(ctx):
    poll, truth, stored_times = hold_a_secret_vote()
    participants = {p.id: p for p in db.session.scalars(db.select(Participant))}
    names = {p.display_name for p in participants.values()}
    tables = every_row()

    # 1. No row of any table holds a participant (id, name, token) next to a choice.
    participant_columns = {
        (table.name, column.name)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "participant" for fk in column.foreign_keys)
    }
    for table_name, rows in tables.items():
        for row in rows:
            text = json.dumps(row, default=str)
            names_in_row = [name for name in names if name in text]
            refers = any(
                row.get(column) is not None
                for table, column in participant_columns
                if table == table_name
            )
            if table_name == "participant":
                continue  # who joined: names and groups, no choice
            if refers or names_in_row:
                assert not any(f'"{answer}"' in text for answer in ANSWERS), (table_name, row)

    # 2. The urn: one row per voter, no participant, no time, folded groups.
    urn = sorted(tables["ballot"], key=lambda row: row["id"])
    assert len(urn) == len(ROOM)
    assert all(row["participant_id"] is None and row["cast_at"] is None for row in urn)
    assert Counter(row["choice"]["answer"] for row in urn) == Counter(truth.values())

    # 3. By order: the rows' ids follow their content (group, then choice) and nothing else,
    # so lining them up with the order of joining, of the roll or of the receipts says no
    # more than the totals do.
    def content(row: dict[str, Any]) -> tuple[str, str]:
        return row["group"], json.dumps(row["choice"], sort_keys=True, separators=(",", ":"))

    assert [content(row) for row in urn] == sorted(content(row) for row in urn)
    voting_order = [truth[pid] for pid in sorted(truth)]
    assert [row["choice"]["answer"] for row in urn] != voting_order  # not the cast order
    roll = [
        row["participant_id"]
        for row in sorted(tables["poll_voter"], key=lambda row: row["id"])
        if row["poll_id"] == poll.id
    ]
    assert roll == sorted(truth)  # who voted, in participant order: no time, no choice

    # 4. By time: nothing of this poll keeps a moment, but the audit of its two actions.
    for table in db.metadata.sorted_tables:
        if table.name in ("ballot", "ballot_receipt", "poll_voter", "poll_count"):
            moments = [c.name for c in table.columns if isinstance(c.type, DateTime)]
            for row in tables[table.name]:
                assert all(row[name] is None for name in moments), (table.name, row)
    audit = [row for row in tables["poll_audit"] if row["poll_id"] == poll.id]
    assert [row["action"] for row in audit] == ["open", "close"]

    # 5. By group size: no group under 3 voters is kept anywhere, in the urn, the counters
    # or the audit (the lone employer would be named by it).
    kept_groups = {row["group"] for row in urn} | {
        row["group"] for row in tables["poll_count"] if row["poll_id"] == poll.id
    }
    assert kept_groups == {"service_user", "social_worker", "other"}
    for row in audit:
        assert SMALL_GROUPS.isdisjoint(row["details"].get("counts", {})), row
    assert audit[0]["details"] == {
        "round": 1,
        "ballots": 0,
        "method": "consensus",
        "auto_close": True,
    }

    # 6. Receipts acknowledge a resend by id alone: they name nobody.
    receipts = [row for row in tables["ballot_receipt"] if row["poll_id"] == poll.id]
    assert len(receipts) == 2 * len(ROOM)
    assert all(row["participant_id"] is None for row in receipts)

    # 7. The counters are the urn's totals, and what the screens show.
    urn_counts: dict[str, Counter] = {}
    for row in urn:
        urn_counts.setdefault(row["group"], Counter())["#ballots"] += 1
        urn_counts[row["group"]][row["choice"]["answer"]] += 1
    assert voting.counts_by_group(poll) == {g: dict(c) for g, c in urn_counts.items()}
    shown = voting.results(poll)
    assert shown["ballots"] == len(ROOM)
    assert {g["group"]: g["ballots"] for g in shown["groups"]} == {
        "service_user": 5,
        "social_worker": 4,
        "other": 4,
    }

    # 8. Each participant can still be told their vote counted, from the roll.
    for participant_id in truth:
        assert voting.has_voted(poll, participants[participant_id])
    assert record.named_record(poll, {}) == []  # a secret poll has no record

    # 9. The database files: on SQLite the bytes of the deleted rows are gone too (secure
    # delete, and the write-ahead log truncated): none of the ballots' old times is left.
    engine = db.engine
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        raw = path.read_bytes()
        assert stored_times and not [t for t in stored_times if t.encode() in raw]
    else:
        assert_no_old_ballot_survives_in_postgresql_pages(stored_times)


def assert_no_old_ballot_survives_in_postgresql_pages(stored_times: list[str]) -> None:
    """PostgreSQL: after the VACUUM run at close, the ballot table's pages hold no tuple,
    live or dead, of the old rows: each had a time, the urn's rows have none."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        pages = connection.exec_driver_sql(
            "SELECT pg_relation_size('ballot') / current_setting('block_size')::int"
        ).scalar()
        tuples = []
        for page in range(pages):
            tuples += connection.exec_driver_sql(
                "SELECT lp_flags, t_data FROM heap_page_items(get_raw_page('ballot', %s))",
                (page,),
            ).all()
    # Only the urn's tuples are left as tuples (lp_flags 1 = normal; 0 = unused slot).
    live = [t for t in tuples if t.lp_flags == 1]
    assert len(live) == len(ROOM)
    assert all(t.t_data is None for t in tuples if t.lp_flags != 1)
    # None of the tuples left holds an old time (PostgreSQL timestamps: microseconds
    # since 2000-01-01, 8 bytes little-endian on this machine).
    epoch = datetime(2000, 1, 1)
    for moment in stored_times:
        micros = int((datetime.fromisoformat(moment) - epoch).total_seconds() * 1_000_000)
        needle = struct.pack("<q", micros)
        assert not any(t.t_data and needle in bytes(t.t_data) for t in live)


def test_resetting_a_closed_secret_poll_removes_its_urn_and_counts(ctx):
    poll, truth, _times = hold_a_secret_vote(changes=False)
    voting.reset_poll(poll, actor="f@example.org")
    db.session.expire_all()
    poll = db.session.get(Poll, poll.id)
    assert (poll.state, poll.round) == ("draft", 2)
    for model in (Ballot, PollCount, PollVoter):
        assert not db.session.scalar(db.select(db.func.count()).select_from(model))
    reset = db.session.scalar(db.select(PollAudit).filter_by(poll_id=poll.id, action="reset"))
    # What the reset removed is kept folded, as the close kept it: no small group.
    assert set(reset.details["counts"]) == {"service_user", "social_worker", "other"}
    voting.open_poll(poll.session, poll.agenda_item, "consensus")
    voter = db.session.get(Participant, next(iter(truth)))
    assert not voting.has_voted(poll, voter)
    ballots.cast(voter.id, poll.id, ballot_id(), {"answer": "full"}, 2)
    assert voting.voted_count(poll) == 1


def test_an_open_secret_poll_shows_and_audits_turnout_only(ctx):
    process = make_process()
    session = workshop(process)
    poll = voting.open_poll(session, free_item(session), "yes_no", show_live=True)
    assert poll.secret and not poll.show_live  # show_live is for named polls
    (alice,) = [sessions.join(session.join_code, "Alice", "employer")[0]]
    ballots.cast(alice.id, poll.id, ballot_id(), {"answer": "no"})
    for role in ("facilitator", "projector", "phone"):
        state = sessions.state_for(session, role, alice if role == "phone" else None)
        assert state["results"] is None and state["record"] is None
    assert sessions.state_for(session, "facilitator")["counts"]["voted"] == 1
    with pytest.raises(voting.VoteError) as refused:
        voting.set_show_live(poll, True)
    assert refused.value.code == "secret_no_live"
    voting.reset_poll(poll)  # while open: the audit keeps how many, not what
    audit = db.session.scalar(db.select(PollAudit).filter_by(poll_id=poll.id, action="reset"))
    assert audit.details == {"round": 1, "ballots": 1}


def test_secret_or_named_is_checked_and_said_to_every_screen(ctx):
    process = make_process()
    session = workshop(process)
    item = free_item(session)
    with pytest.raises(voting.VoteError) as refused:
        voting.open_poll(session, item, "consensus", secret="no")
    assert refused.value.code == "bad_request"
    poll = voting.open_poll(session, item, "consensus", secret=False)
    assert poll.secret is False
    for role in ("facilitator", "projector", "phone"):
        assert sessions.state_for(session, role)["poll"]["secret"] is False


def test_a_named_poll_keeps_its_record(ctx):
    process = make_process()
    session = workshop(process)
    poll = voting.open_poll(session, free_item(session), "yes_no", secret=False)
    people = []
    for name, group, answer in (("Ana", "service_user", "yes"), ("", "employer", "no")):
        participant, _token = sessions.join(session.join_code, name, group)
        ballots.cast(participant.id, poll.id, ballot_id(), {"answer": answer})
        people.append(participant)
    # Open: the console sees the live distribution (a named poll), not yet the record.
    assert sessions.state_for(session, "facilitator")["record"] is None
    voting.close_poll(poll)
    db.session.expire_all()
    poll = db.session.get(Poll, poll.id)
    rows = sessions.state_for(session, "facilitator")["record"]
    assert [(r["participant"], r["name"], r["group"], r["choice_label"]) for r in rows] == [
        (1, "Ana", "service_user", "Yes"),
        (2, "", "employer", "No"),
    ]
    # The ballots keep their voters; nothing was folded or anonymised.
    assert (
        db.session.scalar(
            db.select(db.func.count(Ballot.id)).where(Ballot.participant_id.is_not(None))
        )
        == 2
    )
    assert voting.counts_by_group(poll)["employer"] == {"#ballots": 1, "no": 1}
    assert sessions.state_for(session, "projector")["record"] is None


def test_majority_judgment_and_dot_choices_in_words():
    options = [{"key": "a", "label": "Option A"}, {"key": "b", "label": "Option B"}]
    grades = {"good": "Good", "poor": "Poor"}
    judged = Poll(method="majority_judgment", options=options)
    assert (
        record.choice_text(judged, {"grades": {"a": "good", "b": "poor"}}, grades)
        == "Option A: Good; Option B: Poor"
    )
    assert record.choice_text(Poll(method="dot", options=options), {"dots": {"b": 2}}, {}) == (
        "Option B × 2"
    )
    assert record.choice_text(Poll(method="yes_no"), {"answer": "yes"}, {"yes": "Oui"}) == "Oui"


def test_the_scrub_truncates_the_sqlite_log(tmp_path, monkeypatch):
    import sqlite3

    path = tmp_path / "scrub.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.execute("INSERT INTO t VALUES ('a ballot')")
    connection.commit()
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0
    # A reader in the middle of a read keeps the log: the scrub waits, then gives up.
    monkeypatch.setattr(secrecy, "CHECKPOINT_ATTEMPTS", 1)
    monkeypatch.setattr(secrecy, "CHECKPOINT_BUSY_MS", 50)
    try:
        connection.execute("BEGIN")
        connection.execute("SELECT * FROM t").fetchall()
        assert secrecy.checkpoint_sqlite(str(path)) is False
        connection.execute("COMMIT")
        assert secrecy.checkpoint_sqlite(str(path)) is True
        assert wal.stat().st_size == 0  # truncated while a connection is still open
    finally:
        connection.close()


def test_every_column_naming_a_participant_is_known_to_the_secrecy_rules(ctx):
    """A new table or column pointing at a participant must be thought through: listed
    here with the reason it cannot link a person to a secret choice."""
    reasons = {
        ("ballot", "participant_id"): "cleared when a secret poll closes",
        ("ballot_receipt", "participant_id"): "cleared when a secret poll closes",
        ("poll_voter", "participant_id"): "who voted: no choice, no time",
        ("proposal", "participant_id"): "proposals from the floor: no ballot",
        ("ticket", "participant_id"): "admission: no ballot",
    }
    found = {
        (table.name, column.name)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "participant" for fk in column.foreign_keys)
    }
    assert found == set(reasons)
    assert inspect(db.engine).has_table("poll_voter")
