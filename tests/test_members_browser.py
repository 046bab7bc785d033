"""An invitation in real Chromium, against the server as ``make run`` serves it: the owner
creates a co-organiser's link, a newcomer without an account follows it, creates one, and
then sees and opens the process; the link no longer works after that."""

import uuid

import pytest

pytestmark = pytest.mark.timeout(180)

DEMO = "assises-insertion"
PASSWORD = "a long password"


def test_invitation_makes_a_new_co_organiser_who_sees_the_process(live_server, browser):
    owner_email = live_server.add_member("owner", PASSWORD, role="owner")
    newcomer_email = f"new-{uuid.uuid4().hex[:8]}@example.org"

    owner = browser.new_context(locale="en-GB")
    newcomer = browser.new_context(locale="en-GB")
    elsewhere = browser.new_context(locale="en-GB")
    errors: list[str] = []
    try:
        page = owner.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(live_server.url + "/login")
        page.fill('input[name="email"]', owner_email)
        page.fill('input[name="password"]', PASSWORD)
        page.click('form.form button[type="submit"]')
        page.wait_for_url("**/organize/")
        page.click("form.lang-switch button[lang=en]")
        page.goto(f"{live_server.url}/organize/{DEMO}")
        page.click("a:text('Members')")
        page.wait_for_url(f"**/organize/{DEMO}/members")
        page.select_option("#invite select[name=role]", "co_organizer")
        page.fill("#invite input[name=label]", "Our new co-organiser")
        page.click("#invite button[type=submit]")
        link = page.input_value("#invitation-link")
        assert link.startswith(live_server.url + "/invite/")
        assert "Our new co-organiser" in page.inner_text("#invitations")

        visitor = newcomer.new_page()
        visitor.on("pageerror", lambda error: errors.append(str(error)))
        visitor.goto(f"{live_server.url}/organize/{DEMO}")
        assert "/login" in visitor.url  # not logged in: nothing to see yet
        visitor.goto(link)
        visitor.click("form.lang-switch button[lang=en]")
        assert "Co-organiser" in visitor.inner_text("main")
        visitor.fill("#email", newcomer_email)
        visitor.fill("#name", "Newcomer")
        visitor.fill("#password", PASSWORD)
        visitor.fill("#confirm", PASSWORD)
        visitor.click("form[action$='/register'] button[type=submit]")
        visitor.wait_for_url(f"**/organize/{DEMO}")
        assert visitor.locator(".finding-number").first.inner_text() == "Finding 1"
        visitor.goto(f"{live_server.url}/organize/")
        assert visitor.locator(f"a[href='/organize/{DEMO}']").count() == 1
        assert "Co-organiser" in visitor.inner_text("main table")

        # The owner sees the newcomer among the members and in the record of changes.
        page.goto(f"{live_server.url}/organize/{DEMO}/members")
        assert newcomer_email in page.inner_text("#members")
        assert "joined through an invitation" in page.inner_text("#history")
        # The link was used: it no longer opens anything, even for someone else.
        stranger = elsewhere.new_page()
        response = stranger.goto(link)
        assert response.status == 404 and "does not work" in stranger.inner_text("main")
        assert errors == []
    finally:
        for context in (owner, newcomer, elsewhere):
            context.close()
