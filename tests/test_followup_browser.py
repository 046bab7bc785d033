"""The follow-up in real Chromium, against the server as ``make run`` serves it: an organiser
records a status change of a recommendation; once the synthesis is published the public
« Suivi » page shows it on a phone (360 px, nothing pushed sideways) and on a desktop, with
no WCAG A/AA violation, and its Atom feed and open data carry it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import log_in

from tests.test_accessibility import PHONE, axe_violations, describe, zoomed_width

pytestmark = pytest.mark.timeout(180)

DEMO = "assises-insertion"
PASSWORD = "a long password"
ATOM = "{http://www.w3.org/2005/Atom}"
NOTE = "Sent to the minister of employment <b>on Monday</b> & discussed"


def test_an_organiser_records_a_status_and_the_public_sees_it(live_server, browser):
    email = live_server.add_member("followup", PASSWORD)
    organiser = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    phone = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True)
    desktop = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    try:
        page = organiser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, live_server.url, email, PASSWORD)
        page.click("form.lang-switch button[lang=en]")
        page.goto(f"{live_server.url}/organize/{DEMO}")
        page.click(".process-links a:text('Follow-up')")
        page.wait_for_url(f"**/organize/{DEMO}/followup")
        first = page.locator(".followup-table tbody tr").first
        anchor = first.get_attribute("id")
        assert anchor.startswith("recommendation-")
        assert "No follow-up recorded yet" in first.inner_text()
        first.locator("a").click()
        page.wait_for_url(f"**/organize/{DEMO}/followup/recommendation/*")
        page.select_option("#status", "in_progress")
        page.fill("#progress", "40")
        page.fill("#note", NOTE)
        page.click("#status-form button[type=submit]")
        page.wait_for_url("**#history")
        assert "Status recorded" in page.inner_text(".flashes")
        assert NOTE in page.inner_text("#history")
        page.fill("#addressed_to", "Walloon Government")
        page.click("#addressed button[type=submit]")
        page.fill("#url", "https://example.org/decision")
        page.fill("#label", "Decision of the Government")
        page.click("#links button[type=submit]:text('Add the link')")
        assert "Decision of the Government" in page.inner_text("#links")
        violations = axe_violations(page)
        assert violations == [], f"organiser's item page:\n{describe(violations)}"
        page.goto(f"{live_server.url}/organize/{DEMO}/followup")
        violations = axe_violations(page)
        assert violations == [], f"organiser's follow-up page:\n{describe(violations)}"

        # Not public before the synthesis is published.
        reader = phone.new_page()
        reader.on("pageerror", lambda error: errors.append(str(error)))
        assert reader.goto(f"{live_server.url}/p/{DEMO}/followup").status == 404
        page.goto(f"{live_server.url}/organize/{DEMO}/exports")
        page.click("button:text('Publish the synthesis')")
        page.goto(f"{live_server.url}/p/{DEMO}")
        page.click("a:text('Follow-up')")
        page.wait_for_url(f"**/p/{DEMO}/followup")

        for context_page, label in ((reader, "phone"), (desktop.new_page(), "desktop")):
            context_page.on("pageerror", lambda error: errors.append(str(error)))
            assert context_page.goto(f"{live_server.url}/p/{DEMO}/followup").status == 200
            item = context_page.locator(f"#{anchor}")
            text = item.inner_text()
            assert "In progress" in text and "40 %" in text, label
            assert NOTE in text and "Walloon Government" in text, label
            assert item.locator("a[href='https://example.org/decision']").count() == 1
            assert item.locator("b").count() == 0  # the note is text, not markup
            assert item.is_visible()
            overall = context_page.inner_text(".followup-summary")
            assert "In progress" in overall and "1" in overall
            if label == "phone":
                assert context_page.evaluate("document.documentElement.scrollWidth") <= 360
                assert zoomed_width(context_page) <= 360
            violations = axe_violations(context_page)
            assert violations == [], f"{label}:\n{describe(violations)}"

        feed = reader.request.get(f"{live_server.url}/p/{DEMO}/followup.atom")
        assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
        root = ET.fromstring(feed.body())
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == 1
        assert NOTE in entries[0].find(f"{ATOM}summary").text
        assert entries[0].find(f"{ATOM}link").get("href").endswith(f"/p/{DEMO}/followup#{anchor}")

        data = json.loads(reader.request.get(f"{live_server.url}/p/{DEMO}/followup.json").body())
        followed = [r for r in data["followup"] if f"{r['item_type']}-{r['item_id']}" == anchor]
        assert followed[0]["status"] == "in_progress" and followed[0]["history"][0]["note"] == NOTE
        assert errors == []
    finally:
        for context in (organiser, phone, desktop):
            context.close()
