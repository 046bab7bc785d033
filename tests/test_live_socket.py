"""The Socket.IO layer with Flask-SocketIO's test client: connecting, voting, resends,
changes of vote, refusals, facilitator actions, tallies to the right rooms, resync."""

from __future__ import annotations

import logging

import pytest
from socketio import packet

from deliberation.extensions import db, socketio
from deliberation.live import broadcast, rooms
from deliberation.models import Ballot, LiveSession
from deliberation.services.live import sessions
from deliberation.services.people.accounts import create_or_update_organizer
from tests.live_fixtures import ballot_id, free_item, make_member, make_process, workshop

PASSWORD = "correct horse battery"


@pytest.fixture
def live(app):
    rooms.clear()
    broadcast.reset()
    with app.app_context():
        process = make_process()
        session = workshop(process)
        item = free_item(session, "Shall we open on Sundays?")
        organizer, _created = create_or_update_organizer("facilitator@example.org", PASSWORD)
        make_member(process.id, organizer.id, "facilitator")
        ids = {"session": session.id, "item": item.id, "code": session.join_code}
    yield app, ids
    rooms.clear()
    broadcast.reset()


def phone(app, code: str, group: str = "service_user"):
    with app.app_context():
        _, token = sessions.join(code, "", group)
    client = socketio.test_client(app, auth={"role": "phone", "token": token})
    assert client.is_connected()
    return client, token


def facilitator(app, session_id: int):
    http = app.test_client()
    response = http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    assert response.status_code == 302
    client = socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": session_id}
    )
    assert client.is_connected()
    return client


def projector(app, code: str):
    client = socketio.test_client(app, auth={"role": "projector", "code": code.lower()})
    assert client.is_connected()
    return client


def flush(app) -> int:
    """What the background task does every TALLY_PUSH_INTERVAL seconds."""
    with app.app_context():
        return broadcast.flush_now()


def events(client, name: str) -> list[dict]:
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def last_state(client) -> dict:
    states = events(client, "state")
    assert states, "no state received"
    return states[-1]


def open_poll(console, item_id: int, **extra) -> dict:
    ack = console.emit(
        "open_poll", {"item_id": item_id, "method": "consensus", **extra}, callback=True
    )
    assert ack["ok"], ack
    return ack["state"]["poll"]


def vote(client, poll_id: int, answer: str, sent: str | None = None) -> dict:
    sent = sent or ballot_id()
    return client.emit(
        "vote",
        {"poll_id": poll_id, "ballot_id": sent, "choice": {"answer": answer}},
        callback=True,
    )


def test_every_role_gets_the_full_state_on_connect(live):
    app, ids = live
    screen = projector(app, ids["code"])
    state = last_state(screen)
    assert state["role"] == "projector" and state["session"]["code"] == ids["code"]
    assert state["item"] is None and state["counts"] == {
        "connected": 0,
        "voted": 0,
        "joined": 0,
        "expected": None,
        "tickets": None,
    }
    handset, _ = phone(app, ids["code"])
    phone_state = last_state(handset)
    assert phone_state["role"] == "phone" and phone_state["counts"] is None
    console = facilitator(app, ids["session"])
    console_state = last_state(console)
    assert [entry["id"] for entry in console_state["agenda"]] == [ids["item"]]
    assert console_state["counts"]["connected"] == 1


def refusal_code(monkeypatch, app, **client_args) -> str:
    """Connect and return the code the server refused the connection with (its
    ``connect_error`` packet, which the test client does not keep)."""
    refusals = []
    original = socketio.server.packet_class

    class Recording(original):
        def __init__(self, packet_type=packet.EVENT, data=None, *args, **kwargs):
            super().__init__(packet_type, data, *args, **kwargs)
            if packet_type == packet.CONNECT_ERROR:
                refusals.append(data)

    monkeypatch.setattr(socketio.server, "packet_class", Recording)
    client = socketio.test_client(app, **client_args)
    assert not client.is_connected()
    assert len(refusals) == 1
    assert refusals[0]["data"]["error"] == refusals[0]["message"]
    return refusals[0]["message"]


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "bad_request"),
        ("phone", "bad_request"),
        ({"role": "king"}, "bad_request"),
        ({"role": "phone", "token": "forged.token"}, "invalid_token"),
        ({"role": "phone"}, "invalid_token"),
        ({"role": "projector", "code": "QQQQQQ"}, "unknown_session"),
        ({"role": "projector", "code": 12}, "unknown_session"),
        ({"role": "facilitator", "session_id": 1}, "not_allowed"),  # not logged in
    ],
)
def test_refused_connections(live, monkeypatch, auth, code):
    app, _ = live
    assert refusal_code(monkeypatch, app, auth=auth) == code


def test_facilitator_of_an_unknown_session_is_refused(live, monkeypatch):
    app, ids = live
    http = app.test_client()
    http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    auth = {"role": "facilitator", "session_id": 999}
    assert refusal_code(monkeypatch, app, flask_test_client=http, auth=auth) == "not_allowed"
    # The same organiser is let into its own session: the refusal is about the session.
    allowed = socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": ids["session"]}
    )
    assert allowed.is_connected()
    allowed.disconnect()


def test_vote_duplicate_change_and_tallies(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    screen = projector(app, ids["code"])
    alice, _ = phone(app, ids["code"])
    bob, _ = phone(app, ids["code"], "employer")
    for client in (console, screen, alice, bob):
        client.get_received()
    # A named vote: the console follows its distribution live (a secret one shows turnout).
    poll = open_poll(console, ids["item"], secret=False)
    # Everybody got the new state; the phones were told they have not voted yet.
    for handset in (alice, bob):
        state = last_state(handset)
        assert state["poll"]["state"] == "open" and state["voted"] is False
    assert last_state(screen)["poll"]["id"] == poll["id"]

    sent = ballot_id()
    assert vote(alice, poll["id"], "full", sent) == {
        "ok": True,
        "ballot_id": sent,
        "duplicate": False,
    }
    assert vote(alice, poll["id"], "full", sent) == {
        "ok": True,
        "ballot_id": sent,
        "duplicate": True,
    }
    assert vote(bob, poll["id"], "block")["ok"]
    assert vote(bob, poll["id"], "reservations")["ok"]  # a change of mind: the last counts
    assert flush(app) == 1
    # One coalesced tally per room for all those ballots; none to the phones.
    projector_tallies = events(screen, "tally")
    console_tallies = events(console, "tally")
    assert len(projector_tallies) == 1 and len(console_tallies) == 1
    assert projector_tallies[0]["voted"] == 2 and projector_tallies[0]["connected"] == 2
    assert projector_tallies[0]["results"] is None  # live results hidden by default
    answers = {a["key"]: a["count"] for a in console_tallies[0]["results"]["answers"]}
    assert answers["full"] == 1 and answers["reservations"] == 1 and answers["block"] == 0
    for handset in (alice, bob):
        assert [m["name"] for m in handset.get_received()] == []
    assert flush(app) == 0  # nothing pending: nothing sent

    ack = console.emit("set_show_live", {"poll_id": poll["id"], "show_live": True}, callback=True)
    assert ack["ok"]
    assert last_state(screen)["results"]["ballots"] == 2
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ballot.id))) == 2


def test_vote_after_close_and_from_another_session_is_refused(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    alice, _ = phone(app, ids["code"])
    poll = open_poll(console, ids["item"])
    sent = ballot_id()
    assert vote(alice, poll["id"], "mixed", sent)["ok"]
    with app.app_context():
        other = workshop(db.session.get(LiveSession, ids["session"]).process, "Other")
        other_code = other.join_code
    stranger, _ = phone(app, other_code)
    refused = vote(stranger, poll["id"], "full")
    assert refused["ok"] is False and refused["error"] == "not_in_session"
    assert refused["message"] == "This vote belongs to another session."
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    assert last_state(alice)["poll"]["state"] == "closed"
    late = vote(alice, poll["id"], "block")
    assert late["error"] == "poll_not_open" and late["ballot_id"]
    # The ballot sent before the close, sent again, is still acknowledged.
    assert vote(alice, poll["id"], "mixed", sent)["duplicate"] is True
    for payload in [
        None,
        [],
        {"poll_id": "x", "ballot_id": ballot_id()},
        {"poll_id": poll["id"], "ballot_id": "no"},
    ]:
        assert alice.emit("vote", payload, callback=True)["error"] == "bad_request"
    assert console.emit("publish_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    results = last_state(alice)["results"]
    assert results["ballots"] == 1


def test_session_change_reaches_phones_in_one_message_that_says_nothing_of_voting(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    alice, alice_token = phone(app, ids["code"])
    bob, _ = phone(app, ids["code"], "employer")
    poll = open_poll(console, ids["item"])
    assert last_state(alice)["voted"] is False and last_state(bob)["voted"] is False
    assert vote(alice, poll["id"], "full")["ok"]
    for handset in (alice, bob):
        handset.get_received()
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    # The same state for both (one emit to the phones' room): "voted" is left unsaid, the
    # phone keeps what its own ack told it.
    closed = [last_state(handset) for handset in (alice, bob)]
    assert closed[0] == closed[1]
    assert closed[0]["poll"]["state"] == "closed" and closed[0]["voted"] is None
    # The personal state, at a (re)connect, does say it.
    again = socketio.test_client(app, auth={"role": "phone", "token": alice_token})
    assert last_state(again)["voted"] is True


def test_reconnect_and_resync(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    poll = open_poll(console, ids["item"])
    alice, token = phone(app, ids["code"])
    assert last_state(alice)["voted"] is False
    sent = ballot_id()
    assert vote(alice, poll["id"], "full", sent)["ok"]
    alice.disconnect()
    flush(app)
    assert events(console, "tally")[-1]["connected"] == 0
    # Same token, new connection: full state, and it knows it has voted.
    again = socketio.test_client(app, auth={"role": "phone", "token": token})
    state = last_state(again)
    assert state["voted"] is True and state["poll"]["id"] == poll["id"]
    # The phone resends what it had not seen acknowledged: counted once.
    assert vote(again, poll["id"], "full", sent)["duplicate"] is True
    synced = again.emit("sync", {}, callback=True)
    assert synced["voted"] is True and synced["item"]["id"] == ids["item"]
    assert console.emit("sync", {}, callback=True)["counts"] == {
        "connected": 1,
        "voted": 1,
        "joined": 1,
        "expected": None,
        "tickets": None,
    }


def test_facilitator_actions_refused_cleanly(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    alice, _ = phone(app, ids["code"])
    for event, payload, code in [
        ("open_poll", {"item_id": ids["item"], "method": "borda"}, "invalid_method"),
        ("open_poll", {"item_id": 999, "method": "consensus"}, "unknown_item"),
        ("close_poll", {"poll_id": 999}, "unknown_poll"),
        ("show_item", "nonsense", "bad_request"),
    ]:
        ack = console.emit(event, payload, callback=True)
        assert (ack["ok"], ack["error"]) == (False, code), (event, ack)
        assert ack["message"]
    assert (
        alice.emit("open_poll", {"item_id": ids["item"], "method": "consensus"}, callback=True)[
            "error"
        ]
        == "not_allowed"
    )
    poll = open_poll(console, ids["item"])
    with app.app_context():
        second = free_item(db.session.get(LiveSession, ids["session"]), "Second question")
        second_id = second.id
    assert console.emit("show_item", {"item_id": second_id}, callback=True)["error"] == "poll_open"
    assert (
        console.emit("publish_poll", {"poll_id": poll["id"]}, callback=True)["error"]
        == "invalid_transition"
    )
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    state = console.emit("show_item", {"item_id": second_id}, callback=True)["state"]
    assert state["item"]["id"] == second_id and state["poll"] is None
    assert last_state(alice)["item"]["title"] == "Question to the room"
    assert console.emit("show_item", {"item_id": None}, callback=True)["state"]["item"] is None


def test_reset_round_refuses_stale_ballots(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    alice, _ = phone(app, ids["code"])
    poll = open_poll(console, ids["item"])
    assert vote(alice, poll["id"], "full")["ok"]
    assert console.emit("reset_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    assert last_state(alice)["poll"]["round"] == 2
    reopened = open_poll(console, ids["item"])
    assert reopened["id"] == poll["id"] and last_state(alice)["voted"] is False
    stale = alice.emit(
        "vote",
        {"poll_id": poll["id"], "ballot_id": ballot_id(), "choice": {"answer": "full"}, "round": 1},
        callback=True,
    )
    assert stale["error"] == "stale_round"


def test_no_message_or_log_links_a_voter_to_a_choice(live, caplog):
    app, ids = live
    console = facilitator(app, ids["session"])
    screen = projector(app, ids["code"])
    with app.app_context():
        _, token = sessions.join(ids["code"], "Zoé Secret", "service_user")
        participant = sessions.participant_from_token(token)
        participant_id, token_id = participant.id, participant.token_id
    alice = socketio.test_client(app, auth={"role": "phone", "token": token})
    poll = open_poll(console, ids["item"], show_live=True)
    with caplog.at_level(logging.DEBUG):
        assert vote(alice, poll["id"], "block")["ok"]
        flush(app)
    seen = str(console.get_received()) + str(screen.get_received()) + str(alice.get_received())
    assert "Zoé" not in seen and token_id not in seen
    assert f"'participant_id': {participant_id}" not in seen
    assert "block" not in caplog.text and token_id not in caplog.text


def test_tally_push_outside_any_request_uses_the_process_language(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    screen = projector(app, ids["code"])
    alice, _ = phone(app, ids["code"])
    poll = open_poll(console, ids["item"], method="yes_no", show_live=True, secret=False)
    ack = alice.emit(
        "vote",
        {"poll_id": poll["id"], "ballot_id": ballot_id(), "choice": {"answer": "abstain"}},
        callback=True,
    )
    assert ack["ok"]
    screen.get_received()
    assert flush(app) == 1  # an app context only, as in the background task
    (tally,) = events(screen, "tally")
    labels = {answer["key"]: answer["label"] for answer in tally["results"]["answers"]}
    assert labels["abstain"] == "Abstain"


def test_presence_is_shared_through_redis_when_the_queue_is_redis(app, monkeypatch):
    from tests.conftest import REDIS_URL, redis_available

    reason = redis_available()
    if reason:
        pytest.skip(reason)
    import random

    import redis

    rooms.clear()
    session_id = random.randint(10**8, 10**9)
    app.config["SOCKETIO_MESSAGE_QUEUE"] = REDIS_URL
    shared = redis.Redis.from_url(REDIS_URL)
    prefix = f"{rooms.PREFIX}:{app.config['SOCKETIO_CHANNEL']}:{session_id}"
    other_process = f"{prefix}:another-process"
    # Another deployment on the same Redis (its own channel), with a session of the same id.
    other_deployment = f"{rooms.PREFIX}:another-channel:{session_id}:its-process"
    try:
        with app.app_context():
            rooms.add("sid-1", rooms.Presence(session_id, "phone", 1))
            rooms.add("sid-2", rooms.Presence(session_id, "phone", 1))  # a second tab
            rooms.add("sid-3", rooms.Presence(session_id, "projector"))
            # A phone connected to another server process, and one of ours seen there too.
            shared.hset(other_process, mapping={"x": "2", "y": "1"})
            shared.hset(other_deployment, mapping={"z": "7"})
            assert rooms.connected_count(session_id) == 2
            assert rooms.local_participants(session_id) == {1}
            # Connecting wrote nothing to Redis; the broadcast loop's sync writes it at once.
            ours = f"{prefix}:{rooms._process_id}"
            assert not shared.exists(ours)
            assert rooms.sync() == 1 and rooms.sync() == 0
            assert set(shared.hkeys(ours)) == {b"sid-1", b"sid-2"}
            rooms.refresh()
            assert 0 < shared.ttl(f"{prefix}:{rooms._process_id}") <= 60
            rooms.remove("sid-1")
            rooms.remove("sid-2")
            assert rooms.connected_count(session_id) == 2  # participant 1 still on the other
            assert rooms.sync() == 1 and not shared.exists(ours)
            # The other processes' phones are read at most once per REMOTE_REFRESH_S.
            shared.delete(other_process)
            assert rooms.connected_count(session_id) == 2
            monkeypatch.setattr(rooms, "REMOTE_REFRESH_S", 0.0)
            assert rooms.connected_count(session_id) == 0
    finally:
        shared.delete(other_process, other_deployment, f"{prefix}:{rooms._process_id}")
        rooms.clear()


def test_facilitator_socket_opened_by_another_site_is_refused(live):
    app, ids = live
    http = app.test_client()
    http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    auth = {"role": "facilitator", "session_id": ids["session"]}
    hijack = socketio.test_client(
        app, flask_test_client=http, auth=auth, headers={"Origin": "https://evil.example"}
    )
    assert not hijack.is_connected()
    own = socketio.test_client(
        app, flask_test_client=http, auth=auth, headers={"Origin": "http://localhost"}
    )
    assert own.is_connected()


def test_an_unexpected_failure_is_answered_and_nothing_is_counted(live, monkeypatch, caplog):
    from deliberation.services.live import ballots

    app, ids = live
    console = facilitator(app, ids["session"])
    alice, _ = phone(app, ids["code"])
    poll = open_poll(console, ids["item"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    # Inside the write transaction of the batch: rolled back, answered to its caller.
    monkeypatch.setattr(ballots, "_write", broken)
    sent = ballot_id()
    with caplog.at_level(logging.ERROR):
        ack = vote(alice, poll["id"], "block", sent)
    assert ack["ok"] is False and ack["error"] == "server_error" and ack["ballot_id"] == sent
    assert "RuntimeError" in caplog.text and "block" not in caplog.text
    monkeypatch.undo()
    assert vote(alice, poll["id"], "block", sent) == {"ok": True, "ballot_id": sent,
                                                      "duplicate": False}  # fmt: skip


def test_a_vote_with_no_database_connection_free_is_busy_and_counts_on_resend(live, monkeypatch):
    from sqlalchemy.exc import TimeoutError as PoolTimeout
    from sqlalchemy.orm import Session

    app, ids = live
    console = facilitator(app, ids["session"])
    alice, _ = phone(app, ids["code"])
    poll = open_poll(console, ids["item"])
    real_connection = Session.connection

    def exhausted(*_args, **_kwargs):
        raise PoolTimeout("QueuePool limit reached")

    sent = ballot_id()
    monkeypatch.setattr(Session, "connection", exhausted)  # the batch asks for its connection
    busy = vote(alice, poll["id"], "full", sent)
    monkeypatch.setattr(Session, "connection", real_connection)
    assert busy["ok"] is False and busy["error"] == "server_busy" and busy["ballot_id"] == sent
    assert vote(alice, poll["id"], "full", sent) == {
        "ok": True,
        "ballot_id": sent,
        "duplicate": False,
    }
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ballot.id))) == 1
