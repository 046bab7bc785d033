"""A workshop in real headless Chromium: the facilitator's console, the projector view and
two phones (360×640) on the demo process, through the real server (``python app.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SHOTS = Path("/tmp")
PHONE = {"width": 360, "height": 640}


def log_in(page, server) -> None:
    """As the demo organiser, with the login load-demo drew and kept for this server."""
    email, password = server.demo_login
    page.goto(server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, "the demo organiser can log in"


def create_workshop_on_field_one(page, base: str) -> str:
    page.goto(base + "/facilitate/assises-insertion/sessions")
    page.fill("#title", "Atelier champ 1 — Liège")
    page.select_option("#field_id", index=1)  # index 0 is "none"
    page.click("#new button[type=submit]")
    page.wait_for_selector("#btn-fill")
    page.click("#btn-fill")
    page.wait_for_selector("#agenda-list li")
    return re.search(r"/projector/([A-Z0-9]{6})", page.content()).group(1)


def console_with_a_workshop(browser, server):
    """The demo organiser's console (its browser context) and the join code of a new
    workshop on field 1."""
    context = browser.new_context()
    console = context.new_page()
    log_in(console, server)
    return context, create_workshop_on_field_one(console, server.url)


def join(browser, base: str, code: str, name: str, group: str):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    phone = context.new_page()
    phone.goto(f"{base}/j/{code}")
    phone.fill("#name", name)
    phone.check(f"input[name=group][value={group}]")
    phone.click("#join-form button[type=submit]")
    phone.wait_for_selector("#connection[data-state=online]")
    return context, phone


def vote(phone, answer: str) -> None:
    phone.check(f"input[name=answer][value={answer}]")
    phone.click("#send")
    phone.wait_for_selector("#vote-status[data-kind=ok]")


def figure(projector, key: str) -> str:
    return projector.inner_text(f"#p-results .bar-figure[data-key={key}]")


@pytest.mark.timeout(240)
def test_a_consensus_vote_from_two_phones_reaches_the_projector(live_server, browser):
    base = live_server.url
    errors: list[str] = []
    console_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    console = console_context.new_page()
    console.on("pageerror", lambda error: errors.append(f"console: {error}"))
    log_in(console, live_server)
    code = create_workshop_on_field_one(console, base)

    projector_context = browser.new_context(viewport={"width": 1920, "height": 1080})
    projector = projector_context.new_page()
    projector.on("pageerror", lambda error: errors.append(f"projector: {error}"))
    projector.goto(f"{base}/projector/{code}")
    projector.wait_for_selector("#p-idle svg")
    assert code in projector.inner_text("#p-idle")
    projector.screenshot(path=str(SHOTS / "live-projector-idle-1920x1080.png"))

    phones = []
    for name, group in (("Ana", "service_user"), ("Bob", "social_worker")):
        context, phone = join(browser, base, code, name, group)
        phone.on("pageerror", lambda error: errors.append(f"phone: {error}"))
        phones.append((context, phone))
    first, second = phones[0][1], phones[1][1]
    assert first.locator("#ballot").is_hidden()

    # The facilitator shows the first hypothesis of field 1 and opens a consensus vote with
    # live results on the projector.
    console.wait_for_selector("#connection[data-state=online]")
    console.click("[data-show] >> nth=0")
    projector.wait_for_selector("#projector[data-state=item]")
    title = projector.inner_text("#p-title")
    assert title
    console.select_option("#open-method", "consensus")
    # A named vote: its live results may go to the projector (a secret one shows turnout).
    console.check("#open-named")
    console.check("#open-show-live")
    console.fill("#open-countdown", "300")
    console.click("#btn-open")
    projector.wait_for_selector("#projector[data-state=open]")
    projector.wait_for_function(
        "() => document.getElementById('p-counts').dataset.connected === '2'", timeout=10_000
    )
    assert projector.get_attribute("#p-counts", "data-voted") == "0"
    first.wait_for_selector("#ballot:not([hidden])")
    assert first.get_attribute("#poll-privacy", "data-kind") == "named"
    assert first.inner_text("#item-title") == title
    assert first.inner_text("#vote-status") == ""  # nothing "recorded" before the server says so
    first.screenshot(path=str(SHOTS / "live-phone-ballot-360x640.png"), full_page=True)

    vote(first, "full")
    projector.wait_for_selector("#p-counts[data-voted='1']")
    projector.wait_for_function(
        "() => (document.querySelector('#p-results .bar-figure[data-key=full]') || {}).textContent"
        " === '1 · 100 %'"
    )
    vote(second, "reservations")
    projector.wait_for_selector("#p-counts[data-voted='2']")
    assert re.match(r"2\D+2", projector.inner_text("#p-counts"))  # "2 voted of 2 connected"
    # A change of mind while the vote is open replaces the ballot: still 2 ballots.
    vote(first, "disagree")
    projector.wait_for_function(
        "() => (document.querySelector('#p-results .bar-figure[data-key=full]') || {}).textContent"
        " === '0 · 0 %'"
    )
    assert projector.get_attribute("#p-counts", "data-voted") == "2"
    assert figure(projector, "disagree").startswith("1 ·")
    assert figure(projector, "reservations").startswith("1 ·")
    assert console.inner_text("#c-voted") == "2"

    console.click("#btn-close")
    first.wait_for_selector("body[data-poll-state=closed]")
    assert first.locator("#ballot").is_hidden()
    console.click("#btn-publish")
    projector.wait_for_selector("#projector[data-state=published]")
    outcome = projector.wait_for_selector("#p-results .outcome")
    # One in support out of two (50 %): reaches the 50 % rework threshold, not 70 %.
    assert outcome.get_attribute("data-outcome") == "rework"
    assert "2" in projector.inner_text("#p-results .results-base")
    # The verdict's reason in the method's terms, the same words on every screen.
    reason = projector.inner_text("#p-results .outcome-detail")
    assert reason.startswith("50") and reason.endswith("→ à retravailler")
    assert console.inner_text("#c-results .outcome-detail") == reason
    for _context, phone in phones:
        phone.wait_for_selector("#phone-results:not([hidden]) .outcome")
        assert phone.get_attribute("body", "data-voted") == "yes"
        assert phone.inner_text("#phone-results .outcome-detail") == reason

    projector.screenshot(path=str(SHOTS / "live-projector-results-1920x1080.png"))
    projector.set_viewport_size({"width": 1024, "height": 768})
    projector.screenshot(path=str(SHOTS / "live-projector-results-1024x768.png"))
    first.screenshot(path=str(SHOTS / "live-phone-results-360x640.png"), full_page=True)
    console.screenshot(path=str(SHOTS / "live-console.png"), full_page=True)

    # On to the next item of the agenda: the room sees it, the phones wait for its vote.
    console.click("#btn-next")
    projector.wait_for_selector("#projector[data-state=item]")
    assert projector.inner_text("#p-title") != title
    second.wait_for_function(
        f"() => document.getElementById('item-title').textContent !== {title!r}"
    )
    assert second.locator("#ballot").is_hidden()

    # A question typed in another console window appears in this one's agenda, live.
    other = console_context.new_page()
    other.goto(console.url)
    other.fill("#free-text", "Faut-il un atelier de plus ?")
    other.click("#free-text ~ button[type=submit]")
    console.wait_for_selector("#agenda-list li:has-text('Faut-il un atelier de plus')")
    other.close()

    # A reload keeps the participant: same token, the server still knows they voted.
    console.click("[data-show] >> nth=0")
    first.reload()
    first.wait_for_selector("#connection[data-state=online]")
    first.wait_for_selector("body[data-poll-state=published]")
    assert first.get_attribute("body", "data-voted") == "yes"

    # The next item's vote, with the second phone's network cut while it votes.
    shown_before = console.input_value("#open-item-id")
    console.click("#btn-next")
    console.wait_for_function(
        "before => document.getElementById('open-item-id').value !== before", arg=shown_before
    )
    console.wait_for_selector("#form-open:not([hidden])")
    console.click("#btn-open")
    offline_ballot_is_sent_when_the_connection_returns(console, phones[1][0], second)

    # A vote with a short countdown: the server closes it when time is up.
    console.click("#btn-close")
    console.wait_for_selector("#form-next:not([hidden])")
    shown_before = console.input_value("#open-item-id")
    console.click("#btn-next")
    # The form is already visible (that of the closed vote): wait for the next item, whose
    # arrival empties the countdown field, before filling it.
    console.wait_for_function(
        "before => document.getElementById('open-item-id').value !== before", arg=shown_before
    )
    console.wait_for_selector("#form-open:not([hidden])")
    console.fill("#open-countdown", "2")
    console.click("#btn-open")
    first.wait_for_selector("body[data-poll-state=open]")
    first.wait_for_selector("body[data-poll-state=closed]", timeout=15_000)

    assert errors == []
    for context in (console_context, projector_context, *(c for c, _p in phones)):
        context.close()


def offline_ballot_is_sent_when_the_connection_returns(console, context, phone) -> None:
    """The phone's half of the promise: a ballot made without network is kept (not shown as
    recorded) and goes out by itself when the connection returns. Keyboard only, zoomed."""
    phone.wait_for_selector("#ballot:not([hidden])")
    # Text zoomed to 200 %: the page reflows, nothing needs a horizontal scroll (WCAG 1.4.4).
    phone.evaluate("document.documentElement.style.fontSize = '200%'")
    # Compared with the viewport's 360 px: a mobile viewport widens window.innerWidth to fit
    # whatever overflows, so comparing with it could never fail.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    phone.evaluate("document.documentElement.style.fontSize = ''")

    context.set_offline(True)
    phone.wait_for_selector("#connection[data-state=offline]", timeout=30_000)
    # By keyboard only: arrows move within the answers, Tab reaches the button.
    phone.focus("input[name=answer][value=full]")
    phone.keyboard.press("Space")
    phone.keyboard.press("ArrowDown")
    phone.keyboard.press("ArrowDown")
    assert phone.is_checked("input[name=answer][value=mixed]")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "send"
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#vote-status[data-kind=warn]")  # kept, not "recorded"
    pending = phone.evaluate(
        "Object.keys(JSON.parse(localStorage.getItem('pending:' + "
        "JSON.parse(document.getElementById('live-config').textContent)"
        ".sessionId) || '{}')).length"
    )
    assert pending == 1
    assert console.inner_text("#c-voted") == "0"

    context.set_offline(False)
    phone.wait_for_selector("#vote-status[data-kind=ok]", timeout=30_000)
    console.wait_for_function("() => document.getElementById('c-voted').textContent === '1'")


@pytest.mark.timeout(120)
def test_a_phone_refused_because_the_server_is_busy_dials_again(live_server, browser):
    """Socket.IO does not retry a refused connection by itself: phone.js must (a hall
    connecting at once can find no database connection free: ``server_busy``)."""
    base = live_server.url
    console_context, code = console_with_a_workshop(browser, live_server)
    context, phone = join(browser, base, code, "Ana", "service_user")
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    # The refusal as the server sends it (handlers.on_connect), to the page's own handler.
    phone.evaluate(
        """() => {
          const socket = window.LiveShared.socket();
          socket.disconnect();
          const refusal = new Error("server_busy");
          refusal.data = {ok: false, error: "server_busy", message: "The server is busy."};
          socket.listeners("connect_error").forEach((listener) => listener(refusal));
        }"""
    )
    assert phone.get_attribute("#connection", "data-state") == "connecting"
    assert phone.inner_text("#connection") == "The server is busy."
    phone.wait_for_selector("#connection[data-state=online]", timeout=10_000)
    assert phone.evaluate("window.LiveShared.socket().connected") is True
    assert errors == []
    context.close()
    console_context.close()


@pytest.mark.timeout(120)
def test_a_phone_whose_cookie_was_lost_comes_back_as_the_same_participant(live_server, browser):
    """phone.js keeps the token (live-shared.js); the join page sends it back, as it was
    stored, so the server finds the same participant instead of counting a second one."""
    base = live_server.url
    console_context = browser.new_context()
    console = console_context.new_page()
    log_in(console, live_server)
    code = create_workshop_on_field_one(console, base)
    context, phone = join(browser, base, code, "Ana", "service_user")
    kept = phone.evaluate(f"window.LiveShared.loadToken({code!r})")
    assert kept and kept == phone.evaluate(
        "JSON.parse(document.getElementById('live-config').textContent).token"
    )
    context.clear_cookies()
    phone.goto(f"{base}/j/{code}")
    assert phone.input_value("#join-token") == kept  # the token itself, not its JSON
    phone.click("#join-form button[type=submit]")
    phone.wait_for_selector("#connection[data-state=online]")
    console.reload()
    assert console.inner_text("#c-joined") == "1"  # the same place, not a second one
    context.close()
    console_context.close()


@pytest.mark.timeout(120)
def test_a_phone_dials_a_websocket_first_and_falls_back_to_polling(live_server, browser):
    """One request per (re)connection where WebSockets pass (a hall reconnecting at once
    costs the server that, not a long-polling handshake and its upgrade); long-polling on
    the same dial where a proxy blocks them."""
    base = live_server.url
    console_context, code = console_with_a_workshop(browser, live_server)
    context, phone = join(browser, base, code, "Ana", "service_user")
    assert phone.evaluate("window.LiveShared.socket().io.engine.transport.name") == "websocket"
    polls: list[str] = []
    phone.on("request", lambda request: "transport=polling" in request.url and polls.append(1))
    phone.reload()
    phone.wait_for_selector("#connection[data-state=online]")
    assert polls == [], "no long-polling request where the WebSocket passes"
    context.close()

    blocked = browser.new_context(viewport=PHONE, is_mobile=True)
    # A proxy that refuses WebSocket upgrades: every WebSocket fails before it opens, as
    # the browser reports a refused handshake (an error, then a close with code 1006).
    blocked.add_init_script(
        """window.WebSocket = function RefusedWebSocket() {
             var socket = this;
             socket.readyState = 0;
             setTimeout(function () {
               socket.readyState = 3;
               if (socket.onerror) { socket.onerror(new Event("error")); }
               if (socket.onclose) { socket.onclose({ code: 1006, reason: "", wasClean: false }); }
             }, 10);
           };
           window.WebSocket.prototype.close = function () {};
           window.WebSocket.prototype.send = function () {};"""
    )
    phone = blocked.new_page()
    phone.goto(f"{base}/j/{code}")
    phone.fill("#name", "Bea")
    phone.check("input[name=group][value=employer]")
    phone.click("#join-form button[type=submit]")
    phone.wait_for_selector("#connection[data-state=online]", timeout=20_000)
    assert phone.evaluate("window.LiveShared.socket().io.engine.transport.name") == "polling"
    blocked.close()
    console_context.close()
