"""Real headless Chromium against ``python app.py``: a phone proposes an amendment, the
facilitator accepts it, the projector shows the word-level comparison, the phones vote, and
the item's new wording appears on the process outline."""

from __future__ import annotations

import re

import pytest

DEMO_SLUG = "assises-insertion"
PHONE = {"width": 360, "height": 640}
TIMEOUT = 15_000


def log_in(page, server) -> None:
    """As the demo organiser, with the login load-demo drew and kept for this server."""
    email, password = server.demo_login
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form:has(#email) button[type=submit]")
    page.wait_for_url(re.compile(r"/organize"), timeout=TIMEOUT)


def create_session(page, base: str) -> tuple[int, str]:
    page.goto(f"{base}/facilitate/{DEMO_SLUG}/sessions")
    page.select_option("#kind", "workshop")
    page.fill("#title", "Atelier amendements")
    page.click(f"form[action$='/facilitate/{DEMO_SLUG}/sessions'] button[type=submit]")
    page.wait_for_url(re.compile(r"/facilitate/session/\d+"), timeout=TIMEOUT)
    session_id = int(re.search(r"/facilitate/session/(\d+)", page.url).group(1))
    code = page.text_content(".console-header code").strip()
    return session_id, code


def join(browser, base: str, code: str, name: str):
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/j/{code}")
    page.fill("#name", name)
    page.click("#join-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/s/{code}"), timeout=TIMEOUT)
    page.wait_for_selector("#connection[data-state=online]", timeout=TIMEOUT)
    return page


def test_an_amendment_from_the_floor_is_adopted_and_shown_on_the_outline(live_server, browser):
    base = live_server.url
    organiser = browser.new_context(viewport={"width": 1280, "height": 900})
    console = organiser.new_page()
    log_in(console, live_server)
    session_id, code = create_session(console, base)

    # The agenda: the items of field 1; the first one before the room.
    console.click("#btn-fill")
    console.wait_for_selector("#agenda-list li", timeout=TIMEOUT)
    first_item = console.get_attribute("#agenda-list li >> nth=0", "data-id")
    console.click(f"[data-show='{first_item}']")
    console.wait_for_selector(f"#agenda-{first_item}.current", timeout=TIMEOUT)
    console.wait_for_selector("#moderation", timeout=TIMEOUT)

    projector = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    projector.goto(f"{base}/projector/{code}")

    ana = join(browser, base, code, "Ana")
    bob = join(browser, base, code, "Bob")

    # Ana rewords the item on screen, starting from its current wording.
    ana.click("#propose summary")
    ana.check("input[name=propose-kind][value=amendment]")
    ana.click("#propose-start")
    original = ana.input_value("#propose-text")
    assert original.strip()
    words = original.split()
    amended = " ".join(["Désormais", *words[1:]]) + " Amendement adopté en atelier."
    ana.fill("#propose-text", amended)
    ana.click("#propose-send")
    ana.wait_for_selector(".my-proposal.status-pending", timeout=TIMEOUT)

    # The facilitator sees it in the queue, word by word, and puts it to the vote.
    card = console.wait_for_selector("#moderation-list .moderation-card", timeout=TIMEOUT)
    assert card.query_selector("ins") is not None
    assert "Ana" in card.text_content()
    card.query_selector(".moderation-actions button.primary").click()
    ana.wait_for_selector(".my-proposal.status-accepted", timeout=TIMEOUT)
    console.check("input[name=moderation-filter][value=all]")
    accepted = console.wait_for_selector(
        "#moderation-list .moderation-card.status-accepted", timeout=TIMEOUT
    )
    agenda_item = accepted.get_attribute("data-agenda-item-id")
    assert agenda_item

    # The new agenda item: shown, and put to a consensus vote.
    console.reload()
    console.click(f"[data-show='{agenda_item}']")
    console.wait_for_selector(f"#agenda-{agenda_item}.current", timeout=TIMEOUT)
    console.select_option("#open-method", "consensus")
    console.click("#btn-open")

    # The projector compares the two wordings, word by word.
    projector.wait_for_selector(".amendment-compare", timeout=TIMEOUT)
    removed = projector.text_content(".amendment-original del")
    added = " ".join(projector.locator(".amendment-proposed ins").all_text_contents())
    assert words[0] in removed
    assert "Désormais" in added and "Amendement adopté en atelier." in added
    assert "Désormais" not in projector.text_content(".amendment-original")

    # Both phones vote "fully agree".
    for phone in (ana, bob):
        phone.wait_for_selector(".amendment-compare", timeout=TIMEOUT)
        phone.wait_for_selector("input[name=answer][value=full]", timeout=TIMEOUT)
        phone.check("input[name=answer][value=full]")
        phone.click("#send")
        phone.wait_for_selector("#vote-status[data-kind=ok]", timeout=TIMEOUT)

    console.wait_for_function(
        "() => document.getElementById('c-voted').textContent.trim() === '2'", timeout=TIMEOUT
    )
    console.click("#btn-close")
    console.wait_for_selector("#btn-publish", state="visible", timeout=TIMEOUT)
    console.click("#btn-publish")

    # Adopted: Ana hears it; the outline carries the new wording.
    ana.wait_for_selector(".my-proposal.status-adopted", timeout=TIMEOUT)
    console.goto(f"{base}/organize/{DEMO_SLUG}")
    item_anchor = console.evaluate(
        """phrase => {
            const texts = [...document.querySelectorAll(".item-text, .finding-text")];
            const own = texts.find(node => node.textContent.includes(phrase));
            return own ? own.closest("li.item, [id^='finding-']").id : null;
        }""",
        "Amendement adopté en atelier.",
    )
    assert item_anchor, "the new wording is not on the outline"
    kind, item_id = item_anchor.rsplit("-", 1)

    # Its history tells when, in which session and by which vote; a rollback is a version too.
    console.goto(f"{base}/organize/{DEMO_SLUG}/{kind}/{item_id}/history")
    adopted = console.locator("li.version", has=console.locator(".kind-amendment")).first
    assert f"#{session_id}" in adopted.text_content() or str(session_id) in adopted.text_content()
    console.click("#version-1 form button[type=submit]")
    console.goto(f"{base}/organize/{DEMO_SLUG}")
    restored = console.locator(f"#{kind}-{item_id}").text_content()
    assert "Amendement adopté en atelier." not in restored
    assert words[0] in restored
    console.goto(f"{base}/organize/{DEMO_SLUG}/{kind}/{item_id}/history")
    assert console.locator(".kind-rollback").count() == 1
    organiser.close()


@pytest.fixture(autouse=True)
def _skip_without_pages(request):
    """The test needs the live pages (issue 3); say precisely which part is missing."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    wanted = {
        "phone page includes the proposal form": ("templates/live/phone.html", "_propose.html"),
        "phone page loads propose.js": ("templates/live/phone.html", "propose.js"),
        "console includes the moderation queue": ("templates/live/console.html", "_moderation"),
        "console loads moderation.js": ("templates/live/console.html", "moderation.js"),
    }
    missing = [
        what
        for what, (path, needle) in wanted.items()
        if not (root / path).exists() or needle not in (root / path).read_text(encoding="utf-8")
    ]
    if missing:
        pytest.skip("live pages not wired for proposals yet: " + "; ".join(missing))
