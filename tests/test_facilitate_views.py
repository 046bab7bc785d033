"""Facilitators' pages: sessions of a process, the console (agenda + HTTP actions), the
projector view."""

from __future__ import annotations

import json
import re

import pytest

from deliberation.extensions import db
from deliberation.models import (
    TEXT_MAX,
    AgendaItem,
    LiveSession,
    Organizer,
    Poll,
    PollAudit,
    Process,
)
from deliberation.services.live import ballots, sessions, voting
from tests.live_fixtures import first_field, free_item, make_member, make_process, workshop


@pytest.fixture
def world(app):
    with app.app_context():
        process = make_process(language="en")
        organizer = Organizer(email="facilitator@example.org", name="Fa")
        organizer.set_password("secret-password")
        db.session.add(organizer)
        db.session.commit()
        make_member(process.id, organizer.id, "co_organizer")  # schedules and runs sessions
        session = workshop(process, "Workshop in Liège")
        ids = {
            "process_id": process.id,
            "slug": process.slug,
            "field_id": first_field(process).id,
            "session_id": session.id,
            "code": session.join_code,
            "organizer_id": organizer.id,
        }
    # Outside the app context: each request and check below reads the database afresh.
    return ids


@pytest.fixture
def facilitator(client, world):
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{world['organizer_id']}:0"  # Organizer.get_id(): id:epoch
        flask_session["_fresh"] = True
    return client


def agenda(app, session_id: int) -> list[AgendaItem]:
    with app.app_context():
        return list(
            db.session.scalars(
                db.select(AgendaItem).filter_by(session_id=session_id).order_by(AgendaItem.position)
            )
        )


def test_console_and_session_list_need_a_login(client, world):
    for url in (
        f"/facilitate/{world['slug']}/sessions",
        f"/facilitate/session/{world['session_id']}",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    posted = client.post(f"/facilitate/session/{world['session_id']}/action/close_poll")
    assert posted.status_code == 302 and "/login" in posted.headers["Location"]


def test_session_list_and_create(app, facilitator, world):
    page = facilitator.get(f"/facilitate/{world['slug']}/sessions")
    assert page.status_code == 200
    assert b"Workshop in Li" in page.data
    assert world["code"].encode() in page.data
    response = facilitator.post(
        f"/facilitate/{world['slug']}/sessions",
        data={
            "kind": "assembly",
            "title": "General assembly",
            "field_id": "",
            "territory_id": "",
            "held_on": "2026-12-01",
            "place": "Namur",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(db.select(LiveSession).filter_by(title="General assembly"))
        assert (created.kind, created.place, created.held_on.isoformat()) == (
            "assembly",
            "Namur",
            "2026-12-01",
        )
        assert response.headers["Location"].endswith(f"/facilitate/session/{created.id}")


@pytest.mark.parametrize(
    "values",
    [
        {"kind": "workshop", "title": ""},
        {"kind": "party", "title": "T"},
        {"kind": "workshop", "title": "T", "held_on": "31/12/2026"},
        {"kind": "workshop", "title": "T", "field_id": "99999"},
        {"kind": "workshop", "title": "T" * 301},
    ],
)
def test_bad_session_forms_are_refused_and_kept(app, facilitator, world, values):
    response = facilitator.post(f"/facilitate/{world['slug']}/sessions", data=values)
    assert response.status_code == 400
    assert b'role="alert"' in response.data
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(LiveSession.id))) == 1


def test_unknown_process_or_session_is_404(facilitator, world):
    assert facilitator.get("/facilitate/nope/sessions").status_code == 404
    assert facilitator.get("/facilitate/session/9999").status_code == 404


def test_fill_from_field_free_question_and_tree_items(app, facilitator, world):
    url = f"/facilitate/session/{world['session_id']}/agenda"
    response = facilitator.post(url, data={"action": "fill_field", "field_id": world["field_id"]})
    assert response.status_code == 302
    filled = agenda(app, world["session_id"])
    # 4 hypotheses, then per finding: finding, 2 recommendations, the action paths, 1 condition.
    assert [item.item_type for item in filled][:6] == ["hypothesis"] * 4 + [
        "finding",
        "recommendation",
    ]
    assert len(filled) == 4 + 2 * 5
    facilitator.post(url, data={"action": "free", "text": "Shall we meet again?"})
    assert agenda(app, world["session_id"])[-1].text == "Shall we meet again?"
    with app.app_context():
        process = db.session.get(Process, world["process_id"])
        finding = process.fields[1].findings[0]
    facilitator.post(url, data={"action": "items", "items": [f"finding:{finding.id}"]})
    assert agenda(app, world["session_id"])[-1].item_id == finding.id

    console = facilitator.get(f"/facilitate/session/{world['session_id']}")
    assert console.status_code == 200
    html = console.data.decode()
    assert "Shall we meet again?" in html
    assert f"/projector/{world['code']}" in html
    config = json.loads(re.search(r'id="live-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["state"]["role"] == "facilitator"
    assert len(config["state"]["agenda"]) == len(agenda(app, world["session_id"]))


def test_agenda_refusals_are_flashed_not_500(app, facilitator, world):
    url = f"/facilitate/session/{world['session_id']}/agenda"
    for data in (
        {"action": "free", "text": "   "},
        {"action": "items"},
        {"action": "items", "items": ["bogus:1"]},
        {"action": "items", "items": ["hypothesis:99999"]},
        {"action": "fill_field", "field_id": "99999"},
    ):
        response = facilitator.post(url, data=data, follow_redirects=True)
        assert response.status_code == 200, data
        assert b"notice bad" in response.data, data
    assert agenda(app, world["session_id"]) == []


def test_move_and_remove(app, facilitator, world):
    with app.app_context():
        session = db.session.get(LiveSession, world["session_id"])
        first, second = free_item(session, "one"), free_item(session, "two")
        first_id, second_id = first.id, second.id
    base = f"/facilitate/session/{world['session_id']}/agenda"
    facilitator.post(f"{base}/{second_id}/move", data={"direction": "up"})
    assert [item.id for item in agenda(app, world["session_id"])] == [second_id, first_id]
    facilitator.post(f"{base}/{first_id}/remove")
    assert [item.id for item in agenda(app, world["session_id"])] == [second_id]
    assert facilitator.post(f"{base}/99999/remove").status_code == 404


def test_http_actions_run_a_whole_vote(app, facilitator, world):
    with app.app_context():
        session = db.session.get(LiveSession, world["session_id"])
        item_id = free_item(session).id
        participant, _token = sessions.join(world["code"], "", "employer")
        participant_id = participant.id
    base = f"/facilitate/session/{world['session_id']}/action"

    def act(name: str, **data):
        response = facilitator.post(f"{base}/{name}", data=data, follow_redirects=True)
        assert response.status_code == 200
        return response

    act("show_item", item_id=item_id)
    act(
        "open_poll",
        item_id=item_id,
        method="yes_no",
        countdown_seconds="60",
        show_live="on",
        secret="no",
    )
    with app.app_context():
        poll = db.session.scalar(db.select(Poll).filter_by(agenda_item_id=item_id))
        poll_id = poll.id
        assert (poll.state, poll.method, poll.show_live) == ("open", "yes_no", True)
        assert poll.countdown_ends_at is not None
        voter = db.session.get(voting.Participant, participant_id)
        ballots.cast(voter.id, poll_id, "ballot-0001", {"answer": "yes"}, 1)
    refused = act("show_item", item_id="")  # cannot leave the item while its vote is open
    assert b"notice bad" in refused.data
    act("set_show_live", poll_id=poll_id)  # unticked box: hide
    act("close_poll", poll_id=poll_id)
    act("publish_poll", poll_id=poll_id)
    not_confirmed = act("reset_poll", poll_id=poll_id)
    assert b"notice bad" in not_confirmed.data
    act("reset_poll", poll_id=poll_id, confirm="yes")
    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        assert (poll.state, poll.round, poll.show_live) == ("draft", 2, False)
        actions = list(db.session.scalars(db.select(PollAudit.action).filter_by(poll_id=poll_id)))
        assert actions == ["open", "hide_live", "close", "publish", "reset"]
    assert facilitator.post(f"{base}/drop_tables").status_code == 404


def test_open_poll_with_typed_options(app, facilitator, world):
    with app.app_context():
        item_id = free_item(db.session.get(LiveSession, world["session_id"])).id
    facilitator.post(
        f"/facilitate/session/{world['session_id']}/action/open_poll",
        data={"item_id": item_id, "method": "dot", "dots": "4", "options": "Alpha\n\n  Beta  \n"},
    )
    with app.app_context():
        poll = db.session.scalar(db.select(Poll).filter_by(agenda_item_id=item_id))
        assert poll.options == [{"key": "o1", "label": "Alpha"}, {"key": "o2", "label": "Beta"}]
        assert poll.dots == 4


def test_projector_page_shows_qr_code_and_join_code(client, world):
    response = client.get(f"/projector/{world['code']}")
    assert response.status_code == 200
    html = response.data.decode()
    assert "<svg" in html and "viewBox" in html
    assert world["code"] in html
    assert f"/j/{world['code']}" in html
    assert (
        json.loads(re.search(r'id="live-config"[^>]*>(.*?)</script>', html, re.S).group(1))[
            "state"
        ]["role"]
        == "projector"
    )
    assert client.get(f"/projector/{world['code'].lower()}").status_code == 302


def test_console_counts_phones_connected_apart_from_the_connection_status(app, facilitator, world):
    """In French, the count reads « Téléphones connectés » while a phone's connection status
    stays « Connecté »: one msgid for both rendered the count in the singular."""
    from flask_babel import force_locale

    from deliberation.views.live_common import phone_strings

    console = facilitator.get(
        f"/facilitate/session/{world['session_id']}", headers={"Accept-Language": "fr"}
    )
    html = console.data.decode()
    assert re.search(r'Téléphones connectés <strong id="c-connected">0</strong>', html)
    with app.test_request_context(), force_locale("fr"):
        assert phone_strings()["online"] == "Connecté"


def test_a_free_question_has_the_limit_of_every_text(app, facilitator, world):
    """Issue 18: a free question of 1.9 MB was accepted; it has TEXT_MAX like every text."""
    url = f"/facilitate/session/{world['session_id']}/agenda"
    facilitator.post("/lang/fr")
    too_long = {"action": "free", "text": "x" * (TEXT_MAX + 1)}
    response = facilitator.post(url, data=too_long, follow_redirects=True)
    assert response.status_code == 200
    assert f"Une question compte au plus {TEXT_MAX} caractères.".encode() in response.data
    assert agenda(app, world["session_id"]) == []
    facilitator.post(url, data={"action": "free", "text": "x" * TEXT_MAX})
    assert len(agenda(app, world["session_id"])[-1].text) == TEXT_MAX
