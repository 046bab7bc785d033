"""The phone page as plain HTML forms (no JavaScript): every method votes through the same
``cast``, a resent form counts once, errors come back in the participant's words, and a
proposal posted by a form reaches the facilitator's queue (docs/protocol.md §10)."""

from __future__ import annotations

import re

import pytest

from deliberation.extensions import db
from deliberation.models import AgendaItem, Ballot, LiveSession, Poll, Proposal
from deliberation.services.live import voting
from tests.live_fixtures import announce, free_item, make_process, workshop

OPTIONS = [
    {"key": "o1", "label": "Housing first"},
    {"key": "o2", "label": "Mobility aid"},
    {"key": "o3", "label": "Childcare"},
]


@pytest.fixture
def live(app):
    with app.app_context():
        process = make_process(language="en")
        session = workshop(process)
        item = free_item(session, "Shall we open on Saturdays?")
        ids = {"session_id": session.id, "code": session.join_code, "item_id": item.id}
    return ids


def joined(app, code: str):
    client = app.test_client()
    assert client.post(f"/j/{code}", data={"name": "Ann"}).status_code == 200
    return client


def open_poll(app, live, method: str, **options) -> int:
    with app.app_context():
        session = db.session.get(LiveSession, live["session_id"])
        item = db.session.get(AgendaItem, live["item_id"])
        for poll in db.session.scalars(db.select(Poll).filter_by(state="open")):
            voting.close_poll(poll)
        poll_id = voting.open_poll(session, item, method, **options).id
        announce(live["session_id"])
        return poll_id


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def form_of(client, code: str) -> dict[str, str]:
    html = client.get(f"/s/{code}").data.decode()
    return {name: hidden(html, name) for name in ("poll_id", "round", "ballot_id")}


def ballots(app, poll_id: int) -> list[dict]:
    with app.app_context():
        return [b.choice for b in db.session.scalars(db.select(Ballot).filter_by(poll_id=poll_id))]


def test_the_page_without_javascript_shows_the_item_and_its_ballot(app, live):
    client = joined(app, live["code"])
    page = client.get(f"/s/{live['code']}").data.decode()
    assert "Wait for the facilitator to show an item." in page
    assert 'http-equiv="refresh"' in page  # nothing to answer yet: it follows the room
    open_poll(app, live, "consensus")
    page = client.get(f"/s/{live['code']}").data.decode()
    assert "Shall we open on Saturdays?" in page and "The vote is open." in page
    assert 'id="ballot" method="post"' in page
    assert 'name="answer" value="full"' in page
    # A ballot waits for an answer: no reload that would clear it.
    assert 'http-equiv="refresh"' not in page
    assert "This page needs JavaScript" not in page


@pytest.mark.parametrize(
    ("method", "options", "fields", "expected"),
    [
        ("consensus", {}, {"answer": "reservations"}, {"answer": "reservations"}),
        ("yes_no", {}, {"answer": "no"}, {"answer": "no"}),
        (
            "majority_judgment",
            {"options": OPTIONS},
            {"grade-0": "good", "grade-1": "poor", "grade-2": "excellent"},
            {"grades": {"o1": "good", "o2": "poor", "o3": "excellent"}},
        ),
        (
            "dot",
            {"options": OPTIONS, "dots": 3},
            {"dots-0": "2", "dots-1": "0", "dots-2": "1"},
            {"dots": {"o1": 2, "o3": 1}},
        ),
        (
            "ranking",
            {"options": OPTIONS},
            {"rank-0": "3", "rank-1": "1", "rank-2": "2"},
            {"ranking": ["o2", "o3", "o1"]},
        ),
    ],
)
def test_every_method_votes_by_form_once(app, live, method, options, fields, expected):
    poll_id = open_poll(app, live, method, **options)
    client = joined(app, live["code"])
    form = {**form_of(client, live["code"]), **fields}
    response = client.post(f"/s/{live['code']}/vote", data=form)
    # The page with its confirmation at once (no redirect: a round trip less).
    assert response.status_code == 200
    page = response.data.decode()
    assert "Your vote is recorded. You can change it while the vote is open." in page
    assert "Change my vote" in page
    assert hidden(page, "ballot_id") != form["ballot_id"]  # voting again is a change
    # The same form sent again (a double tap, a reload of that page) counts once.
    assert client.post(f"/s/{live['code']}/vote", data=form).status_code == 200
    assert ballots(app, poll_id) == [expected]
    assert client.get(f"/s/{live['code']}/vote").status_code == 302


def test_a_vote_changed_by_form_replaces_the_first(app, live):
    poll_id = open_poll(app, live, "yes_no")
    client = joined(app, live["code"])
    client.post(f"/s/{live['code']}/vote", data={**form_of(client, live["code"]), "answer": "no"})
    client.post(f"/s/{live['code']}/vote", data={**form_of(client, live["code"]), "answer": "yes"})
    assert ballots(app, poll_id) == [{"answer": "yes"}]
    with app.app_context():
        assert voting.voted_count(db.session.get(Poll, poll_id)) == 1


@pytest.mark.parametrize(
    ("method", "options", "fields", "message"),
    [
        ("consensus", {}, {}, "Choose an answer first."),
        ("consensus", {}, {"answer": "maybe"}, "This choice is not possible in this vote."),
        ("majority_judgment", {"options": OPTIONS}, {"grade-0": "good"}, "(2 missing)"),
        ("dot", {"options": OPTIONS, "dots": 2}, {"dots-0": "2", "dots-1": "1"}, "take some"),
        ("dot", {"options": OPTIONS, "dots": 2}, {"dots-0": "x"}, "Give at least one dot."),
        (
            "ranking",
            {"options": OPTIONS},
            {"rank-0": "1", "rank-1": "1", "rank-2": "2"},
            "a different number, from 1 to 3",
        ),
    ],
)
def test_a_bad_ballot_form_says_why_and_keeps_the_choice(
    app, live, method, options, fields, message
):
    poll_id = open_poll(app, live, method, **options)
    client = joined(app, live["code"])
    response = client.post(
        f"/s/{live['code']}/vote", data={**form_of(client, live["code"]), **fields}
    )
    assert response.status_code == 409
    page = response.data.decode()
    assert message in page
    assert 'data-kind="bad"' in page
    assert ballots(app, poll_id) == []
    for name, value in fields.items():
        if name.startswith("grade"):
            assert f'name="{name}" value="{value}" data-option' in page


def test_a_form_for_a_closed_vote_or_a_foreign_poll_is_refused_clearly(app, live):
    poll_id = open_poll(app, live, "yes_no")
    client = joined(app, live["code"])
    form = {**form_of(client, live["code"]), "answer": "yes"}
    with app.app_context():
        voting.close_poll(db.session.get(Poll, poll_id))
    late = client.post(f"/s/{live['code']}/vote", data=form)
    assert late.status_code == 409
    assert "This vote is not open: your ballot was not counted." in late.data.decode()
    for bad in ("999", "x", "99999999999999999999", ""):
        response = client.post(f"/s/{live['code']}/vote", data={**form, "poll_id": bad})
        assert response.status_code == 409, bad
        assert "This vote does not exist." in response.data.decode()
    stranger = app.test_client()
    assert stranger.post(f"/s/{live['code']}/vote", data=form).status_code == 303


def test_a_proposal_by_form_reaches_the_queue_once_and_errors_keep_the_text(app, live):
    client = joined(app, live["code"])
    page = client.get(f"/s/{live['code']}").data.decode()
    assert 'id="propose-form" method="post"' in page
    client_id = hidden(page, "client_id")
    empty = client.post(
        f"/s/{live['code']}/propose",
        data={"propose-kind": "amendment", "text": "Open on Saturdays too", "client_id": client_id},
    )
    # A free question cannot be amended: said in words, the text kept.
    assert empty.status_code in (400, 409)
    assert "Open on Saturdays too</textarea>" in empty.data.decode()
    form = {"propose-kind": "comment", "text": "Saturdays suit parents", "client_id": client_id}
    sent = client.post(f"/s/{live['code']}/propose", data=form)
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith("?sent=proposal#propose-status")
    assert client.post(f"/s/{live['code']}/propose", data=form).status_code == 303
    with app.app_context():
        texts = [p.text for p in db.session.scalars(db.select(Proposal))]
    assert texts == ["Saturdays suit parents"]
    back = client.get(f"/s/{live['code']}?sent=proposal").data.decode()
    assert "Your proposal has arrived." in back


def test_the_forms_need_their_csrf_token(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        session = workshop(make_process(language="en"))
        item = free_item(session)
        code = session.join_code
        voting.open_poll(session, item, "yes_no")
    client = app.test_client()
    join_page = client.get(f"/j/{code}").data.decode()
    client.post(f"/j/{code}", data={"csrf_token": hidden(join_page, "csrf_token")})
    page = client.get(f"/s/{code}").data.decode()
    form = {n: hidden(page, n) for n in ("poll_id", "round", "ballot_id")} | {"answer": "yes"}
    assert client.post(f"/s/{code}/vote", data=form).status_code == 400
    form["csrf_token"] = hidden(page, "csrf_token")
    assert client.post(f"/s/{code}/vote", data=form).status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_page_after_a_form_vote_says_recorded_when_another_caller_wrote_it(
    app, live, monkeypatch
):
    """Group commit: a ballot may be written by another caller's transaction (the batch's
    leader) while this request's session still reads a snapshot from before that commit.
    The page the form answers with must still say the ballot is recorded."""
    import threading

    from deliberation.services.live import ballots as ballot_service

    poll_id = open_poll(app, live, "yes_no")
    client = joined(app, live["code"])
    form = form_of(client, live["code"])

    class AnotherLeader:
        """Writes each batch in another thread's session, as a leader greenlet does."""

        def submit(self, request):
            outcome = []

            def lead():
                with app.app_context():
                    outcome.append(ballot_service.cast_many([request])[0])
                    db.session.remove()

            thread = threading.Thread(target=lead)
            thread.start()
            thread.join()
            return outcome[0]

    monkeypatch.setitem(app.extensions, "ballot_writer", AnotherLeader())
    page = client.post(f"/s/{live['code']}/vote", data={**form, "answer": "yes"})
    assert page.status_code == 200
    assert 'id="vote-status" data-kind="ok"' in page.data.decode()
    assert ballots(app, poll_id) == [{"answer": "yes"}]
