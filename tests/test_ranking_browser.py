"""Ranking in real headless Chromium: opened from the console, ordered on a 360 px phone by
keyboard only (and by dragging), counted and shown on the projector."""

from __future__ import annotations

import pytest

from tests.test_live_browser import PHONE, create_workshop_on_field_one, join, log_in

OPTIONS = "Housing first\nMobility aid\nChildcare"


def focused_label(page) -> str:
    return page.evaluate("() => document.activeElement.getAttribute('aria-label') || ''")


def tab_to(page, label: str, limit: int = 40) -> None:
    """Press Tab until the control named ``label`` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_label(page) == label:
            return
    raise AssertionError(f"{label!r} cannot be reached with Tab")


def order_on_screen(page) -> list[str]:
    return page.eval_on_selector_all(
        "#rank-list .rank-label", "nodes => nodes.map(n => n.textContent)"
    )


@pytest.mark.timeout(240)
def test_a_ranking_ordered_by_keyboard_on_a_phone(live_server, browser):
    base = live_server.url
    errors: list[str] = []
    console = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    console.on("pageerror", lambda error: errors.append(f"console: {error}"))
    log_in(console, live_server)
    code = create_workshop_on_field_one(console, base)
    projector = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    projector.on("pageerror", lambda error: errors.append(f"projector: {error}"))
    projector.goto(f"{base}/projector/{code}")
    context, phone = join(browser, base, code, "Ana", "service_user")
    phone.on("pageerror", lambda error: errors.append(f"phone: {error}"))

    console.wait_for_selector("#connection[data-state=online]")
    console.click("[data-show] >> nth=0")
    console.select_option("#open-method", "ranking")
    assert console.is_visible("#open-options") and console.is_hidden("#open-dots")
    console.fill("#open-options", OPTIONS)
    console.check("#open-named")
    console.check("#open-show-live")
    console.click("#btn-open")
    phone.wait_for_selector("#rank-list")
    assert order_on_screen(phone) == ["Housing first", "Mobility aid", "Childcare"]
    # Nothing wider than the phone.
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    # Keyboard only: move "Housing first" down twice; the focus stays on its button and the
    # live region says where it went.
    tab_to(phone, "Déplacer vers le bas : Housing first")
    phone.keyboard.press("Enter")
    assert phone.inner_text("#rank-live") == "Housing first est maintenant numéro 2 sur 3."
    assert focused_label(phone) == "Déplacer vers le bas : Housing first"
    phone.keyboard.press("Space")
    assert phone.inner_text("#rank-live") == "Housing first est maintenant numéro 3 sur 3."
    assert phone.get_attribute("#rank-list li:last-child .rank-down", "aria-disabled") == "true"
    # At the bottom, "down" does nothing (and keeps the focus).
    phone.keyboard.press("Enter")
    assert focused_label(phone) == "Déplacer vers le bas : Housing first"
    tab_to(phone, "Déplacer vers le haut : Childcare")
    phone.keyboard.press("Enter")
    assert order_on_screen(phone) == ["Childcare", "Mobility aid", "Housing first"]
    assert phone.inner_text("#rank-list li:first-child .rank-position") == "1"
    phone.screenshot(path="/tmp/live-phone-ranking-360x640.png", full_page=True)
    for _ in range(40):
        phone.keyboard.press("Tab")
        if phone.evaluate("() => document.activeElement.id") == "send":
            break
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#vote-status[data-kind=ok]")

    # The projector shows the Borda points live: Childcare 2, Mobility 1, Housing 0.
    projector.wait_for_function(
        "() => (document.querySelector('#p-results .bar-figure[data-key=o3]') || {})"
        ".textContent === '2 · 66,6 %'"
    )
    assert projector.inner_text("#p-results .bar-figure[data-key=o1]") == "0 · 0 %"
    labels = projector.eval_on_selector_all(
        "#p-results .bar-label", "nodes => nodes.map(n => n.textContent)"
    )
    assert labels[:3] == ["1. Childcare", "2. Mobility aid", "3. Housing first"]

    # Dragging by the handle also orders: Housing first back to the top.
    handle = phone.locator("#rank-list li:last-child .rank-handle")
    target = phone.locator("#rank-list li:first-child .rank-label")
    handle.drag_to(target)
    assert order_on_screen(phone)[0] == "Housing first"

    console.click("#btn-close")
    console.click("#btn-publish")
    projector.wait_for_selector("#projector[data-state=published]")
    assert "points" in projector.inner_text("#p-results .results-base")
    context.close()
    assert errors == []
