"""The phone page's easy-to-read mode (« Facile à lire et à comprendre », issue 14) and what
the page shows without JavaScript: the countdown and a revealed result (docs/phones.md).

The rules (services/live/phone_page.py) as unit tests; the pages through the test client.
The browser's side (scripts, computed styles, axe) is in test_easy_read_browser.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from deliberation.extensions import db
from deliberation.models import (
    PLAIN_SUMMARY_MAX,
    AgendaItem,
    Hypothesis,
    LiveSession,
    Organizer,
    Poll,
)
from deliberation.services.authoring import authoring
from deliberation.services.authoring.authoring import ValidationError
from deliberation.services.authoring.process_export import dump_process
from deliberation.services.authoring.process_file import ProcessFileError, load_process_text
from deliberation.services.live import ballots, phone_page, sessions, voting
from tests.live_fixtures import announce, ballot_id, make_member, make_process, workshop

NOW = datetime(2026, 5, 4, 10, 0, 0)
SUMMARY = "On aide chaque personne.\nLa même personne suit le dossier."


# -- the rules ------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("cookie", "default", "easy"),
    [
        (None, False, False),
        (None, True, True),
        ("1", False, True),
        ("0", True, False),
        ("yes", True, True),  # not a choice: the session's default
        ("", False, False),
    ],
)
def test_the_participants_choice_wins_over_the_sessions_default(cookie, default, easy):
    assert phone_page.easy_read_for(phone_page.easy_choice(cookie), default) is easy


@pytest.mark.unit
def test_seconds_left_on_an_open_polls_countdown():
    ends = (NOW + timedelta(seconds=90)).isoformat(timespec="seconds")
    poll = {"state": "open", "countdown_ends_at": ends}
    assert phone_page.seconds_left(poll, NOW) == 90
    assert phone_page.seconds_left(poll, NOW + timedelta(seconds=200)) == 0
    assert phone_page.seconds_left({**poll, "state": "closed"}, NOW) is None
    assert phone_page.seconds_left({"state": "open", "countdown_ends_at": None}, NOW) is None
    assert phone_page.seconds_left({"state": "open", "countdown_ends_at": "soon"}, NOW) is None
    assert phone_page.seconds_left(None, NOW) is None
    assert [phone_page.clock(s) for s in (0, 9, 90, 600)] == ["0:00", "0:09", "1:30", "10:00"]


@pytest.mark.unit
def test_the_page_without_javascript_reloads_gently_and_never_over_a_choice():
    open_poll = {"state": "open"}
    every = phone_page.REFRESH_SECONDS
    # A ballot waiting for this participant's answer, or something typed or to read: never.
    assert phone_page.refresh_seconds(open_poll, False, None) is None
    assert phone_page.refresh_seconds(open_poll, False, 3) is None
    assert phone_page.refresh_seconds(None, False, None, holding=True) is None
    # Otherwise every 20 s; sooner when a countdown ends before, but never under 5 s.
    assert phone_page.refresh_seconds(None, False, None) == every
    assert phone_page.refresh_seconds({"state": "closed"}, False, None) == every
    assert phone_page.refresh_seconds(open_poll, True, None) == every
    assert phone_page.refresh_seconds(open_poll, True, 90) == every
    assert phone_page.refresh_seconds(open_poll, True, 12) == 13
    assert phone_page.refresh_seconds(open_poll, True, 0) == phone_page.REFRESH_MIN_SECONDS


STRINGS = {
    "bases": {"ballots_cast": "Base: {n} ballots cast"},
    "grades": {"good": "Good", "poor": "Poor"},
}
CONSENSUS_POLL = {
    "answers": [
        {"key": "full", "label": "Fully agree", "picto": "face_very_happy"},
        {"key": "block", "label": "Block", "picto": "stop"},
    ],
    "grades": [],
}


@pytest.mark.unit
def test_a_revealed_result_in_words_with_bars_pictograms_and_outcome():
    results = {
        "ballots": 4,
        "base": 4,
        "base_note": "ballots_cast",
        "outcome": "validated",
        "answers": [
            {"key": "full", "label": "Fully agree", "count": 3, "percent": 75.0},
            {"key": "block", "label": "Block", "count": 1, "percent": 12.5},
        ],
    }
    shown = phone_page.plain_result(results, CONSENSUS_POLL, {"chart": "bars"}, STRINGS, "fr")
    assert shown["base"] == "Base: 4 ballots cast" and shown["outcome"] == "validated"
    assert [(r["label"], r["figure"], r["share"], r["picto"]) for r in shown["rows"]] == [
        ("Fully agree", "3 · 75\u00a0%", 75.0, "face_very_happy"),
        ("Block", "1 · 12,5\u00a0%", 12.5, "stop"),
    ]
    assert phone_page.plain_result(None, CONSENSUS_POLL, {}, STRINGS, "fr") is None


@pytest.mark.unit
def test_a_ranked_result_follows_the_ranking_and_grades_give_the_majority_grade():
    ranked = {
        "ballots": 2,
        "answers": [
            {"key": "a", "label": "Housing", "count": 1, "percent": 33.3},
            {"key": "b", "label": "Mobility", "count": 2, "percent": 66.7},
        ],
        "ranking": [{"key": "b", "rank": 1}, {"key": "a", "rank": 2}],
    }
    display = {"chart": "bars", "ranked": True}
    rows = phone_page.plain_result(ranked, {}, display, STRINGS, "en")["rows"]
    assert [(r["rank"], r["label"], r["figure"]) for r in rows] == [
        (1, "Mobility", "2 · 66.7\u00a0%"),
        (2, "Housing", "1 · 33.3\u00a0%"),
    ]
    graded = {
        "ballots": 3,
        "answers": [
            {"key": "a", "label": "Housing", "rank": 2, "majority_grade": "poor", "sign": "-"},
            {"key": "b", "label": "Mobility", "rank": 1, "majority_grade": "good", "sign": "+"},
        ],
    }
    poll = {"grades": [{"key": "good", "label": "Bien"}]}
    rows = phone_page.plain_result(graded, poll, {"chart": "grades"}, STRINGS, "fr")["rows"]
    assert [(r["rank"], r["label"], r["figure"], r["share"]) for r in rows] == [
        (1, "Mobility", "Bien +", None),
        (2, "Housing", "Poor −", None),
    ]


# -- the pages ------------------------------------------------------------------------------


@pytest.fixture
def room(app):
    """An English process, a workshop showing hypothesis 1 (with its plain summary)."""
    with app.app_context():
        process = make_process(language="en")
        hypothesis = db.session.scalar(db.select(Hypothesis).order_by(Hypothesis.id))
        authoring.update_item(hypothesis, "orga", plain_summary=SUMMARY)
        session = workshop(process)
        item = sessions.add_agenda_item(session, "hypothesis", hypothesis.id)
        sessions.show_item(session, item)
        ids = {"session_id": session.id, "code": session.join_code, "item_id": item.id}
    return ids


def joined(client, code: str) -> str:
    response = client.post(f"/j/{code}", data={"name": "Awa"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def phone(client, code: str) -> str:
    response = client.get(f"/s/{code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def is_easy(page: str) -> bool:
    return bool(re.search(r'<html lang="\w+" class="easy">', page))


def open_vote(app, room: dict, method: str = "consensus", **options) -> int:
    with app.app_context():
        session = db.session.get(LiveSession, room["session_id"])
        item = db.session.get(AgendaItem, room["item_id"])
        poll_id = voting.open_poll(session, item, method, **options).id
        announce(room["session_id"])
        return poll_id


def test_the_participant_switches_the_easy_mode_on_and_off_from_the_phone(app, client, room):
    page = joined(client, room["code"])
    # The usual display: no summary drawn (the scripts' state carries it, unused).
    assert not is_easy(page) and 'id="item-summary"' not in page
    assert 'aria-pressed="false"' in page and "Easy to read and understand" in page
    open_vote(app, room)

    switched = client.post(f"/s/{room['code']}/easy-read", data={"easy": "1"})
    assert switched.status_code == 303 and switched.headers["Location"].endswith(
        f"/s/{room['code']}"
    )
    assert "easy_read=1" in switched.headers["Set-Cookie"]
    page = phone(client, room["code"])
    assert is_easy(page) and 'aria-pressed="true"' in page
    # The summary above the full text, the text kept; each answer's pictogram beside its
    # words, hidden from screen readers; the read-aloud button there for easy.js to show.
    summary = re.search(r'<p id="item-summary-text">(.*?)</p>', page, re.S)
    assert summary.group(1) == SUMMARY
    assert page.index('id="item-summary"') < page.index('id="item-text"')
    assert "Hypothesis 0.0" in page.split('id="item-text"', 1)[1]
    for key, picto in (("full", "face_very_happy"), ("block", "stop")):
        label = re.search(rf'<label class="choice"><input[^>]*value="{key}".*?</label>', page)
        assert f'data-picto="{picto}"' in label.group(0)
        assert 'aria-hidden="true"' in label.group(0) and "choice-text" in label.group(0)
    assert 'id="read-aloud" hidden' in page and "js/easy.js" in page
    assert '<template id="pictograms">' in page

    client.post(f"/s/{room['code']}/easy-read", data={"easy": "0"})
    page = phone(client, room["code"])
    assert not is_easy(page) and "data-picto" not in page and "js/easy.js" not in page


def test_a_strange_choice_changes_nothing(client, room):
    joined(client, room["code"])
    response = client.post(f"/s/{room['code']}/easy-read", data={"easy": "<script>"})
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    assert client.post("/s/NOPE42/easy-read", data={"easy": "1"}).status_code == 404


def test_the_organisers_default_opens_a_new_phone_in_the_easy_mode(app, client, room):
    with app.app_context():
        sessions.set_easy_read(db.session.get(LiveSession, room["session_id"]), True)
    assert is_easy(client.get(f"/j/{room['code']}").get_data(as_text=True))
    assert is_easy(joined(client, room["code"]))
    # Switched off on this phone: the phone's choice wins over the default.
    client.post(f"/s/{room['code']}/easy-read", data={"easy": "0"})
    assert not is_easy(phone(client, room["code"]))


def test_the_page_without_javascript_shows_the_countdown_and_reloads_once_voted(app, client, room):
    page = joined(client, room["code"])
    assert not re.search(r'<p class="countdown" id="countdown" >', page)
    poll_id = open_vote(app, room, countdown_seconds=90)
    page = phone(client, room["code"])
    left = re.search(r'<p class="countdown" id="countdown" >Time left: (\d):(\d\d)</p>', page)
    assert left, "the time left, drawn by the server"
    assert 80 <= int(left.group(1)) * 60 + int(left.group(2)) <= 90
    # A ballot waits for the answer: no reload (it would clear the choice).
    assert 'http-equiv="refresh"' not in page
    answered = client.post(
        f"/s/{room['code']}/vote",
        data={"poll_id": poll_id, "round": 1, "ballot_id": ballot_id(), "answer": "full"},
    )
    assert answered.status_code == 200
    assert 'http-equiv="refresh" content="20;' in phone(client, room["code"])


def test_the_page_without_javascript_shows_the_revealed_result(app, client, room):
    joined(client, room["code"])
    poll_id = open_vote(app, room)
    with app.app_context():
        session = db.session.get(LiveSession, room["session_id"])
        voters = [sessions.join(session.join_code, f"V{i}")[0] for i in range(4)]
        for voter, answer in zip(voters, ("full", "full", "full", "block"), strict=True):
            ballots.cast(voter.id, poll_id, ballot_id(), {"answer": answer})
        voting.close_poll(db.session.get(Poll, poll_id))
        announce(room["session_id"])
    page = phone(client, room["code"])
    assert re.search(r'<section id="phone-results" class="results" hidden', page)
    with app.app_context():
        voting.publish_poll(db.session.get(Poll, poll_id))
        announce(room["session_id"])
    page = phone(client, room["code"])
    assert re.search(r'<section id="phone-results" class="results" +aria-labelledby', page)
    result = page.split('id="phone-results-body">', 1)[1].split("</section>", 1)[0]
    assert "Base: 4 ballots cast" in result
    figures = dict(re.findall(r'<span class="bar-figure" data-key="(\w+)">([^<]*)</span>', result))
    assert figures["full"] == "3 · 75\u00a0%" and figures["block"] == "1 · 25\u00a0%"
    assert 'data-outcome="' in result and 'width="75.0"' in result


def test_the_console_sets_the_phones_default(app, client, room):
    with app.app_context():
        organizer = Organizer(email="fa@example.org", name="Fa")
        organizer.set_password("secret-password")
        db.session.add(organizer)
        db.session.commit()
        session = db.session.get(LiveSession, room["session_id"])
        make_member(session.process_id, organizer.id, "co_organizer")
        organizer_id = organizer.id
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{organizer_id}:0"
        flask_session["_fresh"] = True
    # The outline shows the organisers which items have a summary.
    outline = client.get("/organize/assises").get_data(as_text=True)
    assert '<p class="meta plain-summary">En bref\u00a0: ' + SUMMARY + "</p>" in outline
    console = client.get(f"/facilitate/session/{room['session_id']}").get_data(as_text=True)
    assert 'id="easy-read"' in console and 'id="easy-read" aria-describedby' in console
    url = f"/facilitate/session/{room['session_id']}/easy-read"
    assert client.post(url, data={"easy_read": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(LiveSession, room["session_id"]).easy_read is True
    assert client.post(url, data={}).status_code == 302
    with app.app_context():
        assert db.session.get(LiveSession, room["session_id"]).easy_read is False


# -- the summary, authored and in the process file ------------------------------------------


def test_the_summary_is_plain_text_bounded_and_optional(app):
    with app.app_context():
        process = make_process(language="en")
        hypothesis = db.session.scalar(db.select(Hypothesis).order_by(Hypothesis.id))
        authoring.update_item(hypothesis, "orga", plain_summary="  Short.   \n")
        assert hypothesis.plain_summary == "Short."
        with pytest.raises(ValidationError) as caught:
            authoring.update_item(hypothesis, "orga", plain_summary="x" * (PLAIN_SUMMARY_MAX + 1))
        assert "too long" in caught.value.message
        db.session.rollback()
        # A note is no item put to the vote: it has no summary, and the form does not ask.
        finding = process.fields[0].findings[0]
        note = authoring.create_item("note", finding, "orga", text="N", plain_summary="ignored")
        assert not hasattr(note, "plain_summary")


FILE = """\
slug: facile
title: Facile
fields:
  - title: Champ
    questions:
      - text: Question ?
        hypotheses:
          - text: Une hypothèse longue et difficile.
            plain_summary: Une idée simple.
    findings:
      - text: Un constat.
        plain_summary: |
          Ce qui ne va pas.
          En deux lignes.
        recommendations:
          - Une recommandation sans résumé.
          - text: Une recommandation.
            plain_summary: Ce qu’on demande.
"""


def test_the_documented_example_has_summaries(app):
    doc = (Path(__file__).resolve().parent.parent / "docs" / "process-format.md").read_text(
        encoding="utf-8"
    )
    with app.app_context():
        process = load_process_text(doc.split("```yaml\n", 1)[1].split("```", 1)[0])
        field_ = process.fields[0]
        assert field_.questions[0].hypotheses[0].plain_summary.startswith("Une seule personne")
        assert field_.findings[0].plain_summary.endswith("Cela dépend de la personne.")


def test_the_process_file_carries_the_summaries_both_ways(any_db_app):
    with any_db_app.app_context():
        process = load_process_text(FILE)
        field_ = process.fields[0]
        assert field_.questions[0].hypotheses[0].plain_summary == "Une idée simple."
        finding = field_.findings[0]
        assert finding.plain_summary == "Ce qui ne va pas.\nEn deux lignes."
        assert [r.plain_summary for r in finding.recommendations] == ["", "Ce qu’on demande."]
        dumped = dump_process(process)
        assert "plain_summary: Une idée simple." in dumped
        again = load_process_text(dumped, replace=True)
        db.session.expire_all()
        assert dump_process(again) == dumped

        with pytest.raises(ProcessFileError) as caught:
            load_process_text(
                "slug: x\ntitle: X\nfields:\n  - title: C\n    findings:\n      - text: F\n"
                "        notes:\n          - text: N\n            plain_summary: non\n"
            )
        assert "unknown key 'plain_summary' in a note" in str(caught.value)
        db.session.rollback()
        with pytest.raises(ProcessFileError) as caught:
            load_process_text(FILE.replace("Une idée simple.", "x" * (PLAIN_SUMMARY_MAX + 1)))
        assert "plain_summary is too long" in str(caught.value)
