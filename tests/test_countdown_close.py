"""The server closes a poll when its countdown ends (deliberation/live/countdown.py), unless
the facilitator unticked « Close the vote automatically »; a timer that wakes after a
manual close, a reset or early never closes the wrong round or before the time shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from deliberation.extensions import db
from deliberation.live import actions, broadcast, countdown, rooms
from deliberation.live.actions import FormPayload, JsonPayload
from deliberation.models import LiveSession, Organizer, Poll, PollAudit, utcnow
from deliberation.services.live import voting
from deliberation.services.people.accounts import create_or_update_organizer
from tests.live_fixtures import free_item, make_member, make_process, workshop


@pytest.fixture
def world(app):
    rooms.clear()
    broadcast.reset()
    with app.app_context():
        process = make_process()
        organizer, _created = create_or_update_organizer("f@example.org", "correct horse b")
        make_member(process.id, organizer.id, "facilitator")
        session = workshop(process)
        ids = {"session": session.id, "item": free_item(session).id, "organizer": organizer.id}
    yield app, ids
    rooms.clear()
    broadcast.reset()


def _open(ids, seconds: int = 60) -> Poll:
    session = db.session.get(LiveSession, ids["session"])
    item = next(entry for entry in session.agenda if entry.id == ids["item"])
    return voting.open_poll(session, item, "yes_no", countdown_seconds=seconds)


def _end_countdown(poll_id: int) -> None:
    """As if the countdown's time had passed (no waiting in a test)."""
    with voting.write_or_busy():
        db.session.get(Poll, poll_id).countdown_ends_at = utcnow() - timedelta(seconds=1)


def test_a_poll_whose_countdown_ended_is_closed_by_the_countdown(world):
    app, ids = world
    with app.app_context():
        poll = _open(ids)
        assert voting.close_at_countdown(poll.id, poll.round) is None  # not yet
        assert db.session.get(Poll, poll.id).state == "open"
        _end_countdown(poll.id)
        closed = voting.close_at_countdown(poll.id, poll.round)
        assert closed is not None and closed.state == "closed"
        audit = db.session.scalars(
            db.select(PollAudit).filter_by(poll_id=poll.id).order_by(PollAudit.id)
        ).all()
        assert [(row.action, row.actor) for row in audit][-1] == ("close", "countdown")
        assert audit[0].details["auto_close"] is True


def test_a_late_timer_leaves_a_closed_reset_or_missing_poll_alone(world):
    app, ids = world
    with app.app_context():
        poll = _open(ids)
        _end_countdown(poll.id)
        voting.close_poll(poll, actor="by hand")
        assert voting.close_at_countdown(poll.id, 1) is None
        # Reset and reopened: round 2 is not the round the timer was set for.
        voting.reset_poll(db.session.get(Poll, poll.id))
        reopened = _open(ids)
        assert reopened.id == poll.id and reopened.round == 2
        _end_countdown(poll.id)
        assert voting.close_at_countdown(poll.id, 1) is None
        assert db.session.get(Poll, poll.id).state == "open"
        assert voting.close_at_countdown(2_000_000_000, 1) is None


def test_the_timer_sleeps_until_the_end_then_closes_and_tells_the_screens(world, monkeypatch):
    app, ids = world
    with app.app_context():
        poll = _open(ids, seconds=30)
        deadline = countdown.Deadline.of(poll)
        assert deadline is not None
        _end_countdown(poll.id)  # the database's clock: the time has come
    clock = [deadline.ends_at - timedelta(seconds=30)]
    monkeypatch.setattr(countdown, "utcnow", lambda: clock[0])
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    told: list[int] = []
    monkeypatch.setattr(broadcast, "session_changed", told.append)
    closed = countdown.close_when_due(app, deadline, sleep=sleep)
    assert naps == [pytest.approx(30 + countdown.NAP_MARGIN_S)]
    assert closed is not None and told == [ids["session"]]
    with app.app_context():
        assert db.session.get(Poll, deadline.poll_id).state == "closed"


def test_a_timer_that_keeps_waking_early_gives_up_without_closing(world, monkeypatch):
    app, ids = world
    with app.app_context():
        deadline = countdown.Deadline.of(_open(ids, seconds=30))
    naps: list[float] = []
    closed = countdown.close_when_due(app, deadline, sleep=naps.append)  # the clock stands
    assert len(naps) == countdown.MAX_NAPS and closed is None
    with app.app_context():
        assert db.session.get(Poll, deadline.poll_id).state == "open"


@pytest.mark.parametrize(
    ("kind", "fields", "scheduled"),
    [
        (JsonPayload, [("countdown_seconds", 45)], True),
        (JsonPayload, [("countdown_seconds", 45), ("auto_close", False)], False),
        (JsonPayload, [], False),  # no countdown, nothing to close
        # The console's form: the box (when ticked), then a hidden « no ».
        (
            FormPayload,
            [("countdown_seconds", "45"), ("auto_close", "yes"), ("auto_close", "no")],
            True,
        ),
        (FormPayload, [("countdown_seconds", "45"), ("auto_close", "no")], False),
    ],
)
def test_opening_schedules_the_close_unless_switched_off(
    world, monkeypatch, kind, fields, scheduled
):
    app, ids = world
    started: list[countdown.Deadline] = []
    monkeypatch.setattr(countdown, "schedule", lambda _app, deadline: started.append(deadline))
    item = str(ids["item"]) if kind is FormPayload else ids["item"]
    raw = MultiDict([("item_id", item), ("method", "yes_no"), *fields])
    with app.test_request_context():
        organizer = db.session.get(Organizer, ids["organizer"])
        session = db.session.get(LiveSession, ids["session"])
        actions.dispatch(session, "open_poll", kind(raw), organizer)
        poll = db.session.scalar(db.select(Poll).filter_by(session_id=ids["session"]))
        assert poll.state == "open"
        assert [deadline.poll_id for deadline in started] == ([poll.id] if scheduled else [])
