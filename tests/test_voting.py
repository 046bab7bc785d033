"""The vote rules on SQLite and PostgreSQL: one ballot per voter, resends acknowledged and
never counted twice, changes of vote, refusals that write nothing, the lifecycle, and
ballots racing a close."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

import pytest
from flask_babel import force_locale

from deliberation.extensions import db
from deliberation.models import Ballot, BallotReceipt, Participant, Poll, PollAudit, PollCount
from deliberation.services.live import ballots, sessions, voting
from deliberation.services.live.voting import VoteError
from tests.live_fixtures import ballot_id, free_item, make_process, voters, workshop


@pytest.fixture
def ctx(any_db_app):
    with any_db_app.test_request_context(), force_locale("en"):
        yield any_db_app


def open_free_poll(method: str = "consensus", **options):
    process = make_process()
    session = workshop(process)
    item = free_item(session)
    poll = voting.open_poll(session, item, method, **options)
    return session, poll


def recount(poll: Poll) -> dict[str, dict[str, int]]:
    """The counts as they would be recomputed from the ballots (the tests' oracle)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for ballot in db.session.scalars(db.select(Ballot).filter_by(poll_id=poll.id)):
        _, counters = voting.choice_counters(poll, ballot.choice)
        counts[ballot.group]["#ballots"] += 1
        counts[ballot.group].update(counters)
    return {group: dict(counter) for group, counter in counts.items()}


def refused(code: str, call, *args, **kwargs) -> None:
    writes_before = _writes()
    with pytest.raises(VoteError) as error:
        call(*args, **kwargs)
    assert error.value.code == code
    assert str(error.value.message)
    assert _writes() == writes_before


def _writes() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(db.select(db.func.count(model.id)))
        for model in (Ballot, BallotReceipt, PollCount, PollAudit)
    )


def test_cast_counts_once_and_resend_is_a_duplicate(ctx):
    session, poll = open_free_poll()
    alice, bob = voters(session, ["service_user", "employer"])
    first = ballot_id()
    result = ballots.cast(alice.id, poll.id, first, {"answer": "full"})
    assert result.ack() == {"ok": True, "ballot_id": first, "duplicate": False}
    again = ballots.cast(alice.id, poll.id, first, {"answer": "full"})
    assert again.duplicate is True
    ballots.cast(bob.id, poll.id, ballot_id(), {"answer": "block"})
    assert voting.voted_count(poll) == 2
    assert (
        voting.counts_by_group(poll)
        == recount(poll)
        == {
            "service_user": {"#ballots": 1, "full": 1},
            "employer": {"#ballots": 1, "block": 1},
        }
    )


def test_change_of_vote_moves_the_counter(ctx):
    session, poll = open_free_poll()
    (alice,) = voters(session, ["expert"])
    ballots.cast(alice.id, poll.id, ballot_id(), {"answer": "disagree"})
    ballots.cast(alice.id, poll.id, ballot_id(), {"answer": "reservations"})
    counts = voting.counts_by_group(poll)
    assert counts == {"expert": {"#ballots": 1, "reservations": 1}} == recount(poll)
    assert db.session.scalar(db.select(db.func.count(Ballot.id))) == 1
    # The participant changed group in between: the old group's counter goes down.
    alice.group = "other"
    db.session.commit()
    ballots.cast(alice.id, poll.id, ballot_id(), {"answer": "full"})
    assert voting.counts_by_group(poll) == {"other": {"#ballots": 1, "full": 1}} == recount(poll)
    assert voting.voted_count(poll) == 1


def test_refusals_write_nothing(ctx):
    session, poll = open_free_poll()
    (alice,) = voters(session, [""])
    other_session = sessions.create_session(session.process, "workshop", "Elsewhere")
    (stranger,) = voters(other_session, [""])
    refused("unknown_poll", ballots.cast, alice.id, poll.id + 1000, ballot_id(), {"answer": "full"})
    refused("not_in_session", ballots.cast, stranger.id, poll.id, ballot_id(), {"answer": "full"})
    refused("invalid_choice", ballots.cast, alice.id, poll.id, ballot_id(), {"answer": "maybe"})
    refused("invalid_choice", ballots.cast, alice.id, poll.id, ballot_id(), ["full"])
    refused("bad_request", ballots.cast, alice.id, "1", ballot_id(), {"answer": "full"})
    refused("bad_request", ballots.cast, alice.id, poll.id, "short", {"answer": "full"})
    refused("bad_request", ballots.cast, alice.id, poll.id, "x" * 65, {"answer": "full"})
    refused("bad_request", ballots.cast, alice.id, poll.id, "a b c d e f", {"answer": "full"})
    refused("stale_round", ballots.cast, alice.id, poll.id, ballot_id(), {"answer": "full"}, 2)
    voting.close_poll(poll)
    refused("poll_not_open", ballots.cast, alice.id, poll.id, ballot_id(), {"answer": "full"})
    assert voting.voted_count(poll) == 0


def test_resend_after_close_is_still_acknowledged(ctx):
    session, poll = open_free_poll("yes_no", secret=False)
    (alice,) = voters(session, [""])
    sent = ballot_id()
    ballots.cast(alice.id, poll.id, sent, {"answer": "yes"})
    voting.close_poll(poll)
    assert ballots.cast(alice.id, poll.id, sent, {"answer": "yes"}).duplicate is True
    # In a named poll, someone else's ballot id is not theirs to acknowledge.
    (bob,) = voters(session, [""])
    refused("bad_request", ballots.cast, bob.id, poll.id, sent, {"answer": "yes"})
    assert voting.voted_count(poll) == 1


def test_resend_after_a_secret_close_is_acknowledged_by_its_id_alone(ctx):
    session, poll = open_free_poll("yes_no")
    alice, bob = voters(session, ["", ""])
    sent = ballot_id()
    ballots.cast(alice.id, poll.id, sent, {"answer": "yes"})
    voting.close_poll(poll)
    assert ballots.cast(alice.id, poll.id, sent, {"answer": "yes"}).duplicate is True
    # The receipt names nobody any more: whoever holds the id is told "already counted",
    # and nothing is counted.
    assert ballots.cast(bob.id, poll.id, sent, {"answer": "no"}).duplicate is True
    refused("poll_not_open", ballots.cast, bob.id, poll.id, ballot_id(), {"answer": "no"})
    assert voting.voted_count(poll) == 1


def test_lifecycle_transitions_and_audit(ctx):
    session, poll = open_free_poll()
    refused("invalid_transition", voting.publish_poll, poll)
    refused("poll_open", voting.open_poll, session, poll.agenda_item, "consensus")
    voting.close_poll(poll)
    refused("invalid_transition", voting.close_poll, poll)
    voting.publish_poll(poll)
    refused("invalid_transition", voting.publish_poll, poll)
    actions = db.session.scalars(
        db.select(PollAudit.action).filter_by(poll_id=poll.id).order_by(PollAudit.id)
    )
    assert list(actions) == ["open", "close", "publish"]
    # A second vote on the same item is a new poll.
    again = voting.open_poll(session, poll.agenda_item, "yes_no", actor="f@example.org")
    assert again.id != poll.id and again.state == "open"


def test_reset_clears_the_round_keeps_the_audit_and_old_ids(ctx):
    session, poll = open_free_poll(secret=False)
    alice, bob, carol = voters(session, ["expert"] * 3)
    old = ballot_id()
    ballots.cast(alice.id, poll.id, old, {"answer": "full"})
    ballots.cast(bob.id, poll.id, ballot_id(), {"answer": "mixed"})
    voting.reset_poll(poll, actor="f@example.org")
    db.session.expire_all()
    poll = db.session.get(Poll, poll.id)
    assert (poll.state, poll.round) == ("draft", 2)
    assert voting.voted_count(poll) == 0 and voting.counts_by_group(poll) == {}
    audit = db.session.scalar(db.select(PollAudit).filter_by(poll_id=poll.id, action="reset"))
    assert audit.actor == "f@example.org"
    assert audit.details["counts"] == {"expert": {"#ballots": 2, "full": 1, "mixed": 1}}
    assert "participant" not in str(audit.details)
    refused("poll_not_open", ballots.cast, carol.id, poll.id, ballot_id(), {"answer": "full"})
    reopened = voting.open_poll(session, poll.agenda_item, "consensus")
    assert reopened.id == poll.id and reopened.round == 2
    # The old round's ballot id is never counted again, and never said "recorded" either:
    # the receipt remembers its round (docs/protocol.md §3).
    refused("stale_round", ballots.cast, alice.id, poll.id, old, {"answer": "full"})
    refused("stale_round", ballots.cast, bob.id, poll.id, ballot_id(), {"answer": "full"}, 1)
    ballots.cast(carol.id, poll.id, ballot_id(), {"answer": "block"}, 2)
    assert voting.counts_by_group(poll) == {"expert": {"#ballots": 1, "block": 1}} == recount(poll)


def test_majority_judgment_ballots(ctx):
    options = [{"key": "a", "label": "Plan A"}, {"key": "b", "label": "Plan B"}]
    session, poll = open_free_poll("majority_judgment", options=options)
    people = voters(session, ["expert"] * 3)
    ballots.cast(people[0].id, poll.id, ballot_id(), {"grades": {"a": "excellent", "b": "poor"}})
    ballots.cast(people[1].id, poll.id, ballot_id(), {"grades": {"a": "good", "b": "good"}})
    ballots.cast(people[2].id, poll.id, ballot_id(), {"grades": {"a": "fair"}})  # b ungraded
    for bad in [{"grades": {"c": "good"}}, {"grades": {"a": "superb"}}, {"grades": {}}]:
        refused("invalid_choice", ballots.cast, people[0].id, poll.id, ballot_id(), bad)
    assert voting.counts_by_group(poll) == recount(poll)
    result = voting.results(poll)
    assert result["ballots"] == 3
    assert result["ranking"][0]["key"] == "a"


def test_dot_ballots(ctx):
    options = [
        {"key": "p1", "label": "One"},
        {"key": "p2", "label": "Two"},
        {"key": "p3", "label": "Three"},
    ]
    session, poll = open_free_poll("dot", options=options, dots=3)
    alice, bob = voters(session, ["", ""])
    ballots.cast(alice.id, poll.id, ballot_id(), {"dots": {"p1": 2, "p2": 1}})
    ballots.cast(bob.id, poll.id, ballot_id(), {"dots": {"p1": 1, "p3": 0}})
    for bad in [
        {"dots": {"p1": 4}},
        {"dots": {"p1": -1, "p2": 2}},
        {"dots": {"p9": 1}},
        {"dots": {"p1": 1.5}},
        {"dots": {"p1": True}},
        {"dots": {}},
    ]:
        refused("invalid_choice", ballots.cast, alice.id, poll.id, ballot_id(), bad)
    assert voting.counts_by_group(poll) == {"": {"#ballots": 2, "p1": 3, "p2": 1}} == recount(poll)
    assert voting.results(poll)["top"] == ["p1"]


@pytest.mark.parametrize(
    ("method", "options", "dots"),
    [
        ("borda", None, None),
        ("dot", [{"key": "only", "label": "One"}], 3),
        ("dot", [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}], 3),
        ("dot", [{"key": "a b", "label": "A"}, {"key": "c", "label": "B"}], 3),
        ("dot", [{"key": "a", "label": "A"}, {"key": "c", "label": "B"}], 0),
        ("majority_judgment", [{"key": "a", "label": " "}], None),
    ],
)
def test_open_poll_refusals(app, method, options, dots):
    # Checked before anything is written: one database is enough.
    with app.test_request_context(), force_locale("en"):
        _check_open_poll_refused(method, options, dots)


def _check_open_poll_refused(method, options, dots):
    process = make_process()
    session = workshop(process)
    item = free_item(session)
    with pytest.raises(VoteError) as error:
        voting.open_poll(session, item, method, options=options, dots=dots)
    assert error.value.code in ("invalid_method", "invalid_options")
    assert db.session.scalar(db.select(db.func.count(Poll.id))) == 0


def test_action_paths_item_opens_a_dot_vote_with_its_paths(ctx):
    process = make_process()
    session = workshop(process)
    added = sessions.fill_agenda_from_field(session, session.field)
    paths_item = next(item for item in added if item.item_type == "action_paths")
    poll = voting.open_poll(session, paths_item, "dot", dots=2)
    assert [option["label"] for option in poll.options] == ["Path 0", "Path 1"]


def test_results_merge_small_groups(ctx):
    session, poll = open_free_poll()
    people = voters(session, ["social_worker"] * 4 + ["service_user"] * 3 + ["employer"] * 2)
    for person in people:
        ballots.cast(person.id, poll.id, ballot_id(), {"answer": "full"})
    groups = {group["group"]: group["ballots"] for group in voting.results(poll)["groups"]}
    # The 2 employers may not be shown apart: "other" takes them (and, as 2 is still under
    # 3, the smallest named group too).
    assert groups == {"social_worker": 4, "other": 5}


def _race(app, poll_id: int, participant_ids: list[int], rounds: int = 3) -> list[int]:
    """Each thread casts `rounds` ballots for its participant; returns the acked voters."""
    acked: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(participant_ids) + 1, timeout=60)

    def vote(participant_id: int) -> None:
        with app.app_context():
            participant = db.session.get(Participant, participant_id)
            db.session.close()  # give the connection back while waiting at the barrier
            start.wait()
            for answer in ("full", "mixed", "block")[:rounds]:
                try:
                    ballots.cast(participant.id, poll_id, ballot_id(), {"answer": answer})
                except VoteError as error:
                    assert error.code in ("poll_not_open", "server_busy")
                else:
                    with lock:
                        acked.append(participant_id)
            db.session.remove()

    def close() -> None:
        with app.app_context():
            poll = db.session.get(Poll, poll_id)
            db.session.close()
            start.wait()
            voting.close_poll(poll)
            db.session.remove()

    threads = [threading.Thread(target=vote, args=(pid,)) for pid in participant_ids]
    threads.append(threading.Thread(target=close))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return acked


def test_ballots_racing_a_close_give_one_final_count(any_db_app):
    app = any_db_app
    with app.app_context():
        session, poll = open_free_poll()
        people = voters(session, ["service_user", "social_worker", "employer"] * 4)
        poll_id, ids = poll.id, [person.id for person in people]
    acked = _race(app, poll_id, ids)
    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        assert poll.state == "closed"
        distinct_acked = len(set(acked))
        assert voting.voted_count(poll) == distinct_acked
        assert db.session.scalar(db.select(db.func.count(Ballot.id))) == distinct_acked
        assert voting.counts_by_group(poll) == recount(poll)
        audit = db.session.scalar(db.select(PollAudit).filter_by(poll_id=poll_id, action="close"))
        # The count recorded at close is the one every later read gives.
        assert audit.details["counts"] == voting.counts_by_group(poll)
        assert voting.results(poll)["ballots"] == distinct_acked


def test_a_locked_database_refuses_with_server_busy_and_the_resend_counts(tmp_path, monkeypatch):
    import sqlite3

    from deliberation import database
    from tests.conftest import make_app

    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "busy.sqlite"
    app = make_app(tmp_path, "sqlite:///" + str(path))
    with app.test_request_context(), force_locale("en"):
        session, poll = open_free_poll()
        (alice,) = voters(session, [""])
        other_writer = sqlite3.connect(path, isolation_level=None)
        other_writer.execute("BEGIN IMMEDIATE")  # someone else holds the write lock
        sent = ballot_id()
        try:
            with pytest.raises(VoteError) as error:
                ballots.cast(alice.id, poll.id, sent, {"answer": "full"})
            assert error.value.code == "server_busy"
            with pytest.raises(VoteError) as error:
                voting.close_poll(poll)
            assert error.value.code == "server_busy"
            with pytest.raises(VoteError) as error:
                sessions.show_item(session, None)
            assert error.value.code == "server_busy"
        finally:
            other_writer.execute("ROLLBACK")
            other_writer.close()
        assert voting.voted_count(poll) == 0
        assert db.session.get(Poll, poll.id).state == "open"
        # The phone kept the ballot and sends it again: counted, once.
        assert ballots.cast(alice.id, poll.id, sent, {"answer": "full"}).duplicate is False
        assert ballots.cast(alice.id, poll.id, sent, {"answer": "full"}).duplicate is True
        assert voting.voted_count(poll) == 1
        db.session.remove()
        db.engine.dispose()


def test_a_batch_answers_each_ballot_on_its_own(ctx):
    """One transaction for many ballots (group commit), and still one answer per ballot."""
    from deliberation.services.live.ballots import BallotRequest, cast_many

    session, poll = open_free_poll()
    alice, bob, carol, dan = voters(session, ["service_user", "employer", "employer", ""])
    other_session = sessions.create_session(session.process, "workshop", "Elsewhere")
    (stranger,) = voters(other_session, [""])
    earlier = ballot_id()
    ballots.cast(dan.id, poll.id, earlier, {"answer": "disagree"})
    alice_first, alice_second, bob_id = ballot_id(), ballot_id(), ballot_id()
    requests = [
        BallotRequest(alice.id, poll.id, alice_first, {"answer": "block"}),
        BallotRequest(bob.id, poll.id, bob_id, {"answer": "full"}),
        BallotRequest(bob.id, poll.id, bob_id, {"answer": "full"}),  # resent in the batch
        BallotRequest(alice.id, poll.id, alice_second, {"answer": "mixed"}),  # changed mind
        BallotRequest(carol.id, poll.id, ballot_id(), {"answer": "maybe"}),
        BallotRequest(carol.id, poll.id, "short", {"answer": "full"}),
        BallotRequest(carol.id, poll.id, ballot_id(), {"answer": "full"}, poll.round + 1),
        BallotRequest(stranger.id, poll.id, ballot_id(), {"answer": "full"}),
        BallotRequest(987654, poll.id, ballot_id(), {"answer": "full"}),
        BallotRequest(carol.id, poll.id + 1000, ballot_id(), {"answer": "full"}),
        BallotRequest(bob.id, poll.id, earlier, {"answer": "full"}),  # dan's ballot id
        BallotRequest(dan.id, poll.id, ballot_id(), {"answer": "reservations"}),
    ]
    outcomes = cast_many(requests)
    answers = [
        ("dup" if outcome.duplicate else "ok")
        if not isinstance(outcome, VoteError)
        else outcome.code
        for outcome in outcomes
    ]
    assert answers == [
        "ok",
        "ok",
        "dup",
        "ok",
        "invalid_choice",
        "bad_request",
        "stale_round",
        "not_in_session",
        "invalid_token",
        "unknown_poll",
        "bad_request",
        "ok",
    ]
    expected = {
        "service_user": {"#ballots": 1, "mixed": 1},
        "employer": {"#ballots": 1, "full": 1},
        "": {"#ballots": 1, "reservations": 1},
    }
    assert voting.counts_by_group(poll) == recount(poll) == expected
    assert db.session.scalar(db.select(db.func.count(Ballot.id)).filter_by(poll_id=poll.id)) == 3
    # Every accepted ballot id has its receipt: sent again later, each is a duplicate.
    for participant, sent in ((alice, alice_first), (alice, alice_second), (bob, bob_id)):
        assert ballots.cast(participant.id, poll.id, sent, {"answer": "full"}).duplicate
    assert voting.counts_by_group(poll) == expected


def test_each_app_writes_its_ballots_to_its_own_database(tmp_path):
    """The group commit belongs to the app: a leader never writes another app's ballots."""
    from tests.conftest import make_app

    counted = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        app = make_app(tmp_path / name)
        with app.test_request_context(), force_locale("en"):
            session, poll = open_free_poll()
            voter_list = voters(session, ["", ""])
            for voter in voter_list[: 1 if name == "first" else 2]:
                ballots.cast(voter.id, poll.id, ballot_id(), {"answer": "full"})
            counted.append((voting.voted_count(poll), id(ballots._writer())))
            db.session.remove()
    assert [count for count, _ in counted] == [1, 2]
    assert counted[0][1] != counted[1][1]


def test_a_batch_writes_in_a_fixed_number_of_statements_on_postgresql(ctx):
    """On PostgreSQL a batch's writes each go as one statement of arrays, not one message
    per row: the cost per batch must not grow with its ballots (docs/benchmarks.md, "Fewer
    round trips per batch"). Changes of vote included."""
    from sqlalchemy import event

    from deliberation.services.live.ballots import BallotRequest, cast_many

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in process: executemany is its cheapest write")
    session, poll = open_free_poll()
    people = [voter.id for voter in voters(session, [""] * 30)]
    poll_id = poll.id
    cast_many([BallotRequest(p, poll_id, ballot_id(), {"answer": "full"}) for p in people[:10]])
    db.session.commit()
    executed: list[tuple[str, bool]] = []

    def note(_conn, _cursor, statement, _parameters, _context, executemany):
        executed.append((statement.split()[0], executemany))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        outcomes = cast_many(
            [BallotRequest(p, poll_id, ballot_id(), {"answer": "mixed"}) for p in people]
        )
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert all(not isinstance(outcome, VoteError) for outcome in outcomes)
    # Four reads, then: new ballots, changed ballots, counters, receipts — once each.
    assert executed == [("SELECT", False)] * 4 + [
        ("INSERT", False),
        ("UPDATE", False),
        ("INSERT", False),
        ("INSERT", False),
    ]
    assert voting.counts_by_group(poll) == recount(poll) == {"": {"#ballots": 30, "mixed": 30}}
    assert db.session.scalar(db.select(db.func.count(BallotReceipt.id))) == 40
