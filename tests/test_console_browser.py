"""The console on a facilitator's laptop (1366×768), in real Chromium: the core loop — show
an item, open a vote with a countdown, close, reveal, next item — run with the keyboard
only (a presenter clicker's PageDown), and everything the loop needs stays inside the
viewport, without scrolling the page."""

from __future__ import annotations

import pytest

from tests.test_live_browser import create_workshop_on_field_one, join, log_in, vote

LAPTOP = {"width": 1366, "height": 768}
# What the facilitator reads at every step of the loop.
NEEDED = [
    "#c-title",
    "#c-poll-state",
    "#c-voted",
    "#c-connected",
    "#c-results",
    "#moderation",
    "#minutes-text",  # the minutes of the item shown, written while it is discussed
    "#shortcuts",
    "#console-log",
]


def outside_viewport(page, selectors: list[str]) -> list[str]:
    """The selectors whose element is hidden, or not wholly inside the viewport."""
    return page.evaluate(
        """(selectors) => selectors.filter((selector) => {
            const node = document.querySelector(selector);
            if (!node || node.closest("[hidden]")) return true;
            const box = node.getBoundingClientRect();
            const top = Math.min(box.bottom, box.top + 40);  // its first line is enough
            return box.left < 0 || box.top < 0 || top > innerHeight || box.right > innerWidth;
        })""",
        selectors,
    )


def page_key_taken(page) -> bool:
    """Whether the console takes PageDown (a synthetic key: nothing is sent when it is not)."""
    return page.evaluate(
        """() => {
            const init = {key: "PageDown", bubbles: true, cancelable: true};
            const key = new KeyboardEvent("keydown", init);
            document.body.dispatchEvent(key);
            return key.defaultPrevented;
        }"""
    )


def step(console, key: str, state: str, button: str | None, shots, name: str) -> str:
    console.keyboard.press(key)
    console.wait_for_selector(f"#c-poll-state[data-state={state}]")
    console.wait_for_selector("#console-log:not([hidden])")
    console.screenshot(path=str(shots / f"console-{name}-1366x768.png"))
    assert console.evaluate("scrollY") == 0, "the page did not scroll"
    needed = NEEDED + ([button] if button else [])
    assert outside_viewport(console, needed) == []
    return console.inner_text("#console-log")


@pytest.mark.timeout(240)
def test_the_core_loop_by_keyboard_on_a_laptop(live_server, browser, tmp_path):
    base = live_server.url
    errors: list[str] = []
    context = browser.new_context(viewport=LAPTOP)
    console = context.new_page()
    console.on("pageerror", lambda error: errors.append(str(error)))
    log_in(console, live_server)
    code = create_workshop_on_field_one(console, base)
    phone_context, phone = join(browser, base, code, "Ana", "service_user")
    console.wait_for_selector("#connection[data-state=online]")
    console.evaluate("scrollTo(0, 0)")
    console.focus("body")

    said = [step(console, "PageDown", "none", "#btn-open", tmp_path, "shown")]
    title = console.inner_text("#c-title")
    assert title in said[0]
    # The countdown typed, then the clicker: the vote opens with it.
    console.focus("#open-countdown")
    console.keyboard.type("300")
    said.append(step(console, "PageDown", "open", "#btn-close", tmp_path, "open"))
    assert console.is_visible("#c-countdown")
    assert title in said[-1]
    vote(phone, "full")
    console.wait_for_selector("#c-voted:text-is('1')")
    console.focus("body")
    said.append(step(console, "PageDown", "closed", "#btn-publish", tmp_path, "closed"))
    assert console.is_hidden("#c-countdown")
    assert console.inner_text("#c-results .bar-figure >> nth=0")  # the count, on screen
    said.append(step(console, "PageDown", "published", "#btn-next", tmp_path, "revealed"))
    said.append(step(console, "PageDown", "none", "#btn-open", tmp_path, "next"))
    assert console.inner_text("#c-title") != title
    assert console.input_value("#open-countdown") == "", "a new item starts without a countdown"
    # Each step said what it did, in its own words (never a bare « Done. »).
    assert len(set(said)) == len(said), said
    console.keyboard.press("b")
    console.wait_for_selector("#form-open", state="hidden")  # no item: no vote to open
    assert console.input_value("#open-item-id") == ""
    # Shortcuts can be switched off (WCAG 2.1.4): then PageDown does nothing of ours.
    console.check("#shortcuts-on")
    console.uncheck("#shortcuts-on")
    assert not page_key_taken(console)
    console.check("#shortcuts-on")
    assert page_key_taken(console)
    assert errors == []
    phone_context.close()
    context.close()
