"""Public comments in real Chromium, against the server as ``make run`` serves it: a reader on
a phone (360 px) comments on a recommendation of the published synthesis; the comment is
not shown until an organiser approves it; then it is; reported, then hidden with a reason,
it is replaced by the reason. No WCAG A/AA violation on the pages involved."""

from __future__ import annotations

import pytest
from conftest import log_in

from tests.test_accessibility import PHONE, axe_violations, describe

pytestmark = pytest.mark.timeout(180)

DEMO = "assises-insertion"
PASSWORD = "a long password"
COMMENT = "We tried this in Namur: **it works** <script>alert(1)</script>"


def test_a_reader_comments_from_a_phone_and_it_appears_after_approval(live_server, browser):
    email = live_server.add_member("moderator", PASSWORD)
    organiser = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    phone = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True)
    errors: list[str] = []
    try:
        page = organiser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, live_server.url, email, PASSWORD)
        page.click("form.lang-switch button[lang=en]")
        page.goto(f"{live_server.url}/organize/{DEMO}/exports")
        page.click("button:text('Publish the synthesis')")

        reader = phone.new_page()
        reader.on("pageerror", lambda error: errors.append(str(error)))
        reader.goto(f"{live_server.url}/p/{DEMO}")
        reader.click("form.lang-switch button[lang=en]")
        reader.locator(".comments-link a").first.click()
        reader.wait_for_url(f"**/p/{DEMO}/recommendations/*")
        recommendation_url = reader.url.split("#")[0]
        reader.fill("#author_name", "Ana")
        reader.fill("#body", COMMENT)
        reader.click("#comment-form button[type=submit]")
        reader.wait_for_url("**#comments")
        assert "once the organisers approve it" in reader.inner_text(".flashes")
        assert "We tried this" not in reader.inner_text("#comments")
        assert reader.evaluate("document.documentElement.scrollWidth") <= 360
        violations = axe_violations(reader)
        assert violations == [], f"recommendation page:\n{describe(violations)}"

        page.goto(f"{live_server.url}/organize/{DEMO}")
        page.click(".process-links a:text('Public comments')")
        page.wait_for_url(f"**/organize/{DEMO}/comments")
        pending = page.locator("#pending .comment")
        assert pending.count() == 1 and "Ana" in pending.inner_text()
        violations = axe_violations(page)
        assert violations == [], f"moderation page:\n{describe(violations)}"
        pending.locator("button:text('Publish')").click()
        page.wait_for_url(f"**/organize/{DEMO}/comments")
        assert page.locator("#published .comment").count() == 1

        reader.goto(recommendation_url)
        shown = reader.locator("#comments .comment").first
        assert "We tried this in Namur" in shown.inner_text()
        assert shown.locator("strong:text('it works')").count() == 1  # Markdown, sanitised
        assert shown.locator("script").count() == 0
        shown.locator("button:text('Report this comment')").click()
        assert "organisers will look at this comment" in reader.inner_text(".flashes")

        page.goto(f"{live_server.url}/organize/{DEMO}/comments")
        reported = page.locator("#reported .comment")
        assert "1 report" in reported.inner_text()
        reported.locator("input[name=reason]").fill("Off topic")
        reported.locator("button:text('Hide')").click()
        page.wait_for_url(f"**/organize/{DEMO}/comments")

        reader.goto(recommendation_url)
        hidden = reader.inner_text("#comments")
        assert "Reason: Off topic" in hidden and "We tried this" not in hidden
        assert errors == []
    finally:
        for context in (organiser, phone):
            context.close()
