"""Every facilitator Socket.IO event, sent by someone who may not run the session.

The events come from the Socket.IO server's handlers, so an event added later is walked too:
every event that is not a phone's is a facilitator's and must check membership, on connect
and again on each event. Refused events change nothing in the database.
"""

from __future__ import annotations

import pytest
from flask import Flask

from deliberation.extensions import db, socketio
from deliberation.live import broadcast, guard, handlers, rooms
from deliberation.models import LiveSession, Membership, Process
from deliberation.refusals import Refused
from deliberation.services.live import sessions
from deliberation.services.people import membership
from tests.access_world import World, build_world, client_as, snapshot
from tests.live_fixtures import make_member

# Events a phone sends with its own token (tests/test_live_socket.py refuses them to others).
PHONE_EVENTS = {"vote", "propose", "my_proposals"}
LIFECYCLE_EVENTS = {"connect", "disconnect"}
# The edge's own handlers (live/guard.py): any event it refused, and any unknown event. They
# answer every caller the same refusal and change nothing (tests/test_hostile_inputs.py).
EDGE_EVENTS = {guard.REFUSED_EVENT, "*"}
# Shared by every role: a projector or a phone asking for its own state is not refused.
SHARED_EVENTS = {"sync"}


@pytest.fixture
def world(any_db_app):
    rooms.clear()
    broadcast.reset()
    yield any_db_app, build_world(any_db_app)
    rooms.clear()
    broadcast.reset()


def facilitator_events(app: Flask) -> list[str]:
    registered = app.extensions["socketio"].server.handlers["/"]
    return sorted(set(registered) - PHONE_EVENTS - LIFECYCLE_EVENTS - EDGE_EVENTS)


def console_of(app: Flask, organizer_id: int | None, session_id: int):
    return socketio.test_client(
        app,
        flask_test_client=client_as(app, organizer_id),
        auth={"role": "facilitator", "session_id": session_id},
    )


def payload(world: World) -> dict:
    """What each event would need to do something, for someone allowed to send it."""
    ids = world.ids
    return {
        "item_id": ids["agenda_id"],
        "method": "yes_no",
        "poll_id": ids["poll_id"],
        "show_live": True,
        "action": "accept",
        "proposal_id": 1,
        "proposal_ids": [1],
        "into": 1,
        "reason": "no",
    }


@pytest.fixture
def refusals(monkeypatch) -> list[str]:
    """The codes the connect handler refused with (the test client keeps only the refusal)."""
    seen: list[str] = []
    identify = handlers._identify

    def spy(auth, claims):
        try:
            return identify(auth, claims)
        except Refused as refusal:
            seen.append(refusal.code)
            raise

    monkeypatch.setattr(handlers, "_identify", spy)
    return seen


def test_the_walk_covers_the_facilitator_events(world):
    app, _world = world
    events = set(facilitator_events(app))
    known = {"show_item", "open_poll", "close_poll", "publish_poll", "reset_poll"}
    assert known | {"set_show_live", "list_proposals", "moderate", "sync"} <= events


def test_the_console_connects_only_for_members_who_may_run_the_session(world, refusals):
    app, found = world
    session_id = found.ids["session_id"]
    for who in (None, "outsider", "namur_facilitator"):
        console = console_of(app, found.people.get(who), session_id)
        assert not console.is_connected(), who
        assert refusals[-1] == "not_allowed", who
    # A session that does not exist is refused in the same words (nothing is revealed).
    assert not console_of(app, found.people["owner"], 10_000).is_connected()
    assert refusals[-1] == "not_allowed"
    count = len(refusals)
    for who in ("facilitator", "co_organizer", "owner"):
        console = console_of(app, found.people[who], session_id)
        assert console.is_connected(), who
        console.disconnect()
    assert len(refusals) == count


def test_every_facilitator_event_is_refused_to_who_may_not_run_the_session(world):
    app, found = world
    session_id, code = found.ids["session_id"], found.ids["code"]
    removed = console_of(app, found.people["facilitator"], session_id)
    assert removed.is_connected()
    projector = socketio.test_client(app, auth={"role": "projector", "code": code})
    with app.app_context():
        _participant, token = sessions.join(code, "Ana")
    phone = socketio.test_client(app, auth={"role": "phone", "token": token})
    assert projector.is_connected() and phone.is_connected()
    # Removed by the service alone: the socket stays open, as it would on another server
    # process, and every event it sends must now be refused.
    with app.app_context():
        process = db.session.get(Process, found.ids["process_id"])
        membership.remove_member(process, "owner@example.org", found.ids["membership_id"])

    failures = []
    for event in facilitator_events(app):
        senders = [("removed facilitator", removed)]
        if event not in SHARED_EVENTS:
            senders += [("projector", projector), ("phone", phone)]
        for who, client in senders:
            before = snapshot(app)
            ack = client.emit(event, payload(found), callback=True)
            if not (isinstance(ack, dict) and ack.get("error") == "not_allowed"):
                failures.append(f"{who} {event}: {ack!r}")
            if snapshot(app) != before:
                failures.append(f"{who} {event}: changed the database")
    assert failures == []

    # The control: a member who may run the session is not refused by any of them.
    console = console_of(app, found.people["co_organizer"], session_id)
    for event in facilitator_events(app):
        ack = console.emit(event, payload(found), callback=True)
        assert isinstance(ack, dict) and ack.get("error") != "not_allowed", (event, ack)


def test_removing_a_member_or_narrowing_them_cuts_their_open_console(world):
    app, found = world
    session_id = found.ids["session_id"]
    facilitator = console_of(app, found.people["facilitator"], session_id)
    co_organizer = console_of(app, found.people["co_organizer"], session_id)
    assert facilitator.is_connected() and co_organizer.is_connected()
    owner = client_as(app, found.people["owner"])
    with app.app_context():
        namur = db.session.scalar(
            db.select(Membership).filter_by(organizer_id=found.people["namur_facilitator"])
        ).territory_id
    # Limited to Namur, the facilitator may no longer run the Liège session: cut at once.
    changed = owner.post(
        f"/organize/assises/members/{found.ids['membership_id']}/role",
        data={"role": "facilitator", "territory_id": str(namur)},
    )
    assert changed.status_code == 302
    assert not facilitator.is_connected()
    assert co_organizer.is_connected()  # the others' consoles stay
    with app.app_context():
        co_membership = db.session.scalar(
            db.select(Membership).filter_by(organizer_id=found.people["co_organizer"])
        ).id
    owner.post(f"/organize/assises/members/{co_membership}/remove")
    assert not co_organizer.is_connected()
    with app.app_context():
        session = db.session.get(LiveSession, session_id)
        assert [p for _sid, p in rooms.facilitators() if p.session_id == session.id] == []


def test_deleting_a_territory_cuts_the_consoles_of_its_facilitators(world):
    app, found = world
    with app.app_context():
        liege = db.session.get(LiveSession, found.ids["session_id"]).territory_id
        make_member(found.ids["process_id"], found.people["outsider"], "facilitator", liege)
    limited = console_of(app, found.people["outsider"], found.ids["session_id"])
    everywhere = console_of(app, found.people["facilitator"], found.ids["session_id"])
    assert limited.is_connected() and everywhere.is_connected()
    owner = client_as(app, found.people["owner"])
    deleted = owner.post(f"/organize/assises/territories/{liege}/delete", data={"confirm": "yes"})
    assert deleted.status_code == 302
    assert not limited.is_connected()  # never widened to every session: cut
    assert everywhere.is_connected()
