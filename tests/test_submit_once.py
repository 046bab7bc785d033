"""A create form sent twice (Back then Send again, a double tap) creates its thing once;
a form that came back with errors can be corrected and sent with the same token."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import test_organize_views
from conftest import CHROMIUM, CHROMIUM_ARGS, log_in
from playwright.sync_api import sync_playwright
from test_organize_views import count, one

from deliberation.models import Field, Finding
from deliberation.views.once import FIELD

ROOT = Path(__file__).resolve().parent.parent
# The organiser's client and their process, as the outline's own tests make them.
organizer = test_organize_views.organizer
process = test_organize_views.process
TOKEN = re.compile(rf'name="{FIELD}" value="([A-Za-z0-9_-]+)"')


def token_of(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "the form carries no submission token"
    return found.group(1)


def test_the_same_form_sent_twice_creates_one_finding(app, process, organizer):
    field = one(app, Field)
    url = f"/organize/assises/finding/new?parent={field.id}"
    token = token_of(organizer.get(url).get_data(as_text=True))
    data = {"text": "Un constat", FIELD: token}
    first = organizer.post(url, data=data)
    second = organizer.post(url, data=data)
    assert first.status_code == 302 and second.status_code == 302
    assert second.location == first.location
    assert count(app, Finding) == 1
    page = organizer.get(second.location).get_data(as_text=True)
    assert "already been sent: it was saved once, not twice" in page
    # A new visit to the form is a new form: it creates a second finding.
    again = token_of(organizer.get(url).get_data(as_text=True))
    assert again != token
    organizer.post(url, data={"text": "Un autre constat", FIELD: again})
    assert count(app, Finding) == 2


def test_a_form_with_errors_can_be_corrected_and_sent_with_its_token(app, process, organizer):
    field = one(app, Field)
    url = f"/organize/assises/finding/new?parent={field.id}"
    token = token_of(organizer.get(url).get_data(as_text=True))
    refused = organizer.post(url, data={"text": "", FIELD: token})
    assert refused.status_code == 400 and count(app, Finding) == 0
    accepted = organizer.post(url, data={"text": "Corrigé", FIELD: token})
    assert accepted.status_code == 302 and count(app, Finding) == 1


def test_a_malformed_token_is_ignored_not_refused(app, process, organizer):
    field = one(app, Field)
    url = f"/organize/assises/finding/new?parent={field.id}"
    for junk in ("", "x", "<script>" * 10, "é" * 30):
        assert organizer.post(url, data={"text": f"C {junk!r}", FIELD: junk}).status_code == 302
    assert count(app, Finding) == 4


def protected_endpoints(app) -> set[str]:
    # functools.wraps carries the mark through the decorators stacked above (the limiter).
    return {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "once_per_form", False)
    }


# The create forms, by the endpoint they post to, and the template holding the form.
CREATE_FORMS = {
    "organize.new_process": "organize/process_new.html",
    "organize.add_territory": "organize/settings.html",
    "organize.new_item": "organize/item_form.html",
    "facilitate.session_create": "live/sessions.html",
    "facilitate.agenda_add": "live/console.html",
    "followup.record_status": "organize/followup_item.html",
    "followup.add_link": "organize/followup_item.html",
    "members.invite": "members/index.html",
    "consolidate.new_assembly": "consolidate/assembly.html",
    "admission.issue": "live/tickets.html",
    "published_comments.post_comment": "published/recommendation.html",
    "registration.submit": "registration/form.html",
    "registration_admin.on_behalf": "registration/form.html",
    "registration_admin.create_event": "registration/event_form.html",
    "published_support.sign": "published/_support.html",
    "experts.send": "experts/write.html",  # drafts and submits: one per form drawn
    "experts_admin.invite": "experts/admin.html",
}

# Pages whose form posts back to the page's own address (no action attribute).
SELF_POSTING = {"organize.new_process", "organize.new_item", "consolidate.new_assembly"}


def test_every_create_form_is_protected_and_carries_its_token(app):
    assert protected_endpoints(app) == set(CREATE_FORMS)
    for endpoint, template in CREATE_FORMS.items():
        source = (ROOT / "templates" / template).read_text(encoding="utf-8")
        forms = re.findall(r"<form[^>]*>.*?</form>", source, flags=re.S)
        short = endpoint.split(".", 1)[1]
        posting = [
            form
            for form in forms
            if f"'{endpoint}'" in form.split(">", 1)[0]
            or (f".{short}'" in form.split(">", 1)[0])
            or (endpoint in SELF_POSTING and "action=" not in form.split(">", 1)[0])
        ]
        assert posting, f"no form in {template} posts to {endpoint}"
        assert all("once_field()" in form for form in posting), (endpoint, template)


@pytest.fixture
def browser_with_history_cache():
    """Chromium as people run it: Playwright turns the back-forward cache off by default
    (``--disable-back-forward-cache``); Back then restores the page as the user left it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            ignore_default_args=["--disable-back-forward-cache"],
        )
        yield browser
        browser.close()


@pytest.mark.timeout(180)
def test_back_then_send_again_in_chromium(live_server, browser_with_history_cache):
    """What an organiser does: save a finding, press Back, press Save again."""
    browser = browser_with_history_cache
    password = "a long password"
    email = live_server.add_member("once", password)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, live_server.url, email, password)
        page.goto(f"{live_server.url}/organize/assises-insertion")
        page.click('a.add[href*="/finding/new"]')
        token = page.input_value('input[name="submission"]')
        text = f"Constat envoyé deux fois {uuid.uuid4().hex[:6]}"
        page.fill('textarea[name="text"]', text)
        page.click('form.item-form button[type="submit"]')
        page.wait_for_load_state()
        assert text in page.content()
        page.go_back(wait_until="commit")  # a page from that cache fires no load event
        page.wait_for_selector('form.item-form button[type="submit"]')
        # Restored from the back-forward cache, as browsers do: the same form, its token.
        assert page.input_value('input[name="submission"]') == token
        if not page.input_value('textarea[name="text"]'):
            page.fill('textarea[name="text"]', text)  # a browser that does not restore it
        page.click('form.item-form button[type="submit"]')
        page.wait_for_load_state()
        assert page.locator("text=it was saved once, not twice").count() == 1
        page.goto(f"{live_server.url}/organize/assises-insertion")
        assert page.content().count(text) == 1
    finally:
        context.close()
