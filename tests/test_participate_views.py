"""Participants' pages: join by code, the phone page, the QR code, the HTTP ballot twin."""

from __future__ import annotations

import json
import re

import pytest

from deliberation.extensions import db
from deliberation.models import AgendaItem, Ballot, LiveSession, Participant, Poll, Process
from deliberation.services.live import sessions, voting
from tests.conftest import make_app
from tests.live_fixtures import ballot_id, free_item, make_process, workshop


@pytest.fixture
def live(app):
    """A process (in English), a workshop with one free question on its agenda."""
    with app.app_context():
        process = make_process(language="en")
        session = workshop(process)
        item = free_item(session, "Shall we open on Saturdays?")
        ids = {"session_id": session.id, "code": session.join_code, "item_id": item.id}
    # Outside the app context: each request and check below reads the database afresh.
    return ids


def page_config(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="live-config"[^>]*>(.*?)</script>', html, re.S
    )
    assert found, "the page embeds its configuration"
    return json.loads(found.group(1))


def participants(app) -> list[Participant]:
    with app.app_context():
        return list(db.session.scalars(db.select(Participant)))


def test_enter_code_page_and_redirect_to_the_join_page(client, live):
    page = client.get("/j")
    assert page.status_code == 200
    assert b'name="code"' in page.data
    # Codes are case-insensitive and forgive spaces and dashes.
    messy = live["code"][:3].lower() + "-" + live["code"][3:].lower()
    response = client.get("/j", query_string={"code": messy})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/j/{live['code']}")


def test_unknown_code_gives_a_clear_404_page(client, live):
    for url in (
        "/j/QQQQQQ",
        "/s/QQQQQQ",
        "/s/QQQQQQ/qr.svg",
        "/projector/QQQQQQ",
        "/j/" + "X" * 300,
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"QQQQQQ" in response.data or url.endswith("X" * 300)
    typed = client.get("/j", query_string={"code": "QQQQQQ"})
    assert typed.status_code == 404
    assert b"QQQQQQ" in typed.data
    assert b'aria-invalid="true"' in typed.data


def test_lowercase_code_redirects_to_the_canonical_page(client, live):
    response = client.get(f"/j/{live['code'].lower()}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/j/{live['code']}")


def test_join_page_offers_the_process_groups_with_labels(client, live):
    page = client.get(f"/j/{live['code']}")
    assert page.status_code == 200
    html = page.data.decode()
    for key in ("service_user", "social_worker", "employer", "public_official", "expert"):
        assert f'value="{key}"' in html
    assert "Social worker or counsellor" in html
    assert "<fieldset" in html and "<legend>" in html
    assert 'name="csrf_token"' in html


def test_join_flow_sets_the_token_and_opens_the_phone_page(app, client, live):
    response = client.post(f"/j/{live['code']}", data={"name": "  Ann  ", "group": "employer"})
    # The ballot page at once (no redirect: a round trip less on a slow network).
    assert response.status_code == 200
    assert page_config(response.data.decode())["phoneUrl"] == f"/s/{live['code']}"
    cookie = client.get_cookie("participant_token")
    assert cookie is not None and cookie.http_only
    [participant] = participants(app)
    assert (participant.display_name, participant.group) == ("Ann", "employer")

    phone = client.get(f"/s/{live['code']}")
    assert phone.status_code == 200
    assert phone.headers["Cache-Control"] == "no-store"
    config = page_config(phone.data.decode())
    assert config["token"] == cookie.value
    assert config["code"] == live["code"]
    assert config["state"]["role"] == "phone"
    assert config["state"]["voted"] is False
    with app.app_context():
        assert sessions.participant_from_token(config["token"]).id == participant.id
    assert b"socket.io.min.js" in phone.data


def test_over_long_name_is_refused_and_nothing_is_lost(app, client, live):
    name = "N" * 81
    response = client.post(f"/j/{live['code']}", data={"name": name, "group": "employer"})
    assert response.status_code == 400
    assert name.encode() in response.data  # the typed name is kept in the form
    assert b'aria-invalid="true"' in response.data
    assert participants(app) == []


def test_unknown_group_is_refused_clearly(app, client, live):
    response = client.post(f"/j/{live['code']}", data={"name": "Bo", "group": "astronaut"})
    assert response.status_code == 400
    assert b'id="group-error"' in response.data
    assert participants(app) == []


def test_no_group_and_no_name_is_fine(app, client, live):
    response = client.post(f"/j/{live['code']}", data={})
    assert response.status_code == 200
    [participant] = participants(app)
    assert (participant.display_name, participant.group) == ("", "")


def test_phone_page_without_a_token_sends_to_the_join_page(client, live):
    response = client.get(f"/s/{live['code']}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/j/{live['code']}")
    client.set_cookie("participant_token", "forged.token.value")
    assert client.get(f"/s/{live['code']}").status_code == 302


def test_a_token_of_another_session_does_not_open_this_one(app, client, live):
    with app.app_context():
        process = db.session.get(Process, 1)
        other = workshop(process, "Other workshop")
        _participant, token = sessions.join(other.join_code)
    client.set_cookie("participant_token", token)
    assert client.get(f"/s/{live['code']}").status_code == 302


def test_a_phone_that_kept_its_token_comes_back_as_the_same_participant(app, client, live):
    client.post(f"/j/{live['code']}", data={"name": "Ann"})
    token = client.get_cookie("participant_token").value
    fresh = app.test_client()  # cookie lost, localStorage kept: the page posts the token
    response = fresh.post(f"/j/{live['code']}", data={"token": token, "name": "Other"})
    assert response.status_code == 302
    assert fresh.get_cookie("participant_token").value == token
    assert len(participants(app)) == 1
    again = client.get(f"/j/{live['code']}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/s/{live['code']}")
    # Joining again from the same browser (cookie kept) does not make a second voter either.
    assert client.post(f"/j/{live['code']}", data={"name": "Again"}).status_code == 302
    assert len(participants(app)) == 1


def test_phone_and_projector_pages_speak_the_process_language(app, client, live):
    with app.app_context():
        process = db.session.get(Process, 1)
        process.language = "en"
        db.session.commit()
    headers = {"Accept-Language": "fr"}
    assert b'<html lang="en">' in client.get(f"/j/{live['code']}", headers=headers).data
    assert b'<html lang="en">' in client.get(f"/projector/{live['code']}", headers=headers).data


def test_qr_code_is_an_svg_of_the_join_url(client, live):
    response = client.get(f"/s/{live['code']}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg")
    assert b"viewBox" in response.data


def joined_client(app, code: str):
    client = app.test_client()
    client.post(f"/j/{code}", data={"group": "employer"})
    return client, client.get_cookie("participant_token").value


def test_http_ballot_is_counted_once_and_acknowledged(app, live):
    client, token = joined_client(app, live["code"])
    with app.app_context():
        session = db.session.get(LiveSession, live["session_id"])
        item = db.session.get(AgendaItem, live["item_id"])
        poll = voting.open_poll(session, item, "consensus")
        poll_id = poll.id
    ballot = {
        "token": token,
        "poll_id": poll_id,
        "ballot_id": ballot_id(),
        "choice": {"answer": "full"},
        "round": 1,
    }
    first = client.post("/api/ballots", json=ballot)
    assert first.status_code == 200
    assert first.get_json() == {"ok": True, "ballot_id": ballot["ballot_id"], "duplicate": False}
    again = client.post("/api/ballots", json=ballot)
    assert again.get_json()["duplicate"] is True
    wrong = client.post(
        "/api/ballots", json={**ballot, "ballot_id": ballot_id(), "choice": {"answer": "maybe"}}
    )
    assert wrong.status_code == 409
    assert wrong.get_json()["error"] == "invalid_choice"
    assert wrong.get_json()["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ballot.id))) == 1
        assert voting.voted_count(db.session.get(Poll, poll_id)) == 1
        voting.close_poll(db.session.get(Poll, poll_id))
    late = client.post("/api/ballots", json={**ballot, "ballot_id": ballot_id()})
    assert late.status_code == 409
    assert late.get_json()["error"] == "poll_not_open"


def test_http_ballot_refusals(app, live):
    client, _token = joined_client(app, live["code"])
    assert client.post("/api/ballots", data="not json").status_code == 400
    forged = client.post(
        "/api/ballots", json={"token": "x", "poll_id": 1, "ballot_id": ballot_id()}
    )
    assert forged.status_code == 403
    assert forged.get_json()["error"] == "invalid_token"


def test_join_needs_csrf_but_the_ballot_api_does_not(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        process = make_process(language="en")
        code = workshop(process).join_code
    client = app.test_client()
    assert client.post(f"/j/{code}", data={"name": "Ann"}).status_code == 400
    page = client.get(f"/j/{code}").data.decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/j/{code}", data={"name": "Ann", "csrf_token": csrf}).status_code == 200
    token = client.get_cookie("participant_token").value
    # The API is authenticated by the participant token, not by a form: no CSRF token.
    response = client.post(
        "/api/ballots",
        json={"token": token, "poll_id": 999, "ballot_id": ballot_id(), "choice": {}},
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "unknown_poll"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_join_and_http_ballot_on_sqlite_and_postgresql(any_db_app):
    """The phone's HTTP path end to end on both databases."""
    app = any_db_app
    with app.app_context():
        session = workshop(make_process(language="fr"))
        item = free_item(session)
        code = session.join_code
        poll_id = voting.open_poll(session, item, "yes_no").id
    client, token = joined_client(app, code)
    page = client.get(f"/s/{code}")
    assert page.status_code == 200
    assert page_config(page.data.decode())["state"]["poll"]["id"] == poll_id
    ballot = {
        "token": token,
        "poll_id": poll_id,
        "ballot_id": ballot_id(),
        "choice": {"answer": "no"},
        "round": 1,
    }
    assert client.post("/api/ballots", json=ballot).get_json()["duplicate"] is False
    assert client.post("/api/ballots", json=ballot).get_json()["duplicate"] is True
    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        assert voting.voted_count(poll) == 1
        no = voting.results(poll)["answers"][1]
        assert (no["key"], no["count"], no["percent"]) == ("no", 1, 100.0)
