"""The phones' common state kept per session (live/phone_states.py): built once per change,
never older than what the phones already in the room were sent, and each phone still told
its own ``voted`` and the server's clock."""

from __future__ import annotations

import pytest

from deliberation.extensions import socketio
from deliberation.live import broadcast, phone_states, rooms, screens
from deliberation.models import LiveSession
from deliberation.services.live import sessions
from tests.test_live_socket import facilitator, last_state, live, open_poll, phone, vote

__all__ = ["live"]  # the fixture, shared with test_live_socket


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """The sessions whose phone state was built from the database, one entry per build."""
    seen: list[int] = []
    build = screens.state_for

    def spy(session, role, participant=None):
        if role == "phone":
            seen.append(session.id)
        return build(session, role, participant)

    monkeypatch.setattr(screens, "state_for", spy)
    return seen


def test_a_hall_connecting_builds_the_phone_state_once(live, built):
    app, ids = live
    handsets = [phone(app, ids["code"])[0] for _ in range(5)]
    assert built == [ids["session"]]
    assert {last_state(handset)["session"]["code"] for handset in handsets} == {ids["code"]}


def test_a_phone_connecting_after_a_change_gets_the_state_the_room_was_sent(live, built):
    app, ids = live
    console = facilitator(app, ids["session"])
    first, _ = phone(app, ids["code"])
    poll = open_poll(console, ids["item"])
    sent_to_room = last_state(first)
    built.clear()
    later, _ = phone(app, ids["code"])
    state = last_state(later)
    assert built == [], "the state sent to the room is what a connecting phone gets"
    assert state["poll"]["id"] == poll["id"] and state["poll"]["state"] == "open"
    personal = ("voted", "server_time")
    assert {k: v for k, v in state.items() if k not in personal} == {
        k: v for k, v in sent_to_room.items() if k not in personal
    }
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    built.clear()  # the broadcast built the state it sent
    assert last_state(phone(app, ids["code"])[0])["poll"]["state"] == "closed"
    assert built == []


def test_each_phone_is_told_whether_it_voted(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    poll = open_poll(console, ids["item"], secret=True)
    alice, alice_token = phone(app, ids["code"])
    bob, bob_token = phone(app, ids["code"])
    assert vote(alice, poll["id"], "full")["ok"]

    def reconnected(token: str) -> dict:
        return last_state(socketio.test_client(app, auth={"role": "phone", "token": token}))

    assert reconnected(alice_token)["voted"] is True
    assert reconnected(bob_token)["voted"] is False
    # Once a secret poll is closed its ballots are anonymous: the voter roll says it.
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    assert reconnected(alice_token)["voted"] is True
    assert reconnected(bob_token)["voted"] is False


def test_a_state_sent_while_a_phone_was_identified_reaches_it(live, monkeypatch):
    """The phone's state is read before it joins the phones' room: a state sent to the
    room in between would not reach it, so it is given that one instead."""
    app, ids = live
    console = facilitator(app, ids["session"])
    phone(app, ids["code"])  # something kept: the next phone reads it, no poll in it
    taken = screens.phone_state
    opened: list[dict] = []

    def then_the_poll_opens(claims):
        state = taken(claims)
        if not opened:
            opened.append(open_poll(console, ids["item"]))
        return state

    monkeypatch.setattr(screens, "phone_state", then_the_poll_opens)
    late, _ = phone(app, ids["code"])
    states = [message["args"][0] for message in late.get_received() if message["name"] == "state"]
    assert len(states) == 1, "one state, the one after the change"
    assert states[0]["poll"] is not None and states[0]["poll"]["id"] == opened[0]["id"]
    assert states[0]["voted"] is False


def test_a_state_built_before_a_change_is_not_kept(live):
    app, ids = live
    with app.app_context():
        session = sessions.db.session.get(LiveSession, ids["session"])
        generation, kept = phone_states.cached(session.id)
        stale = screens.state_for(session, "phone")
    newer = dict(stale, item={"id": ids["item"]})
    phone_states.delivered(ids["session"], newer)
    phone_states.keep(ids["session"], generation, stale)
    assert kept is None
    assert phone_states.cached(ids["session"])[1]["item"] == {"id": ids["item"]}


def test_what_is_kept_expires_and_is_only_kept_when_deliveries_are_followed(monkeypatch):
    phone_states.follow_deliveries()
    now = [1000.0]
    monkeypatch.setattr(phone_states.time, "monotonic", lambda: now[0])
    phone_states.keep(7, 0, {"poll": None, "voted": True, "server_time": "t"})
    assert phone_states.cached(7) == (0, {"poll": None})  # nothing personal kept
    now[0] += phone_states.MAX_AGE_S + 1
    assert phone_states.cached(7) == (0, None)
    monkeypatch.setattr(phone_states, "_following", False)
    phone_states.keep(8, 0, {"poll": None})
    assert phone_states.cached(8) == (0, None)


def test_only_states_sent_to_a_phones_room_are_kept(live):
    app, ids = live
    session_id = ids["session"]
    before = phone_states.generation(session_id)
    with app.app_context():
        socketio.emit("state", {"poll": None}, to=rooms.room(session_id, "projector"))
        socketio.emit("tally", {"poll": None}, to=rooms.room(session_id, "phone"))
    assert phone_states.generation(session_id) == before
    with app.app_context():
        broadcast.session_changed(session_id)
    assert phone_states.generation(session_id) == before + 1
    assert rooms.session_of_phones_room(rooms.room(session_id, "phone")) == session_id
    for other in ("session:x:phones", "participant:3", "session:3:projector", "session:3"):
        assert rooms.session_of_phones_room(other) is None
