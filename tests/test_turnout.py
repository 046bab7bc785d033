"""The tally push's figures, read in one statement (services/live/turnout.py), on SQLite and
PostgreSQL: the current item's latest poll, its ballots counted, the places taken, and what
each screen's tally carries from them (live/broadcast.py)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from deliberation.extensions import db
from deliberation.live import broadcast
from deliberation.services.live import admission, ballots, sessions, turnout, voting
from tests.live_fixtures import ballot_id, free_item, make_process, voters, workshop


@pytest.fixture
def ctx(any_db_app):
    with any_db_app.test_request_context(), force_locale("en"):
        yield any_db_app


def test_the_figures_follow_the_current_item_its_latest_poll_and_the_places(ctx):
    process = make_process(language="nl")
    session = workshop(process)
    assert turnout.read(session.id + 1000) is None
    before = turnout.read(session.id)
    assert (before.poll, before.voted, before.joined, before.language) == (None, 0, 0, "nl")

    first = free_item(session, "First?")
    voting.close_poll(voting.open_poll(session, first, "consensus", secret=False), actor="t")
    second = free_item(session, "Second?")
    poll = voting.open_poll(session, second, "consensus", secret=False, show_live=True)
    alice, bob, carol = voters(session, ["", "", ""])
    for voter in (alice, bob):
        ballots.cast(voter.id, poll.id, ballot_id(), {"answer": "full"})
    ballots.cast(alice.id, poll.id, ballot_id(), {"answer": "block"})  # a change of mind
    figures = turnout.read(session.id)
    assert figures.poll == turnout.PollSeen(poll.id, "open", False, True)
    assert (figures.voted, figures.joined, figures.admission) == (2, 3, "open")
    assert figures.voted == voting.voted_count(poll)
    assert figures.joined == sessions.joined_count(session)

    tallies = broadcast.tallies_for(figures)
    for role in ("projector", "facilitator"):
        assert tallies[role]["poll_id"] == poll.id
        assert (tallies[role]["voted"], tallies[role]["joined"]) == (2, 3)
        assert tallies[role]["results"] == voting.results(poll)  # named, shown live
    assert tallies["facilitator"]["tickets"] is None


def test_a_secret_poll_shows_turnout_only_and_a_ticket_session_its_tickets(ctx):
    process = make_process()
    session = sessions.create_session(process, "workshop", "Tickets", admission="tickets")
    admission.issue_tickets(session, 3)
    poll = voting.open_poll(session, free_item(session), "consensus")  # secret by default
    tallies = broadcast.tallies_for(turnout.read(session.id))
    assert turnout.read(session.id).poll.secret is True
    assert tallies["projector"]["results"] is None and tallies["facilitator"]["results"] is None
    assert tallies["facilitator"]["tickets"] == sessions.ticket_counts(session)
    assert tallies["facilitator"]["tickets"]["issued"] == 3
    assert "tickets" not in tallies["projector"]
    assert tallies["projector"]["poll_id"] == poll.id
    db.session.remove()
