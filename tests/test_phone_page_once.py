"""What the phone page no longer does on every request (issue 17, docs/benchmarks.md "The
no-JavaScript form voter"): its strings are built and serialised once per language, a joined
phone's session, process and participant are read in one query; and the page is the same."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import event

from deliberation.extensions import db
from deliberation.models import LiveSession
from deliberation.services.live import sessions, voting
from deliberation.views import live_common
from tests.live_fixtures import free_item, make_process, workshop

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "live"


@pytest.fixture
def room(app):
    """A French process's workshop with an open vote, and an English one: a phone of each."""
    ids = {}
    with app.app_context():
        for language in ("fr", "en"):
            session = workshop(make_process(slug=f"p-{language}", language=language))
            item = free_item(session, "Faut-il ouvrir le samedi ?")
            voting.open_poll(session, item, "consensus")
            _participant, token = sessions.join(session.join_code, "Ann")
            ids[language] = {"code": session.join_code, "token": token, "id": session.id}
    return ids


def _phone(app, room, language):
    client = app.test_client()
    client.set_cookie("participant_token", room[language]["token"])
    return client


def _script_json(page: str, element_id: str) -> dict:
    found = re.search(
        rf'<script type="application/json" id="{element_id}"[^>]*>(.*?)</script>', page
    )
    assert found, element_id
    return json.loads(found.group(1))


def _selects_of_a_page(app, room) -> list[str]:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        page = _phone(app, room, "fr").get(f"/s/{room['fr']['code']}")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.status_code == 200 and "Le vote est ouvert." in page.get_data(as_text=True)
    return [s for s in statements if s.startswith("SELECT")]


def test_the_phone_reads_its_session_process_and_participant_in_one_query(app, room):
    # The first page builds the session's phone state (nothing kept yet), the next ones
    # find it kept: in both, the session, its process and the participant in one query.
    for _page in ("state built", "state kept"):
        selects = _selects_of_a_page(app, room)
        first = selects[0]
        assert "FROM live_session JOIN" in first
        assert "JOIN process" in first and "JOIN participant" in first
        # None of the three read again, each on its own.
        assert not [
            s for s in selects[1:] if re.match(r"SELECT (live_session|process|participant)\.", s)
        ]


def test_with_the_state_kept_the_page_is_one_read_with_its_ballot(app, room):
    """The seat and whether it voted in the poll on screen, in one statement (issue 17)."""
    _selects_of_a_page(app, room)  # keeps the session's phone state
    selects = _selects_of_a_page(app, room)
    assert len(selects) == 1 and "FROM ballot" in selects[0], selects


def test_a_token_of_another_session_or_none_leads_to_the_join_page(app, room):
    fr, en = room["fr"], room["en"]
    stranger = app.test_client()
    stranger.set_cookie("participant_token", en["token"])
    for client in (stranger, app.test_client()):
        answer = client.get(f"/s/{fr['code']}")
        assert answer.status_code == 302 and answer.location.endswith(f"/j/{fr['code']}")
        posted = client.post(f"/s/{fr['code']}/vote", data={"answer": "full"})
        assert posted.status_code == 303 and posted.location.endswith(f"/j/{fr['code']}")
    # A code typed in lower case finds the same phone, at its own address.
    assert _phone(app, room, "fr").get(f"/s/{fr['code'].lower()}").status_code == 302


def test_the_strings_are_built_once_per_language_and_each_page_gets_its_own(app, room):
    with app.test_request_context():
        with force_locale("fr"):
            french = live_common.phone_strings()
            assert live_common.phone_strings() is french
            assert live_common.results_strings() is live_common.results_strings()
        with force_locale("en"):
            assert live_common.phone_strings()["send"] == "Send my vote"
    assert french["send"] == "Envoyer mon vote"
    for language, send, proposal in (
        ("en", "Send my vote", "Send my proposal"),
        ("fr", "Envoyer mon vote", "Envoyer ma proposition"),
        ("en", "Send my vote", "Send my proposal"),
    ):
        page = _phone(app, room, language).get(f"/s/{room[language]['code']}")
        html = page.get_data(as_text=True)
        config = _script_json(html, "live-config")
        assert config["strings"]["send"] == send and send in html and proposal in html
        assert config["results"]["states"]["open"]
        assert config["token"] == room[language]["token"]
        assert config["state"]["session"]["id"] == room[language]["id"]
        assert _script_json(html, "propose-config")["strings"]["statuses"]["pending"]


def test_every_word_the_phone_templates_name_is_in_the_table(app):
    used = set()
    for name in ("phone.html", "_propose.html"):
        used |= set(re.findall(r"\bwords\.(\w+)", (TEMPLATES / name).read_text("utf-8")))
    with app.test_request_context(), force_locale("fr"):
        words = live_common.phone_words()
    assert used and used <= set(words), used - set(words)
    assert all(isinstance(text, str) and text for text in words.values())


def test_the_page_of_a_session_in_easy_read_has_its_words(app, room):
    with app.app_context():
        sessions.set_easy_read(db.session.get(LiveSession, room["fr"]["id"]), True)
    html = _phone(app, room, "fr").get(f"/s/{room['fr']['code']}").get_data(as_text=True)
    assert "En bref" in html and "Lire à voix haute" in html


def test_a_phone_reloading_its_page_gets_its_cookie_once(app, room):
    """The CSRF secret goes into the session cookie on the first page; later pages set no
    cookie: nothing on the phone's pages loads the signed-in user (Flask-Login's session
    check would otherwise mark the session and send a new cookie with the second page)."""
    phone = _phone(app, room, "fr")
    code = room["fr"]["code"]
    first = phone.get(f"/s/{code}")
    assert [c for c in first.headers.getlist("Set-Cookie") if c.startswith("session=")]
    for _reload in range(2):
        again = phone.get(f"/s/{code}")
        assert again.status_code == 200
        assert not [c for c in again.headers.getlist("Set-Cookie") if c.startswith("session=")]


def test_the_page_links_follow_the_root_the_app_is_mounted_at(app, room):
    """The page's links are built once per session code, and per mount point: two
    deployments of one app under two prefixes each get their own."""
    code = room["fr"]["code"]
    for root in ("", "/assises", "/autre"):
        phone = _phone(app, room, "fr")
        page = phone.get(f"/s/{code}", base_url=f"http://localhost{root}/")
        html = page.get_data(as_text=True)
        assert f'action="{root}/s/{code}/vote#vote-status"' in html
        assert f'action="{root}/s/{code}/propose"' in html
        assert f'src="{root}/static/js/phone.js"' in html
        assert _script_json(html, "live-config")["phoneUrl"] == f"{root}/s/{code}"
