"""Proposals over Socket.IO (Flask-SocketIO test client): phones propose, the console
moderates, the authors hear what became of their proposals, the room votes on amendments."""

from __future__ import annotations

import uuid

import pytest

from deliberation.extensions import db, socketio
from deliberation.live import broadcast, rooms
from deliberation.models import Organizer, Proposal
from deliberation.services.live import sessions
from tests.live_fixtures import make_member, make_process, workshop


@pytest.fixture
def live(app):
    rooms.clear()
    broadcast.reset()
    with app.app_context():
        process = make_process()
        session = workshop(process)
        sessions.fill_agenda_from_field(session, process.fields[0])
        sessions.show_item(session, session.agenda[0])  # the first hypothesis
        organizer = Organizer(email="org@example.org", name="Org")
        organizer.set_password("long enough")
        db.session.add(organizer)
        db.session.commit()
        make_member(process.id, organizer.id, "facilitator")
        yield {
            "app": app,
            "session_id": session.id,
            "code": session.join_code,
            "organizer_id": organizer.id,
            "hypothesis_id": session.agenda[0].item_id,
        }
    rooms.clear()


def phone(live, name="") -> tuple:
    participant, token = sessions.join(live["code"], name)
    participant_id = participant.id  # the connect handler ends this database session
    client = socketio.test_client(live["app"], auth={"role": "phone", "token": token})
    assert client.is_connected()
    client.get_received()
    return client, participant_id


def facilitator(live):
    http = live["app"].test_client()
    with http.session_transaction() as cookie:
        cookie["_user_id"] = f"{live['organizer_id']}:0"  # Organizer.get_id(): id:epoch
        cookie["_fresh"] = True
    client = socketio.test_client(
        live["app"],
        flask_test_client=http,
        auth={"role": "facilitator", "session_id": live["session_id"]},
    )
    assert client.is_connected()
    client.get_received()
    return client


def projector(live):
    client = socketio.test_client(live["app"], auth={"role": "projector", "code": live["code"]})
    client.get_received()
    return client


def events(client, name):
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def propose(client, text, kind="amendment", **extra):
    payload = {"kind": kind, "text": text, "client_id": uuid.uuid4().hex, **extra}
    return client.emit("propose", payload, callback=True)


def test_phone_proposes_and_the_console_sees_it(live):
    console = facilitator(live)
    ana, _ana_id = phone(live, "Ana")
    bob, _bob_id = phone(live, "Bob")
    ack = propose(ana, "Hypothesis reworded by Ana")
    assert ack["ok"] is True and ack["status"] == "pending" and ack["duplicate"] is False
    [queue] = events(console, "proposals")
    assert [p["id"] for p in queue["proposals"]] == [ack["proposal_id"]]
    assert queue["proposals"][0]["author"] == "Ana"
    assert queue["proposals"][0]["item_type"] == "hypothesis"
    assert events(bob, "proposals") == [] and events(bob, "proposal_status") == []


def test_resend_is_acknowledged_once(live):
    console = facilitator(live)
    ana, _ = phone(live, "Ana")
    payload = {"kind": "comment", "text": "A remark.", "client_id": "resend-1"}
    first = ana.emit("propose", payload, callback=True)
    again = ana.emit("propose", payload, callback=True)
    assert again["duplicate"] is True and again["proposal_id"] == first["proposal_id"]
    assert len(events(console, "proposals")) == 1
    with live["app"].app_context():
        assert db.session.query(Proposal).count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("not an object", "bad_request"),
        ({"kind": "amendment", "text": ""}, "empty"),
        ({"kind": "amendment", "text": "x" * 5000}, "too_long"),
        ({"kind": "vote", "text": "Hello"}, "invalid_kind"),
        (
            {"kind": "amendment", "text": "New", "item_type": "hypothesis", "item_id": 10**6},
            "unknown_item",
        ),  # fmt: skip
    ],
)
def test_bad_proposals_get_a_clear_refusal(live, payload, code):
    ana, _ = phone(live)
    ack = ana.emit("propose", payload, callback=True)
    assert ack["ok"] is False and ack["error"] == code and ack["message"]
    with live["app"].app_context():
        assert db.session.query(Proposal).count() == 0


def test_flooding_gets_the_rate_limit_message(live):
    ana, _ = phone(live)
    limit = live["app"].config["PROPOSAL_RATE_PER_MINUTE"]
    acks = [propose(ana, f"Comment {n}", kind="comment") for n in range(limit + 3)]
    assert all(ack["ok"] for ack in acks[:limit])
    assert {ack["error"] for ack in acks[limit:]} == {"rate_limited"}
    assert all(ack["message"] for ack in acks[limit:])


def test_only_phones_propose_and_only_the_facilitator_moderates(live):
    screen = projector(live)
    assert screen.emit("propose", {"kind": "comment", "text": "Hi"}, callback=True)["error"] == (
        "bad_request"
    )
    ana, _ = phone(live)
    proposal_id = propose(ana, "Comment", kind="comment")["proposal_id"]
    for client in (ana, screen):
        ack = client.emit(
            "moderate", {"proposal_id": proposal_id, "action": "keep_as_comment"}, callback=True
        )
        assert ack["error"] == "not_allowed"
        assert client.emit("list_proposals", {}, callback=True)["error"] == "not_allowed"


def test_moderation_tells_only_the_author(live):
    console = facilitator(live)
    ana, _ = phone(live, "Ana")
    bob, _ = phone(live, "Bob")
    first = propose(ana, "Ana's wording")["proposal_id"]
    second = propose(bob, "Bob's comment", kind="comment")["proposal_id"]
    ana.get_received(), bob.get_received(), console.get_received()

    ack = console.emit(
        "moderate",
        {"proposal_id": first, "action": "send_back", "reason": "Please be more precise"},
        callback=True,
    )
    assert ack["ok"] is True
    assert events(ana, "proposal_status") == [
        {"proposal_id": first, "status": "returned", "reason": "Please be more precise"}
    ]
    assert events(bob, "proposal_status") == []
    assert events(console, "proposals")[-1]["proposals"][-1]["status"] == "returned"

    ack = console.emit("moderate", {"proposal_id": second, "action": "nope"}, callback=True)
    assert ack["ok"] is False and ack["error"] == "bad_request"
    ack = console.emit("moderate", {"proposal_id": first, "action": "accept"}, callback=True)
    assert ack["ok"] is False and ack["error"] == "invalid_transition"

    mine = bob.emit("my_proposals", {}, callback=True)
    assert [p["id"] for p in mine["proposals"]] == [second]
    assert "author" not in mine["proposals"][0]


def test_merge_over_sockets_sums_supporters(live):
    console = facilitator(live)
    ana, _ = phone(live, "Ana")
    bob, _ = phone(live, "Bob")
    a = propose(ana, "Same idea, Ana's words")["proposal_id"]
    b = propose(bob, "Same idea, Bob's words")["proposal_id"]
    bob.get_received()
    ack = console.emit("moderate", {"proposal_id": b, "action": "merge", "into": a}, callback=True)
    assert ack["ok"] is True
    by_id = {p["id"]: p for p in ack["proposals"]}
    assert by_id[a]["supporters"] == 2 and by_id[b]["status"] == "merged"
    assert events(bob, "proposal_status") == [{"proposal_id": b, "status": "merged", "reason": ""}]


def test_accepted_amendment_is_voted_and_adopted(live):
    console = facilitator(live)
    screen = projector(live)
    ana, _ = phone(live, "Ana")
    bob, _ = phone(live, "Bob")
    proposal_id = propose(ana, "Hypothesis 0.0, reworded by the room")["proposal_id"]
    console.get_received()

    ack = console.emit("moderate", {"proposal_id": proposal_id, "action": "accept"}, callback=True)
    assert ack["ok"] is True
    assert events(ana, "proposal_status")[-1]["status"] == "accepted"
    agenda_item_id = next(p for p in ack["proposals"] if p["id"] == proposal_id)["agenda_item_id"]
    state = console.emit("sync", {}, callback=True)
    assert [i["type"] for i in state["agenda"]][:2] == ["hypothesis", "amendment"]

    opened = console.emit(
        "open_poll", {"item_id": agenda_item_id, "method": "consensus"}, callback=True
    )
    assert opened["ok"] is True, opened
    shown = opened["state"]["item"]
    assert "<del>" in shown["text_html"] and "<ins>" in shown["text_html"]
    assert "reworded by the room" in shown["text_html"]
    poll = opened["state"]["poll"]
    screen_state = events(screen, "state")[-1]
    assert "amendment-compare" in screen_state["item"]["text_html"]

    for voter in (ana, bob):
        vote = voter.emit(
            "vote",
            {"poll_id": poll["id"], "ballot_id": uuid.uuid4().hex, "choice": {"answer": "full"}},
            callback=True,
        )
        assert vote["ok"] is True
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    ana.get_received()
    assert console.emit("publish_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    assert {"proposal_id": proposal_id, "status": "adopted", "reason": ""} in events(
        ana, "proposal_status"
    )
    with live["app"].app_context():
        from deliberation.models import Hypothesis

        hypothesis = db.session.get(Hypothesis, live["hypothesis_id"])
        assert hypothesis.text == "Hypothesis 0.0, reworded by the room"
