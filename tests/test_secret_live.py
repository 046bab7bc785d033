"""Secret and named polls over Socket.IO: while a secret poll is open every screen, the
console included, gets the turnout only (even with live results asked for), so a quiet
moment reveals no single ballot; no message or log line names a voter next to a choice;
a named poll's record reaches the console once closed."""

from __future__ import annotations

import logging

import pytest

from deliberation.extensions import socketio
from deliberation.live import broadcast, rooms
from deliberation.services.live import sessions
from deliberation.services.people.accounts import create_or_update_organizer
from tests.live_fixtures import free_item, make_member, make_process, workshop
from tests.test_live_socket import (
    PASSWORD,
    events,
    facilitator,
    flush,
    last_state,
    open_poll,
    projector,
    vote,
)


@pytest.fixture
def live(app):
    rooms.clear()
    broadcast.reset()
    with app.app_context():
        session = workshop(make_process())
        item = free_item(session, "Shall we open on Sundays?")
        organizer, _created = create_or_update_organizer("facilitator@example.org", PASSWORD)
        make_member(session.process_id, organizer.id, "facilitator")
        ids = {"session": session.id, "item": item.id, "code": session.join_code}
    yield app, ids
    rooms.clear()
    broadcast.reset()


NAMES = ("Zélie Quatremer", "Yanis Boulanger", "Xavière Dupuis", "Wassim Enfant")


def named_phone(app, code: str, name: str, group: str):
    with app.app_context():
        _participant, token = sessions.join(code, name, group)
    client = socketio.test_client(app, auth={"role": "phone", "token": token})
    assert client.is_connected()
    return client


def test_a_secret_poll_pushes_turnout_only_and_links_nobody_to_a_choice(live, caplog):
    app, ids = live
    console = facilitator(app, ids["session"])
    screen = projector(app, ids["code"])
    groups = ("service_user", "service_user", "service_user", "employer")
    phones = [named_phone(app, ids["code"], n, g) for n, g in zip(NAMES, groups, strict=True)]
    seen: list = []

    def drain() -> list:
        received = [client.get_received() for client in (console, screen, *phones)]
        seen.extend(received)
        return received

    with caplog.at_level(logging.DEBUG):
        poll = open_poll(console, ids["item"], show_live=True)
        assert poll["secret"] is True and poll["show_live"] is False
        drain()
        # One ballot at a time, each in a quiet moment: every push says how many, not what.
        answers = ("full", "block", "block", "disagree")
        for number, (handset, answer) in enumerate(zip(phones, answers, strict=True), 1):
            assert vote(handset, poll["id"], answer)["ok"]
            assert flush(app) == 1
            for tally in events(console, "tally") + events(screen, "tally"):
                assert tally["voted"] == number and tally["results"] is None
        assert console.emit("sync", {}, callback=True)["results"] is None
        refused = console.emit(
            "set_show_live", {"poll_id": poll["id"], "show_live": True}, callback=True
        )
        assert refused["error"] == "secret_no_live"
        drain()

        ack = console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)
        assert ack["ok"]
        results = ack["state"]["results"]  # the console sees the result once closed...
        assert results["ballots"] == 4
        assert {g["group"] for g in results["groups"]} <= {"service_user", "other"}
        assert ack["state"]["record"] is None  # ...and no record: the poll was secret
        assert last_state(screen)["results"] is None  # the room sees it when published
        drain()
        assert console.emit("publish_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
        for handset in phones:
            assert last_state(handset)["results"]["ballots"] == 4
        drain()

    everything = str(seen)
    for name in NAMES:
        assert name not in everything and name not in caplog.text
    assert "participant_id" not in everything and "employer" not in everything
    assert "'answer'" not in caplog.text and '"answer"' not in caplog.text


def test_a_named_poll_shows_live_and_its_record_after_close(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    screen = projector(app, ids["code"])
    ana = named_phone(app, ids["code"], "Ana Nominative", "service_user")
    poll = open_poll(console, ids["item"], method="yes_no", show_live=True, secret=False)
    assert poll["secret"] is False and poll["show_live"] is True
    assert vote(ana, poll["id"], "yes")["ok"]
    flush(app)
    (tally,) = events(screen, "tally")
    assert tally["results"]["ballots"] == 1  # named: live results as asked
    assert last_state(ana)["poll"]["secret"] is False  # the phone was told before voting
    ack = console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)
    (row,) = ack["state"]["record"]
    assert (row["name"], row["choice_label"]) == ("Ana Nominative", "Yes")
    assert events(screen, "state")[-1]["record"] is None  # the record is the console's
