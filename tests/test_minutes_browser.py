"""The console's minutes box in real Chromium, on a laptop (1366×768): typed text is saved
by itself and is there after a reload; two consoles typing at once lose nothing; the
versions are listed; the box follows the item shown."""

from __future__ import annotations

import pytest

from tests.test_console_browser import LAPTOP, outside_viewport
from tests.test_live_browser import create_workshop_on_field_one, log_in


def saved(console) -> None:
    console.wait_for_selector("#minutes-status[data-state=saved]")
    assert console.inner_text("#minutes-status").startswith("Saved at ")


def has_text(console, *lines: str) -> None:
    console.wait_for_function(
        "(lines) => lines.every((l) => document.getElementById('minutes-text').value.includes(l))",
        arg=list(lines),
    )


@pytest.mark.timeout(240)
def test_minutes_typed_saved_reloaded_merged_and_versioned(live_server, browser, tmp_path):
    base = live_server.url
    errors: list[str] = []
    context = browser.new_context(viewport=LAPTOP)
    console = context.new_page()
    console.on("pageerror", lambda error: errors.append(str(error)))
    log_in(console, live_server)
    create_workshop_on_field_one(console, base)
    console.wait_for_selector("#connection[data-state=online]")
    assert console.is_hidden("#minutes")  # nothing shown, nothing to write about
    console.click("#btn-next")
    console.wait_for_selector("#minutes:not([hidden])")
    console.evaluate("scrollTo(0, 0)")
    assert outside_viewport(console, ["#minutes-text", "#moderation", "#c-results"]) == []
    console.screenshot(path=str(tmp_path / "console-minutes-1366x768.png"))

    # Typed: saved by itself (no button pressed), still there after a reload.
    console.click("#minutes-text")
    console.keyboard.type("Ana ouvre le débat.")
    saved(console)
    console.reload()
    console.wait_for_selector("#connection[data-state=online]")
    assert console.input_value("#minutes-text") == "Ana ouvre le débat."

    # A second console of the same session; both type at once from the same version.
    other = context.new_page()
    other.on("pageerror", lambda error: errors.append(str(error)))
    other.goto(console.url)
    other.wait_for_selector("#connection[data-state=online]")
    assert other.input_value("#minutes-text") == "Ana ouvre le débat."
    other.click("#minutes-text")
    other.keyboard.press("End")
    console.click("#minutes-text")
    console.keyboard.press("End")
    other.keyboard.type("\nBob : pour")
    console.keyboard.type("\nCarla : contre")
    # Whichever saved second got the merge; the other is told and shows it.
    for page in (console, other):
        has_text(page, "Ana ouvre le débat.", "Bob : pour", "Carla : contre")
    assert console.input_value("#minutes-text").count("Ana ouvre le débat.") == 1

    # The versions, newest first: each save, and the merge marked as such.
    console.click("#minutes-history summary")
    console.wait_for_function("() => document.querySelectorAll('#minutes-versions li').length >= 4")
    listed = console.inner_text("#minutes-versions")
    assert "merge" in listed and "Ana ouvre le débat." in listed

    # The box follows the item shown: empty for the next item, the text back on return.
    console.click("#btn-next")
    console.wait_for_function("() => document.getElementById('minutes-text').value === ''")
    console.keyboard.press("PageUp")
    has_text(console, "Bob : pour", "Carla : contre")
    assert errors == []
    context.close()
