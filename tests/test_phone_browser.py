"""The phone page in real headless Chromium with JavaScript switched off (issue 14): join,
vote with every method, change a vote, send the same form twice (counted once), propose an
amendment that reaches the console, and axe finds nothing on the page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LiveConnectionBlocker
from tests.test_accessibility import axe_violations, describe
from tests.test_live_browser import PHONE, create_workshop_on_field_one, log_in

OPTIONS = "Housing first\nMobility aid\nChildcare"
TIMEOUT = 20_000


def open_vote(console, method: str, options: str = "") -> None:
    console.select_option("#open-method", method)
    if options:
        console.fill("#open-options", options)
    console.click("#btn-open")
    console.wait_for_selector("#btn-close:not([hidden]):not([disabled])", timeout=TIMEOUT)


def close_vote(console) -> None:
    console.click("#btn-close")
    console.wait_for_selector("#btn-open:not([hidden]):not([disabled])", timeout=TIMEOUT)


def send(phone) -> None:
    """Press « Envoyer » and land back on the page, at the confirmation."""
    with phone.expect_navigation():
        phone.click("#send")
    assert re.search(r"/s/\w+/vote#vote-status$", phone.url)
    assert phone.get_attribute("#vote-status", "data-kind") == "ok"


def voted(console) -> str:
    return console.inner_text("#c-voted")


def axe_on(browser, phone, label: str) -> None:
    """axe needs script: the page as the no-JavaScript phone has it, scripts stripped, read in
    a second page where the test (not the page) may run script."""
    html = re.sub(r"<script\b[^>]*>.*?</script>", "", phone.content(), flags=re.S)
    reader = browser.new_context(viewport=PHONE).new_page()
    reader.route(phone.url, lambda route: route.fulfill(body=html, content_type="text/html"))
    reader.goto(phone.url)
    violations = axe_violations(reader)
    reader.context.close()
    assert not violations, f"{label}:\n{describe(violations)}"


@pytest.mark.timeout(300)
def test_a_phone_without_javascript_joins_votes_with_every_method_and_proposes(
    live_server, browser
):
    base = live_server.url
    console = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(console, live_server)
    code = create_workshop_on_field_one(console, base)
    console.wait_for_selector("#connection[data-state=online]")
    console.click("[data-show] >> nth=0")

    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, java_script_enabled=False
    )
    phone = context.new_page()
    phone.goto(f"{base}/j/{code}")
    phone.fill("#name", "Ana")
    phone.check("input[name=group][value=service_user]")
    with phone.expect_navigation():
        phone.click("#join-form button[type=submit]")
    # The join form answers with the phone page itself (no script here to rename it /s/…).
    assert phone.url.endswith(f"/j/{code}") and phone.locator("#item").count() == 1
    assert phone.inner_text("#item-title") != "Bienvenue"
    assert "Page simple" in phone.inner_text("header")
    axe_on(browser, phone, "phone without JavaScript, item shown")

    # Consensus: vote, then change the vote; the console counts one voter.
    open_vote(console, "consensus")
    phone.goto(f"{base}/s/{code}")
    phone.check("input[name=answer][value=full]")
    axe_on(browser, phone, "phone without JavaScript, consensus ballot")
    send(phone)
    console.wait_for_function("() => document.getElementById('c-voted').textContent === '1'")
    assert phone.inner_text("#send") == "Modifier mon vote"
    phone.check("input[name=answer][value=disagree]")
    send(phone)
    # The same form sent twice (a double tap on a slow network): counted once.
    form = phone.content()  # its ballot id is that of the page as drawn
    phone.check("input[name=answer][value=block]")
    send(phone)
    phone.route(
        f"{base}/s/{code}", lambda route: route.fulfill(body=form, content_type="text/html")
    )
    phone.goto(f"{base}/s/{code}")
    phone.check("input[name=answer][value=block]")
    send(phone)
    phone.unroute(f"{base}/s/{code}")
    assert voted(console) == "1"
    close_vote(console)
    phone.goto(f"{base}/s/{code}")
    assert phone.inner_text("#vote-status") == "Votre vote a été compté."

    # The other methods, each through its own plain form.
    open_vote(console, "yes_no")
    phone.goto(f"{base}/s/{code}")
    phone.check("input[name=answer][value=no]")
    send(phone)
    close_vote(console)

    open_vote(console, "majority_judgment", OPTIONS)
    phone.goto(f"{base}/s/{code}")
    for index, grade in enumerate(("good", "poor", "excellent")):
        phone.check(f"input[name=grade-{index}][value={grade}]")
    send(phone)
    close_vote(console)

    open_vote(console, "dot", OPTIONS)
    phone.goto(f"{base}/s/{code}")
    phone.select_option("#dots-0", "2")
    phone.select_option("#dots-2", "1")
    send(phone)
    close_vote(console)

    open_vote(console, "ranking", OPTIONS)
    phone.goto(f"{base}/s/{code}")
    axe_on(browser, phone, "phone without JavaScript, ranking ballot")
    # Two options with the same rank: said in words, nothing counted.
    phone.select_option("#rank-0", "2")
    with phone.expect_navigation():
        phone.click("#send")
    assert phone.get_attribute("#vote-status", "data-kind") == "bad"
    assert "numéro différent" in phone.inner_text("#vote-status")
    assert voted(console) == "0"
    phone.select_option("#rank-0", "3")
    phone.select_option("#rank-1", "1")
    phone.select_option("#rank-2", "2")
    send(phone)
    console.wait_for_function("() => document.getElementById('c-voted').textContent === '1'")
    close_vote(console)

    # An amendment of the item on screen reaches the facilitator's queue.
    console.click("[data-show] >> nth=1")
    phone.goto(f"{base}/s/{code}")
    phone.click("#propose summary")
    phone.check("input[name=propose-kind][value=amendment]")
    phone.fill("#propose-text", "Une nouvelle formulation proposée sans JavaScript.")
    with phone.expect_navigation():
        phone.click("#propose-send")
    assert "Votre proposition est arrivée" in phone.inner_text("#propose-status")
    console.wait_for_selector(
        "#moderation-list >> text=Une nouvelle formulation proposée sans JavaScript.",
        timeout=TIMEOUT,
    )


@pytest.mark.timeout(240)
def test_before_the_socket_connects_the_header_says_votes_go_anyway_and_focus_follows(
    live_server, browser
):
    base = live_server.url
    # /j speaks the browser's language (the join page, the process language: French).
    for locale, heading in (("en-US", "Type the code shown on the screen"), ("fr-FR", "Tapez")):
        page = browser.new_context(viewport=PHONE, locale=locale).new_page()
        page.goto(f"{base}/j")
        assert page.inner_text("h1").startswith(heading), locale
        page.context.close()

    console = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(console, live_server)
    code = create_workshop_on_field_one(console, base)
    console.wait_for_selector("#connection[data-state=online]")
    console.click("[data-show] >> nth=0")
    open_vote(console, "consensus")

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    # A network where the live connection never gets through: votes go over HTTP.
    LiveConnectionBlocker(context)
    phone = context.new_page()
    phone.goto(f"{base}/j/{code}")
    phone.fill("#name", "Bea")
    with phone.expect_navigation():
        phone.click("#join-form button[type=submit]")
    phone.wait_for_selector("#ballot:not([hidden]) input[name=answer]")
    assert phone.inner_text("#connection") == (
        "Connexion en cours — votre vote est envoyé quand même."
    )
    phone.check("input[name=answer][value=full]")
    phone.click("#send")
    phone.wait_for_selector("#vote-status[data-kind=ok]", timeout=TIMEOUT)
    assert phone.evaluate("() => document.activeElement.id") == "vote-status"
    console.wait_for_function("() => document.getElementById('c-voted').textContent === '1'")
