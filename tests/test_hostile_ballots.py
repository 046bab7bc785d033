"""Issue 11: one phone's bad ballots never cost another phone its vote.

A poisoning phone sends out-of-range ids at full speed through the real server while 100
honest phones vote: every honest ballot is acknowledged and counted. A batch whose write
fails for any reason is written again ballot by ballot. A resend after a reset is
``stale_round``, never "recorded". ``POST /api/ballots`` reads its body with the same limits
and answers 503 when the database is down. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import threading
import uuid
from collections import Counter

import pytest
import socketio as socketio_client
from itsdangerous import URLSafeTimedSerializer

from deliberation import create_app
from deliberation.extensions import db, socketio
from deliberation.live import broadcast, guard, rooms
from deliberation.models import Ballot, Poll
from deliberation.services.live import ballots, sessions, voting
from deliberation.services.people.accounts import create_or_update_organizer
from tests.conftest import LiveServer, free_port
from tests.live_fixtures import ballot_id, free_item, make_member, make_process, voters, workshop
from tests.test_crash_recovery import SECRET, prepare

PASSWORD = "correct horse battery"
ANSWERS = ("full", "reservations", "mixed", "disagree", "block")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_database_url")
    return None


def server_log_is_clean(server: LiveServer) -> None:
    text = server.log_path.read_text(errors="replace")
    assert "Traceback" not in text, text[-4000:]


# -- a poisoning phone against 100 honest ones, through the real server -----------------------

POISON = [
    {"poll_id": 2**63},
    {"poll_id": 2**64},
    {"poll_id": -(2**63) - 1},
    {"poll_id": 2**63 - 1},  # within 64 bits, beyond the id columns
    {"poll_id": 2**31 - 1},  # a valid id naming no poll: reaches the batch
    {"poll_id": 0},
    {"poll_id": True},
    {"poll_id": 1.5},
    {"poll_id": "1"},
    {"round": 2**63},
    {"round": 2**40},
    {"ballot_id": "x" * 10_000},
    {"ballot_id": 12},
    {"choice": {"dots": {"o1": 2**62}}},
    {"choice": [[[[[]]]]]},
]


async def _poison_and_vote(url: str, poll_id: int, honest_tokens: list[str], poisoner: str):
    honest = [socketio_client.AsyncClient(reconnection=False) for _ in honest_tokens]
    bad = socketio_client.AsyncClient(reconnection=False)
    for client, token in zip(honest, honest_tokens, strict=True):
        await client.connect(
            url, auth={"role": "phone", "token": token}, transports=["websocket"], wait_timeout=10
        )
    await bad.connect(
        url, auth={"role": "phone", "token": poisoner}, transports=["websocket"], wait_timeout=10
    )
    poisoned_acks: list[dict] = []
    done = asyncio.Event()

    async def poison() -> None:
        in_flight = asyncio.Semaphore(200)  # at full speed, without unbounded memory
        for number in itertools.count():
            if done.is_set():
                break
            payload = {
                "poll_id": poll_id,
                "ballot_id": uuid.uuid4().hex,
                "choice": {"answer": "yes"},
                **POISON[number % len(POISON)],
            }
            await in_flight.acquire()

            def on_ack(ack, _release=in_flight.release):
                poisoned_acks.append(ack)
                _release()

            await bad.emit("vote", payload, callback=on_ack)

    async def vote(client, answer: str) -> dict:
        await asyncio.sleep(random.uniform(0, 1.0))
        payload = {"poll_id": poll_id, "ballot_id": uuid.uuid4().hex, "choice": {"answer": answer}}
        return await client.call("vote", payload, timeout=20)

    poisoner_task = asyncio.create_task(poison())
    await asyncio.sleep(0.3)  # the poisoner is at full speed before the hall votes
    chosen = [ANSWERS[number % len(ANSWERS)] for number in range(len(honest))]
    acks = await asyncio.gather(*(vote(c, a) for c, a in zip(honest, chosen, strict=True)))
    done.set()
    await poisoner_task
    await asyncio.sleep(0.5)  # the last poisoned acks
    for client in (*honest, bad):
        await client.disconnect()
    return acks, chosen, poisoned_acks


@pytest.mark.timeout(240)
def test_a_poisoning_phone_cannot_fail_honest_ballots(tmp_path, database_url):
    app, url, ids, tokens = prepare(tmp_path, database_url, 101)
    # No rate limit for this test: every poisoned ballot must reach the vote service.
    unlimited = {
        "SECRET_KEY": SECRET,
        "SOCKET_RATE": "1000000",
        "SOCKET_BURST": "1000000",
        "SOCKET_FLOOD_DISCONNECT": "1000000000",
    }
    server = LiveServer(tmp_path, env=unlimited, database_url=url).start()
    try:
        acks, chosen, poisoned = asyncio.run(
            _poison_and_vote(server.url, ids["poll"], tokens[:100], tokens[100])
        )
    finally:
        server.stop()
    assert all(ack["ok"] is True and ack["duplicate"] is False for ack in acks), [
        ack for ack in acks if not ack.get("ok")
    ]
    assert len(poisoned) > len(POISON) * 10, "the poisoner ran at full speed meanwhile"
    assert all(ack["ok"] is False for ack in poisoned)
    assert {ack["error"] for ack in poisoned} <= {"bad_request", "unknown_poll", "invalid_choice"}
    with app.app_context():
        poll = db.session.get(Poll, ids["poll"])
        assert voting.voted_count(poll) == 100
        counted = Counter(
            ballot.choice["answer"]
            for ballot in db.session.scalars(db.select(Ballot).filter_by(poll_id=poll.id))
        )
        assert counted == Counter(chosen)
        db.session.remove()
        db.engine.dispose()
    server_log_is_clean(server)


# -- the group commit: a failing batch is retried ballot by ballot ----------------------------


def test_a_failing_batch_is_retried_ballot_by_ballot_whatever_the_error(any_db_app, monkeypatch):
    app = any_db_app
    with app.app_context():
        process = make_process()
        session = workshop(process)
        item = free_item(session)
        poll = voting.open_poll(session, item, "consensus")
        people = voters(session, [""] * 41)
        poll_id, ids = poll.id, [person.id for person in people]
    poisoned = ids[0]
    write = ballots._write
    failures = Counter()

    def write_or_fail(connection, requests, todo, voters_):
        # A value that slipped past every check and breaks the statement of its whole
        # batch: anything, not only an IntegrityError.
        if any(requests[index].participant_id == poisoned for index in todo):
            failures["batches"] += 1
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return write(connection, requests, todo, voters_)

    monkeypatch.setattr(ballots, "_write", write_or_fail)
    outcomes: dict[int, object] = {}
    barrier = threading.Barrier(len(ids))

    def cast(participant_id: int) -> None:
        with app.app_context():
            barrier.wait(10)
            try:
                outcomes[participant_id] = ballots.cast(
                    participant_id, poll_id, ballot_id(), {"answer": "full"}
                )
            except voting.VoteError as refusal:
                outcomes[participant_id] = refusal.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cast, args=(pid,)) for pid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes[poisoned] == "server_error"
    assert all(isinstance(outcomes[pid], voting.CastResult) for pid in ids[1:]), outcomes
    assert failures["batches"] >= 1
    writer = app.extensions["ballot_writer"]
    assert writer.largest_batch > 1, "the ballots were batched, so the retry was exercised"
    with app.app_context():
        assert voting.voted_count(db.session.get(Poll, poll_id)) == len(ids) - 1


# -- stale_round, and another participant's ballot id ----------------------------------------


@pytest.fixture
def live(any_db_app):
    rooms.clear()
    guard.clear()
    broadcast.reset()
    app = any_db_app
    with app.app_context():
        process = make_process()
        session = workshop(process)
        item = free_item(session)
        organizer, _created = create_or_update_organizer("facilitator@example.org", PASSWORD)
        make_member(process.id, organizer.id, "facilitator")
        tokens = [sessions.join(session.join_code, "", "")[1] for _ in range(2)]
        ids = {"session": session.id, "item": item.id, "tokens": tokens}
    yield app, ids
    rooms.clear()
    guard.clear()
    broadcast.reset()


def facilitator(app, session_id):
    http = app.test_client()
    http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    return socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": session_id}
    )


def test_a_resend_after_a_reset_is_stale_round_never_recorded(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    phone = socketio.test_client(app, auth={"role": "phone", "token": ids["tokens"][0]})
    poll = console.emit("open_poll", {"item_id": ids["item"], "method": "yes_no"}, callback=True)
    poll_id = poll["state"]["poll"]["id"]
    first = {"poll_id": poll_id, "ballot_id": ballot_id(), "choice": {"answer": "yes"}, "round": 1}
    assert phone.emit("vote", first, callback=True)["ok"] is True
    assert console.emit("reset_poll", {"poll_id": poll_id}, callback=True)["ok"]
    reopened = console.emit(
        "open_poll", {"item_id": ids["item"], "method": "yes_no"}, callback=True
    )
    assert reopened["state"]["poll"]["round"] == 2
    # The same ballot sent again — with its round, without it, or even claiming round 2.
    for resend in (first, {**first, "round": None}, {**first, "round": 2}):
        ack = phone.emit("vote", {k: v for k, v in resend.items() if v is not None}, callback=True)
        assert ack["ok"] is False and ack["error"] == "stale_round", ack
        assert ack["ballot_id"] == first["ballot_id"] and ack["message"]
    # Over HTTP too: 409 with the same code.
    http = app.test_client().post("/api/ballots", json={**first, "token": ids["tokens"][0]})
    assert http.status_code == 409 and http.get_json()["error"] == "stale_round"
    with app.app_context():
        assert voting.voted_count(db.session.get(Poll, poll_id)) == 0
    # The phone asks again; the new ballot counts in round 2, and its resend is a duplicate.
    again = {**first, "ballot_id": ballot_id(), "round": 2}
    assert phone.emit("vote", again, callback=True) == {
        "ok": True,
        "ballot_id": again["ballot_id"],
        "duplicate": False,
    }
    assert phone.emit("vote", again, callback=True)["duplicate"] is True
    with app.app_context():
        assert voting.voted_count(db.session.get(Poll, poll_id)) == 1


def test_another_participants_ballot_id_is_refused_and_theirs_untouched(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    alice = socketio.test_client(app, auth={"role": "phone", "token": ids["tokens"][0]})
    bob = socketio.test_client(app, auth={"role": "phone", "token": ids["tokens"][1]})
    opened = console.emit("open_poll", {"item_id": ids["item"], "method": "yes_no"}, callback=True)
    poll_id = opened["state"]["poll"]["id"]
    shared = ballot_id()
    assert alice.emit(
        "vote",
        {"poll_id": poll_id, "ballot_id": shared, "choice": {"answer": "yes"}},
        callback=True,
    )["ok"]
    stolen = bob.emit(
        "vote", {"poll_id": poll_id, "ballot_id": shared, "choice": {"answer": "no"}}, callback=True
    )
    assert stolen["ok"] is False and stolen["error"] == "bad_request"
    http = app.test_client().post(
        "/api/ballots",
        json={
            "token": ids["tokens"][1],
            "poll_id": poll_id,
            "ballot_id": shared,
            "choice": {"answer": "no"},
        },
    )
    assert http.status_code == 400 and http.get_json()["error"] == "bad_request"
    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        assert voting.counts_by_group(poll) == {"": {"#ballots": 1, "yes": 1}}


# -- POST /api/ballots: limits before parsing, 503 when the database is down -----------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("[" * 10_000 + "]" * 10_000, 400, "bad_request"),
        ('{"poll_id": 18446744073709551616}', 400, "bad_request"),
        ('{"token": "\\ud800"}', 400, "bad_request"),
        ('{"a": NaN}', 400, "bad_request"),
        ("not json", 400, "bad_request"),
        ("[1, 2]", 400, "bad_request"),
        ('{"x": "' + "a" * 70_000 + '"}', 413, "too_large"),
        ('{"token": "forged", "poll_id": 1}', 403, "invalid_token"),
    ],
)
def test_api_ballots_refuses_hostile_bodies_with_json(any_db_app, caplog, body, status, code):
    client = any_db_app.test_client()
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/api/ballots",
            data=body.encode("utf-8", "surrogatepass"),
            content_type="application/json",
        )
    assert response.status_code == status
    assert response.get_json()["error"] == code and response.get_json()["ok"] is False
    assert not [record for record in caplog.records if record.exc_info]


def _app_with_database_down(tmp_path):
    port = free_port()  # nothing listens there
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{port}/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
            "EXPORTS_DIR": str(tmp_path / "exports"),
            "SOCKETIO_MESSAGE_QUEUE": None,
            "WTF_CSRF_ENABLED": False,
        }
    )


def test_database_down_is_503_server_busy_and_a_refused_connection(tmp_path, caplog):
    app = _app_with_database_down(tmp_path)
    token = URLSafeTimedSerializer(SECRET, salt=sessions.TOKEN_SALT).dumps({"p": "x", "s": 1})
    ballot = {"token": token, "poll_id": 1, "ballot_id": ballot_id(), "choice": {"answer": "yes"}}
    with caplog.at_level(logging.WARNING):
        response = app.test_client().post(
            "/api/ballots", data=json.dumps(ballot), content_type="application/json"
        )
        assert response.status_code == 503
        body = response.get_json()
        assert body["ok"] is False and body["error"] == "server_busy" and body["message"]
        assert response.headers["Retry-After"]
        page = app.test_client().get("/j/ACDEFH")
        assert page.status_code == 503 and b"<html" in page.data.lower()
        rooms.clear()
        guard.clear()
        phone = socketio.test_client(app, auth={"role": "phone", "token": token})
        assert not phone.is_connected()
    assert not [record for record in caplog.records if record.exc_info]
    assert any("database unavailable" in record.getMessage() for record in caplog.records)
