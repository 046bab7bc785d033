"""The phone page drawn from its seat (services/live/phone_seats.py, views/phone_view.py;
issue 17): one statement reads the session, its process, the participant and, with the
session's phone state kept, the participant's ballot in the poll on screen; the answer of a
form's ballot reads nothing after the cast. What the seat holds is read on every page, so a
change to the session or the place is seen on the next one."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from deliberation.extensions import db
from deliberation.models import Ballot, Field, LiveSession, Participant, utcnow
from deliberation.services.live import sessions, voting
from tests.live_fixtures import announce, first_field, free_item, make_process, workshop


@pytest.fixture
def room(app):
    """An English workshop with an open consensus vote, its state sent to the phones (so
    kept), and two joined participants."""
    with app.app_context():
        session = workshop(make_process(language="en"))
        poll = voting.open_poll(session, free_item(session, "Open on Saturdays?"), "consensus")
        tokens = [sessions.join(session.join_code, name)[1] for name in ("Ann", "Bob")]
        ids = {"session": session.id, "code": session.join_code, "poll": poll.id}
        announce(session.id)
    return {**ids, "tokens": tokens}


def _phone(app, token: str):
    client = app.test_client()
    client.set_cookie("participant_token", token)
    return client


class _Statements:
    def __init__(self, app) -> None:
        with app.app_context():
            self.engine = db.engine
        self.seen: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args) -> None:
        self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def _form(html: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'<input type="hidden" name="(poll_id|round|ballot_id|csrf_token)" '
            r'value="([^"]*)"',
            html,
        )
    )


def test_a_joined_phone_page_is_one_statement_that_knows_whether_it_voted(app, room):
    ann, bob = (_phone(app, token) for token in room["tokens"])
    ann.get(f"/s/{room['code']}")  # the state is kept from here on, whoever asks
    with app.app_context():
        ann_id = sessions.phone_identity(sessions.token_claims(room["tokens"][0])).participant_id
        counted = Ballot(
            poll_id=room["poll"], participant_id=ann_id, choice={"answer": "full"}, group=""
        )
        db.session.add(counted)
        db.session.commit()
    for client, recorded in ((ann, True), (bob, False)):
        with _Statements(app) as seen:
            page = client.get(f"/s/{room['code']}").get_data(as_text=True)
        selects = [s for s in seen if s.startswith("SELECT")]
        assert len(selects) == 1 and "FROM ballot" in selects[0], selects
        assert ('id="vote-status" data-kind="ok"' in page) is recorded
        button = "Change my vote" if recorded else "Send my vote"
        assert f'id="send">{button}</button>' in page


def test_the_answer_of_a_form_ballot_reads_nothing_after_the_cast(app, room):
    ann = _phone(app, room["tokens"][0])
    fields = _form(ann.get(f"/s/{room['code']}").get_data(as_text=True))
    with _Statements(app) as seen:
        answer = ann.post(f"/s/{room['code']}/vote", data={**fields, "answer": "full"})
    assert answer.status_code == 200
    assert 'id="vote-status" data-kind="ok"' in answer.get_data(as_text=True)
    # Before the cast: the seat and the form's poll, in one statement.
    before = seen[: next(i for i, s in enumerate(seen) if s.startswith("BEGIN IMMEDIATE"))]
    assert len([s for s in before if s.startswith("SELECT")]) == 1
    written = max(i for i, s in enumerate(seen) if s.startswith("INSERT INTO ballot_receipt"))
    assert [s for s in seen[written + 1 :] if s.startswith("SELECT")] == []


def test_a_change_to_the_session_or_the_place_is_seen_on_the_next_page(app, room):
    ann = _phone(app, room["tokens"][0])
    code = room["code"]
    first = ann.get(f"/s/{code}").get_data(as_text=True)
    assert "Workshop" in first and 'class="easy"' not in first
    with app.app_context():
        session = db.session.get(LiveSession, room["session"])
        session.title = "Atelier du samedi"
        db.session.commit()
        sessions.set_easy_read(db.session.get(LiveSession, room["session"]), True)
    page = ann.get(f"/s/{code}").get_data(as_text=True)
    assert "Atelier du samedi" in page and 'class="easy"' in page
    with app.app_context():
        for place in db.session.scalars(db.select(Participant).filter_by(display_name="Ann")):
            place.voided_at = utcnow()
        db.session.commit()
    gone = ann.get(f"/s/{code}")
    assert gone.status_code == 302 and gone.location.endswith(f"/j/{code}")
    posted = ann.post(f"/s/{code}/vote", data={"poll_id": room["poll"], "answer": "full"})
    assert posted.status_code == 303 and posted.location.endswith(f"/j/{code}")


def _refused_with_nothing_counted(app, room, poll_id) -> None:
    ann = _phone(app, room["tokens"][0])
    fields = _form(ann.get(f"/s/{room['code']}").get_data(as_text=True))
    answer = ann.post(
        f"/s/{room['code']}/vote", data={**fields, "poll_id": poll_id, "answer": "full"}
    )
    assert 400 <= answer.status_code < 500
    assert 'data-kind="bad"' in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ballot.id))) == 0


@pytest.mark.parametrize("poll_id", ["999999", "abc", "99999999999999999999999", ""])
def test_a_form_naming_no_poll_is_refused_in_words(app, room, poll_id):
    _refused_with_nothing_counted(app, room, poll_id)


def test_a_form_naming_another_sessions_poll_is_refused(app, room):
    with app.app_context():
        other = workshop(make_process(slug="other", language="en"), title="Other")
        elsewhere = voting.open_poll(other, free_item(other, "Elsewhere?"), "consensus").id
    _refused_with_nothing_counted(app, room, elsewhere)


def test_the_page_links_to_its_fields_handouts_once_published(app, room):
    ann = _phone(app, room["tokens"][0])
    with app.app_context():
        session = db.session.get(LiveSession, room["session"])
        field = first_field(session.process)
        session.field_id = field.id
        db.session.commit()
        slug, field_id = session.process.slug, field.id
    assert 'class="documents-link"' not in ann.get(f"/s/{room['code']}").get_data(as_text=True)
    with app.app_context():
        db.session.get(Field, field_id).handouts_published_at = utcnow()
        db.session.commit()
    page = ann.get(f"/s/{room['code']}").get_data(as_text=True)
    assert f'<a href="/p/{slug}/documents#field-{field_id}">' in page
