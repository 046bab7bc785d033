"""The facilitator's minutes per agenda item: the merge (pure), the service's versions on
SQLite and PostgreSQL, and the console's HTTP save, history and notes box without scripts."""

from __future__ import annotations

import re

import pytest

from deliberation.extensions import db
from deliberation.models import AgendaItem, LiveSession, MinutesVersion, Organizer
from deliberation.refusals import Refused
from deliberation.services.live import minutes, sessions
from deliberation.services.live.minutes import merge
from tests.live_fixtures import free_item, make_member, make_process, workshop

# -- the merge ------------------------------------------------------------------------------


def test_merge_keeps_both_sides_changes():
    base = "Opening\nAna: for\nBob: against"
    theirs = "Opening remarks\nAna: for\nBob: against"
    mine = "Opening\nAna: for\nBob: against\nCarla: abstains"
    assert merge(base, theirs, mine) == "Opening remarks\nAna: for\nBob: against\nCarla: abstains"


def test_merge_of_the_same_line_changed_twice_keeps_both_wordings():
    base = "Ana: for"
    assert merge(base, "Ana: for, with reservations", "Ana: for, strongly") == (
        "Ana: for, with reservations\nAna: for, strongly"
    )


def test_merge_from_nothing_and_identical_changes():
    assert merge("", "Their first line", "My first line") == "Their first line\nMy first line"
    assert merge("a\nb", "a\nb\nc", "a\nb\nc") == "a\nb\nc"
    assert merge("a\nb", "a\nb", "a") == "a"  # a line I removed stays removed
    assert merge("a\nb\nc", "a\nc", "a\nb\nc\nd") == "a\nc\nd"


# -- the service ----------------------------------------------------------------------------


def _session_with_item(language: str = "en") -> tuple[LiveSession, AgendaItem]:
    process = make_process(language=language)
    session = workshop(process, "Workshop in Liège")
    item = free_item(session, "Shall we keep the Friday meetings?")
    return session, item


def test_each_save_is_a_version_and_the_newest_is_the_text(any_db_app):
    with any_db_app.app_context():
        session, item = _session_with_item()
        first = minutes.save(session, item.id, "Ana opens.", None, "fa@example.org")
        assert (first.version, first.own_version, first.merged) == (
            first.version,
            first.version,
            False,
        )
        second = minutes.save(
            session, item.id, "Ana opens.\nBob asks.", first.version, "fa@example.org"
        )
        again = minutes.save(
            session, item.id, "Ana opens.\nBob asks.", second.version, "fa@example.org"
        )
        assert again.version == second.version  # the same text adds nothing
        history = minutes.history(session, item.id)
        assert [v["text"] for v in history] == ["Ana opens.\nBob asks.", "Ana opens."]
        assert history[0]["base"] == first.version and history[0]["author"] == "fa@example.org"
        assert minutes.current(item) == {
            "item_id": item.id,
            "version": second.version,
            "text": "Ana opens.\nBob asks.",
        }
        state = sessions.state_for(session, "facilitator")
        assert state["minutes"] is None  # nothing shown
        sessions.show_item(session, item)
        state = sessions.state_for(session, "facilitator")
        assert state["minutes"]["text"] == "Ana opens.\nBob asks."
        assert sessions.state_for(session, "phone")["minutes"] is None
        assert sessions.state_for(session, "projector")["minutes"] is None


def test_two_consoles_saving_from_the_same_version_lose_nothing(any_db_app):
    with any_db_app.app_context():
        session, item = _session_with_item()
        start = minutes.save(session, item.id, "Opening", None, "a@example.org")
        one = minutes.save(session, item.id, "Opening\nAna: for", start.version, "a@example.org")
        # The second console still edits from « Opening »: its save is merged.
        two = minutes.save(
            session, item.id, "Opening\nBob: against", start.version, "b@example.org"
        )
        assert two.merged and two.own_version != two.version
        assert two.text == "Opening\nAna: for\nBob: against"
        # It kept typing during the round trip: its next save starts from its own version.
        three = minutes.save(
            session, item.id, "Opening\nBob: against, firmly", two.own_version, "b@example.org"
        )
        assert three.text == "Opening\nAna: for\nBob: against, firmly"
        texts = [v["text"] for v in minutes.history(session, item.id)]
        assert "Opening\nBob: against" in texts and "Opening\nAna: for" in texts
        assert one.version in [v["version"] for v in minutes.history(session, item.id)]
        assert db.session.scalar(db.select(db.func.count(MinutesVersion.id))) == len(texts)


def test_refusals_write_nothing(any_db_app):
    with any_db_app.app_context():
        session, item = _session_with_item()
        other = workshop(session.process, "Another workshop")
        foreign = free_item(other, "Elsewhere")
        for item_id, text, base, code in (
            (item.id, "x" * (minutes.MINUTES_MAX + 1), None, "minutes_too_long"),
            (foreign.id, "text", None, "unknown_item"),
            ("7", "text", None, "unknown_item"),
            (item.id, ["text"], None, "bad_request"),
            (item.id, "text", "12", "bad_request"),
        ):
            with pytest.raises(Refused) as refused:
                minutes.save(session, item_id, text, base, "fa@example.org")
            assert refused.value.code == code
        assert db.session.scalar(db.select(db.func.count(MinutesVersion.id))) == 0
        # Control characters dropped, line breaks kept, a NUL never reaches PostgreSQL.
        saved = minutes.save(session, item.id, "a\r\nb\x00c\td", None, "fa@example.org")
        assert saved.text == "a\nbc\td"


def test_an_item_with_minutes_stays_on_the_agenda(app):
    with app.app_context():
        session, item = _session_with_item()
        minutes.save(session, item.id, "Said something.", None, "fa@example.org")
        with pytest.raises(Refused) as refused:
            sessions.remove_agenda_item(db.session.get(AgendaItem, item.id))
        assert refused.value.code == "item_has_minutes"


def test_minutes_of_a_process_newest_text_per_item_in_agenda_order(app):
    with app.app_context():
        session, first = _session_with_item()
        second = free_item(session, "Second question")
        blank = free_item(session, "Third question")
        minutes.save(session, second.id, "On the second.", None, "fa@example.org")
        saved = minutes.save(session, first.id, "Draft", None, "fa@example.org")
        minutes.save(session, first.id, "On the first.", saved.version, "fa@example.org")
        minutes.save(session, blank.id, "   ", None, "fa@example.org")
        found = minutes.of_process(session.process_id)
        assert [(item.id, text) for item, text in found[session.id]] == [
            (first.id, "On the first."),
            (second.id, "On the second."),
        ]


# -- the console's HTTP paths ------------------------------------------------------------


@pytest.fixture
def world(app):
    with app.app_context():
        session, item = _session_with_item()
        organizer = Organizer(email="facilitator@example.org", name="Fa")
        organizer.set_password("secret-password")
        db.session.add(organizer)
        db.session.commit()
        make_member(session.process_id, organizer.id, "co_organizer")
        sessions.show_item(session, item)
        return {"session_id": session.id, "item_id": item.id, "organizer_id": organizer.id}


@pytest.fixture
def facilitator(client, world):
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{world['organizer_id']}:0"
        flask_session["_fresh"] = True
    return client


def _csrf(client, session_id: int) -> str:
    page = client.get(f"/facilitate/session/{session_id}").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_json_save_history_and_the_console_page(app, facilitator, world):
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/facilitate/session/{world['session_id']}/minutes"
    token = _csrf(facilitator, world["session_id"])
    body = {"item_id": world["item_id"], "text": "Ana opens the debate.", "base": None}
    refused = facilitator.post(url, json=body)
    assert refused.status_code == 400  # no CSRF token
    saved = facilitator.post(url, json=body, headers={"X-CSRFToken": token})
    assert saved.status_code == 200
    answer = saved.get_json()
    assert answer["ok"] and answer["text"] == "Ana opens the debate." and not answer["merged"]
    too_long = facilitator.post(
        url,
        json={**body, "text": "x" * 20_001, "base": answer["version"]},
        headers={"X-CSRFToken": token},
    )
    assert too_long.status_code == 413 and too_long.get_json()["error"] == "minutes_too_long"
    not_json_object = facilitator.post(url, json=[1], headers={"X-CSRFToken": token})
    assert not_json_object.get_json()["error"] == "bad_request"
    history = facilitator.get(f"{url}/{world['item_id']}").get_json()
    assert [v["text"] for v in history["versions"]] == ["Ana opens the debate."]
    assert facilitator.get(f"{url}/999999").status_code == 404
    page = facilitator.get(f"/facilitate/session/{world['session_id']}").get_data(as_text=True)
    assert "Ana opens the debate.</textarea>" in page
    assert f'id="minutes-base" value="{answer["version"]}"' in page


def test_the_notes_box_without_scripts(app, facilitator, world):
    url = f"/facilitate/session/{world['session_id']}/minutes"
    sent = facilitator.post(
        url, data={"item_id": str(world["item_id"]), "base": "", "text": "By form."}
    )
    assert sent.status_code == 302 and sent.headers["Location"].endswith("#minutes")
    # Refused: the console itself, the message and the text sent back in the box.
    long_text = "Keep me. " + "x" * 20_000
    refused = facilitator.post(
        url, data={"item_id": str(world["item_id"]), "base": "", "text": long_text}
    )
    assert refused.status_code == 413
    page = refused.get_data(as_text=True)
    assert "au maximum 20000 caractères" in page  # the organiser’s language
    assert f">{long_text}</textarea>" in page
    with app.app_context():
        assert [v.text for v in db.session.scalars(db.select(MinutesVersion))] == ["By form."]


def test_only_facilitators_of_the_session(client, world):
    url = f"/facilitate/session/{world['session_id']}/minutes"
    response = client.post(url, json={"item_id": world["item_id"], "text": "x", "base": None})
    assert response.status_code in (302, 401, 403)
    with client.application.app_context():
        assert db.session.scalar(db.select(db.func.count(MinutesVersion.id))) == 0
