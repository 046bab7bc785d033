"""The refusal catalogue (deliberation/refusals.py): the one place codes are defined, kept
equal to docs/protocol.md §9, and what the clients get from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from deliberation import refusals
from deliberation.refusals import CATALOGUE, RETRY_CODES, Refused
from deliberation.services.live.admission import AdmissionError
from deliberation.services.live.amendments import ProposalError
from deliberation.services.live.sessions import SessionError
from deliberation.services.live.voting import VoteError
from tests.live_fixtures import free_item, make_process, workshop
from tests.test_participate_views import page_config

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "docs" / "protocol.md"
PACKAGE = ROOT / "deliberation"
ROW = re.compile(r"^\| `([a-z_]+)` \|[^|]*\| (\d{3}) \| (keep|—) \|", re.M)


def documented() -> dict[str, tuple[int, bool]]:
    """§9's table: code → (HTTP status, keep and retry)."""
    text = PROTOCOL.read_text(encoding="utf-8")
    section = text[text.index("## 9. Every error code") : text.index("## Proposals")]
    rows = ROW.findall(section)
    codes = [code for code, _status, _retry in rows]
    assert len(codes) == len(set(codes)), "a code is listed twice in §9"
    return {code: (int(status), retry == "keep") for code, status, retry in rows}


def test_the_protocol_lists_exactly_the_codes_of_the_catalogue():
    listed = documented()
    assert sorted(set(CATALOGUE) - set(listed)) == [], "in the catalogue, not in §9"
    assert sorted(set(listed) - set(CATALOGUE)) == [], "in §9, not in the catalogue"


def test_the_protocol_gives_each_code_the_catalogues_status_and_retry():
    listed = documented()
    differing = {
        code: (listed[code], (entry.status, entry.retry))
        for code, entry in CATALOGUE.items()
        if listed.get(code) != (entry.status, entry.retry)
    }
    assert differing == {}


def _sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def test_no_module_but_the_catalogue_words_a_refusal_code():
    """A mapping code → message anywhere else would be a second catalogue."""
    wording = re.compile(r'"([a-z_]+)":\s*(?:lazy_gettext|gettext|_l|_)\(')
    found = {
        (path.relative_to(ROOT).as_posix(), code)
        for path, text in _sources().items()
        if path.name != "refusals.py"
        for code in wording.findall(text)
        if code in CATALOGUE
    }
    assert found == set()


def test_each_code_is_defined_once_in_the_catalogue():
    text = (PACKAGE / "refusals.py").read_text(encoding="utf-8")
    defined = re.findall(r'Refusal\(\s*"([a-z_]+)"', text)
    assert sorted(defined) == sorted(CATALOGUE)
    assert len(defined) == len(set(defined))


def test_every_code_raised_or_answered_is_in_the_catalogue():
    raised = re.compile(
        r"(?<![A-Za-z_])(?:Refused|VoteError|SessionError|ProposalError|AdmissionError|Malformed"
        r"|_refused|_refuse|_wait_message"
        r"|refusal|payload|_refusal|message)\(\s*\"([a-z_]+)\""
    )
    used = {
        (path.relative_to(ROOT).as_posix(), code)
        for path, text in _sources().items()
        for code in raised.findall(text)
    }
    assert len(used) > 50, "the scan found the raise sites"
    assert {(path, code) for path, code in used if code not in CATALOGUE} == set()


def test_a_code_outside_the_catalogue_is_a_bug_not_a_message():
    with pytest.raises(KeyError):
        Refused("no_such_refusal")


@pytest.mark.parametrize("kind", [VoteError, SessionError, ProposalError, AdmissionError])
def test_each_service_refusal_takes_code_status_and_text_from_the_catalogue(app, kind):
    with app.test_request_context():
        error = kind("not_in_session")
        assert isinstance(error, Refused)
        assert (error.code, error.status, error.retry) == ("not_in_session", 409, False)
        english = error.payload("en")
        french = error.payload("fr")
    assert english == {
        "ok": False,
        "error": "not_in_session",
        "message": "This vote belongs to another session.",
    }
    assert french["error"] == "not_in_session"
    assert french["message"] not in ("", english["message"])


def test_a_precise_wording_keeps_the_code_status_and_retry(app):
    with app.test_request_context():
        error = ProposalError("bad_request", "Which item?")
        assert error.payload("en") == {
            "ok": False,
            "error": "bad_request",
            "message": "Which item?",
        }
        assert (error.status, error.retry) == (400, False)


def test_parameters_fill_the_catalogues_message(app):
    with app.test_request_context():
        error = AdmissionError("join_busy", retry_after=30, delay="30 seconds")
        assert error.payload("en")["message"] == (
            "Many people are joining at this moment. Please try again in 30 seconds."
        )
        assert (error.status, error.retry, error.retry_after) == (429, True, 30)
        busy = SessionError("too_many_tickets", max=20000)
        assert busy.payload("en")["message"] == "A session has at most 20000 tickets."


def test_every_message_translates_to_french(app):
    """Each catalogue text has its French version (else French rooms read English)."""
    with app.test_request_context():
        untranslated = []
        for code, entry in CATALOGUE.items():
            params = {"delay": "1", "max": 1} if "%(" in entry.text else {}
            with force_locale("fr"):
                french = str(refusals.message(code, **params))
            english = entry.text % params if params else entry.text
            if french == english:
                untranslated.append(code)
    assert untranslated == []


def test_the_phone_keeps_and_resends_after_exactly_the_retry_codes(app, client):
    assert set(RETRY_CODES) >= {"server_busy", "server_error", "rate_limited"}
    assert not {"invalid_choice", "poll_not_open", "stale_round"} & set(RETRY_CODES)
    with app.app_context():
        session = workshop(make_process(language="en"))
        free_item(session)
        code = session.join_code
    assert client.post(f"/j/{code}", data={"name": "Ann"}).status_code == 200
    config = page_config(client.get(f"/s/{code}").get_data(as_text=True))
    assert config["retryCodes"] == list(RETRY_CODES)
    assert config["strings"]["rejoin"] == str(CATALOGUE["invalid_token"].text)


def test_the_ballot_api_answers_the_catalogues_status_and_text(client, app):
    response = client.post("/api/ballots", json={"token": "forged", "poll_id": 1})
    assert response.status_code == CATALOGUE["invalid_token"].status == 403
    assert response.get_json()["error"] == "invalid_token"
    with app.test_request_context(), force_locale("fr"):  # no session: the default locale
        assert response.get_json()["message"] == str(refusals.message("invalid_token"))
    not_an_object = client.post("/api/ballots", json=[1, 2])
    assert not_an_object.status_code == 400
    assert not_an_object.get_json()["error"] == "bad_request"
