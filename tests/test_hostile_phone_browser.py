"""Issue 11, on a phone in real headless Chromium (360×640) against the real server.

The HTTP fallback meets server errors (a database down answers 503, a proxy's error page
502): ``phone.js`` keeps the ballot and sends it again until the server says what became of
it. A ballot made before a reset is never said "recorded": the phone asks for a new vote.
"""

from __future__ import annotations

import json
import time

import pytest

from deliberation.extensions import db
from deliberation.models import Poll
from deliberation.services.live import voting
from tests.conftest import LiveConnectionBlocker, LiveServer
from tests.test_crash_recovery import SECRET, prepare

PHONE = {"width": 360, "height": 640}


@pytest.fixture
def hall(tmp_path):
    app, url, ids, tokens = prepare(tmp_path, None, 2)
    server = LiveServer(tmp_path, env={"SECRET_KEY": SECRET}, database_url=url).start()
    yield app, server, ids, tokens
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    assert "Traceback" not in server.log_path.read_text(errors="replace")


def open_phone(browser, server: LiveServer, ids: dict, token: str, errors: list):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.add_cookies([{"name": "participant_token", "value": token, "url": server.url}])
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    # No socket at all (a venue's wifi refusing websockets and polling): the HTTP fallback.
    page.network = LiveConnectionBlocker(page)
    page.goto(f"{server.url}/s/{ids['code']}")
    page.wait_for_selector("#ballot:not([hidden])")
    return context, page


def pending(page, session_id: int) -> dict:
    raw = page.evaluate(f"window.localStorage.getItem('pending:{session_id}')")
    return json.loads(raw) if raw else {}


def voted(app, poll_id: int) -> int:
    with app.app_context():
        count = voting.voted_count(db.session.get(Poll, poll_id))
        db.session.remove()
    return count


@pytest.mark.timeout(180)
def test_server_errors_never_drop_a_ballot(hall, browser):
    app, server, ids, tokens = hall
    errors: list = []
    answers = [
        {"status": 503, "content_type": "application/json",
         "body": json.dumps({"ok": False, "error": "server_busy", "message": "busy"})},
        {"status": 502, "content_type": "text/html", "body": "<h1>Bad Gateway</h1>"},
        {"status": 500, "content_type": "application/json",
         "body": json.dumps({"error": "An unexpected error occurred."})},
    ]  # fmt: skip
    seen: list[int] = []

    def ballots(route):
        if answers:
            answer = answers.pop(0)
            seen.append(answer["status"])
            route.fulfill(**answer)
        else:
            seen.append(200)
            route.continue_()

    context, page = open_phone(browser, server, ids, tokens[0], errors)
    try:
        page.route("**/api/ballots", ballots)
        session_id = page.evaluate(
            "JSON.parse(document.getElementById('live-config').textContent).sessionId"
        )
        page.check("input[name=answer][value=reservations]")
        page.click("#send")
        page.wait_for_function("document.querySelector('#vote-status').dataset.kind === 'warn'")
        page.wait_for_timeout(500)
        kept = pending(page, session_id)
        assert list(kept.values())[0]["choice"] == {"answer": "reservations"}
        # After the 503, the 502 page and the 500: the ballot went through, once.
        page.wait_for_selector("#vote-status[data-kind=ok]", timeout=60_000)
        assert seen == [503, 502, 500, 200]
        assert pending(page, session_id) == {}
        assert voted(app, ids["poll"]) == 1
        assert errors == []
    finally:
        context.close()


@pytest.mark.timeout(180)
def test_a_ballot_from_before_a_reset_makes_the_phone_ask_again(hall, browser):
    app, server, ids, tokens = hall
    errors: list = []
    context, page = open_phone(browser, server, ids, tokens[1], errors)
    try:
        page.route("**/api/ballots", lambda route: route.abort())  # no network meanwhile
        session_id = page.evaluate(
            "JSON.parse(document.getElementById('live-config').textContent).sessionId"
        )
        page.check("input[name=answer][value=full]")
        page.click("#send")
        page.wait_for_function(
            f"(JSON.parse(localStorage.getItem('pending:{session_id}') || '{{}}')"
            f"['{ids['poll']}'] || {{}}).round === 1"
        )
        # Meanwhile the facilitator started the vote again (round 2).
        with app.app_context():
            poll = db.session.get(Poll, ids["poll"])
            voting.reset_poll(poll)
            voting.open_poll(poll.session, poll.agenda_item, "consensus")
            db.session.remove()
        page.network.lift()  # the network is back
        page.wait_for_selector("#connection[data-state=online]", timeout=30_000)
        page.wait_for_selector("#vote-status[data-kind=bad]", timeout=15_000)
        assert "started again" in page.inner_text("#vote-status")
        assert pending(page, session_id) == {}
        assert page.locator("input[name=answer]:checked").count() == 0  # asked anew
        time.sleep(0.5)
        assert voted(app, ids["poll"]) == 0  # the old ballot counted nowhere
        page.unroute("**/api/ballots")
        page.check("input[name=answer][value=mixed]")
        page.click("#send")
        page.wait_for_selector("#vote-status[data-kind=ok]", timeout=30_000)
        assert voted(app, ids["poll"]) == 1
        assert errors == []
    finally:
        context.close()
