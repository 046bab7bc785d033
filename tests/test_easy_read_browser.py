"""The easy-to-read mode (« Facile à lire et à comprendre », issue 14) in real headless
Chromium at 360×640, with JavaScript and without: switched on from the phone, the larger
text (computed style), the pictograms beside the words, the organiser's plain summary, the
« Lire à voix haute » button where the browser can speak and not where it cannot; without
JavaScript the countdown and the revealed result; the organiser's default on a new phone;
axe finds nothing in either mode, with or without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.test_accessibility import axe_violations, describe
from tests.test_live_browser import PHONE, create_workshop_on_field_one, log_in
from tests.test_phone_browser import TIMEOUT, axe_on, close_vote, open_vote

SUMMARY = "On aide chaque personne. Une seule personne suit tout le parcours."


def phone_context(browser, javascript: bool = True, speech: bool = True):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, java_script_enabled=javascript
    )
    if not speech:
        # A browser without speech synthesis (many old phones): the button must not show.
        context.add_init_script(
            "delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;"
        )
    return context


def join(context, base: str, code: str, name: str):
    phone = context.new_page()
    phone.goto(f"{base}/j/{code}")
    phone.fill("#name", name)
    with phone.expect_navigation():
        phone.click("#join-form button[type=submit]")
    phone.wait_for_selector("#item-title")
    return phone


def switch_easy(phone) -> None:
    with phone.expect_navigation():
        phone.click("#easy-button")
    phone.wait_for_selector("html.easy")
    assert phone.get_attribute("#easy-button", "aria-pressed") == "true"


def font_sizes(phone) -> tuple[float, float, float]:
    """Computed sizes, in px, of the root, the item's title and the first answer's words."""
    return tuple(
        phone.evaluate(
            """() => ["html", "#item-title", ".choice-text"].map(
                 s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"""
        )
    )


def root_size(phone) -> float:
    return phone.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")


def axe_live(phone, label: str) -> None:
    violations = axe_violations(phone)
    assert not violations, f"{label}:\n{describe(violations)}"


def assert_pictograms_beside_words(phone) -> None:
    for key, picto, words in (
        ("full", "face_very_happy", "Tout à fait d’accord"),
        ("block", "stop", "Opposition ferme (blocage)"),
    ):
        label = phone.locator(f"label.choice:has(input[value={key}])")
        svg = label.locator(f"svg[data-picto={picto}]")
        assert svg.is_visible(), f"the pictogram beside « {words} »"
        assert svg.get_attribute("aria-hidden") == "true"
        assert label.locator(".choice-text").inner_text() == words  # the words stay


@pytest.mark.timeout(420)
def test_easy_to_read_phones_with_and_without_javascript(live_server, browser):
    base = live_server.url
    console = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(console, live_server)
    code = create_workshop_on_field_one(console, base)
    console_url = console.url
    # The organiser writes a plain summary of the first hypothesis (the agenda's first item).
    console.goto(f"{base}/organize/assises-insertion")
    console.click("a[href*='/hypothesis/'][href$='/edit'] >> nth=0")
    console.fill("#plain_summary", SUMMARY)
    with console.expect_navigation():
        console.click("form.item-form button[type=submit]")
    console.goto(console_url)
    console.wait_for_selector("#connection[data-state=online]")
    console.click("[data-show] >> nth=0")

    # With JavaScript, the usual display first: no summary, no pictogram.
    plain = join(phone_context(browser), base, code, "Ana")
    plain.wait_for_selector("#connection[data-state=online]")
    open_vote(console, "consensus")
    plain.wait_for_selector("#ballot:not([hidden]) input[name=answer]", timeout=TIMEOUT)
    assert plain.locator("svg.picto").count() == 0 and plain.locator("#item-summary").count() == 0
    usual = font_sizes(plain)
    axe_live(plain, "phone with JavaScript, usual display, ballot open")

    # Switched on from the phone: larger, pictograms with the words, the summary, read aloud.
    switch_easy(plain)
    plain.wait_for_selector("#ballot:not([hidden]) svg.picto", timeout=TIMEOUT)
    easy = font_sizes(plain)
    assert easy[0] == usual[0] * 1.25 and easy[1] > usual[1] and easy[2] > usual[2]
    assert_pictograms_beside_words(plain)
    assert plain.inner_text("#item-summary-text") == SUMMARY
    assert plain.locator("#item-text").is_visible(), "the full text stays"
    assert plain.evaluate("'speechSynthesis' in window")
    assert plain.locator("#read-aloud").is_visible()
    assert plain.inner_text("#read-aloud") == "Lire à voix haute"
    axe_live(plain, "phone with JavaScript, easy to read, ballot open")
    # Remembered on this phone: a reload keeps it.
    plain.reload()
    plain.wait_for_selector("html.easy #ballot:not([hidden]) svg.picto", timeout=TIMEOUT)

    # A browser without speech synthesis: no button that would do nothing.
    mute = join(phone_context(browser, speech=False), base, code, "Bo")
    switch_easy(mute)
    mute.wait_for_selector("#ballot:not([hidden]) svg.picto", timeout=TIMEOUT)
    assert not mute.evaluate("'speechSynthesis' in window")
    assert mute.locator("#read-aloud").is_hidden()

    # Without JavaScript: the same switch (a form post), the same pictograms and summary,
    # and the countdown drawn by the server.
    close_vote(console)
    console.fill("#open-countdown", "300")
    open_vote(console, "consensus")
    bare = join(phone_context(browser, javascript=False), base, code, "Cy")
    axe_on(browser, bare, "phone without JavaScript, usual display, ballot open")
    switch_easy(bare)
    assert_pictograms_beside_words(bare)
    assert bare.inner_text("#item-summary-text") == SUMMARY
    assert bare.locator("#read-aloud").is_hidden(), "no script: nothing could read aloud"
    assert re.fullmatch(r"Temps restant\s*: [45]:\d\d", bare.inner_text("#countdown"))
    assert root_size(bare) == usual[0] * 1.25
    axe_on(browser, bare, "phone without JavaScript, easy to read, ballot open")
    bare.check("input[name=answer][value=full]")
    with bare.expect_navigation():
        bare.click("#send")
    assert bare.get_attribute("#vote-status", "data-kind") == "ok"

    # Revealed: the result on the page without JavaScript, in words and figures.
    close_vote(console)
    console.click("#btn-publish")
    plain.wait_for_selector("#phone-results:not([hidden]) .outcome", timeout=TIMEOUT)
    axe_live(plain, "phone with JavaScript, easy to read, results revealed")
    bare.goto(f"{base}/s/{code}")
    assert bare.locator("#phone-results").is_visible()
    assert bare.inner_text("#phone-results .bar-figure[data-key=full]") == "1 · 100\u00a0%"
    assert bare.locator("#phone-results .plain-row[data-key=full] svg.picto").count() == 1
    assert bare.locator("#phone-results .outcome").count() == 1
    axe_on(browser, bare, "phone without JavaScript, easy to read, results revealed")

    # The organiser makes it the default: a new phone opens in the easy-to-read mode (with
    # and without JavaScript); the phone that chose the usual display keeps it.
    console.check("#easy-read")
    with console.expect_navigation():
        console.click("#btn-easy-read")
    assert console.locator("#easy-read").is_checked()
    newcomer = join(phone_context(browser), base, code, "Dee")
    newcomer.wait_for_selector("html.easy #item-summary-text")
    assert newcomer.get_attribute("#easy-button", "aria-pressed") == "true"
    assert root_size(newcomer) == usual[0] * 1.25
    with plain.expect_navigation():
        plain.click("#easy-button")  # Ana switches back to the usual display
    joined_bare = join(phone_context(browser, javascript=False), base, code, "Eve")
    assert joined_bare.locator("html.easy").count() == 1
    plain.reload()
    plain.wait_for_selector("#item-title")
    assert plain.locator("html.easy").count() == 0
