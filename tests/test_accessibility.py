"""WCAG 2.1 A/AA checks with axe-core (vendored in tests/vendor/axe) in real headless
Chromium, on the pages people use: home, code entry, the phone pages (360×640) with a poll
open, the projector (1920×1080) idle and with results, the facilitator's console and the
organiser's screens. One server and one browser for the whole module, to stay fast."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer

pytestmark = pytest.mark.timeout(180)

AXE = Path(__file__).resolve().parent / "vendor" / "axe" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DEMO = "assises-insertion"
PASSWORD = "an accessible password"
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}


def axe_violations(page) -> list[dict]:
    """Run axe on the page as it is now (scripts done, live state drawn)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's devtools channel: the pages' Content-Security-Policy
        # refuses inline scripts, which add_script_tag would insert.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async tags => {
             const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
             return result.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
             }));
           }""",
        WCAG_TAGS,
    )


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}  —  {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def check(page, label: str, found: dict[str, list[dict]]) -> None:
    found[label] = axe_violations(page)


def zoomed_width(page) -> int:
    """Width of the page with its text at 200 % (WCAG 1.4.4): on a 360 px phone nothing may
    push the page sideways. Measured against 360, not window.innerWidth, which a mobile
    viewport widens to fit whatever overflows."""
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.evaluate("document.documentElement.style.fontSize = ''")
    return width


def assert_clean(found: dict[str, list[dict]]) -> None:
    report = [f"{label}:\n{describe(v)}" for label, v in found.items() if v]
    assert not report, "axe found WCAG 2.1 A/AA violations\n" + "\n".join(report)


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_database):
    """The demo served once for the module, an organiser, and one Chromium."""
    import shutil

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    server = LiveServer(tmp_path_factory.mktemp("a11y"))
    target = Path(server.database_url.removeprefix("sqlite:///"))
    database = Path(demo_database.database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        source = database.with_name(database.name + suffix)
        if source.exists():
            shutil.copy(source, target.with_name(target.name + suffix))
    email = f"a11y-{uuid.uuid4().hex[:8]}@example.org"
    server.flask("create-organizer", email, input=f"{PASSWORD}\n{PASSWORD}\n")
    server.flask("add-member", DEMO, email, "--role", "owner")
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            organiser = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = organiser.new_page()
            page.goto(server.url + "/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/organize/")
            page.close()
            yield server, browser, organiser
            browser.close()
    finally:
        server.stop()


def test_public_pages(site):
    server, browser, _organiser = site
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    found: dict[str, list[dict]] = {}
    page.goto(server.url + "/")
    check(page, "home (360×640)", found)
    page.goto(server.url + "/j")
    check(page, "/j enter code", found)
    page.goto(server.url + "/j?code=ZZZZZZ")  # the error state of the same form
    check(page, "/j with an unknown code", found)
    context.close()
    assert_clean(found)


def test_live_workshop_pages(site):
    """Console, projector and a phone through one poll: join, open, vote, reveal."""
    server, browser, organiser = site
    found: dict[str, list[dict]] = {}
    console = organiser.new_page()
    console.goto(f"{server.url}/facilitate/{DEMO}/sessions")
    check(console, "session list", found)
    console.fill("#title", "Atelier accessibilité")
    console.select_option("#field_id", index=1)
    console.click("#new button[type=submit]")
    console.wait_for_selector("#btn-fill")
    console.click("#btn-fill")
    console.wait_for_selector("#agenda-list li")
    code = re.search(r"/projector/([A-Z0-9]{6})", console.content()).group(1)
    console.wait_for_selector("#connection[data-state=online]")
    check(console, "console (idle)", found)

    screen = browser.new_context(viewport=PROJECTOR)
    projector = screen.new_page()
    projector.goto(f"{server.url}/projector/{code}")
    projector.wait_for_selector("#p-idle svg")
    check(projector, "projector idle (1920×1080)", found)

    phone_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    phone = phone_context.new_page()
    phone.goto(f"{server.url}/j/{code}")
    check(phone, "phone join /j/<code>", found)
    assert zoomed_width(phone) <= PHONE["width"], "join page scrolls sideways at 200 % text"
    phone.fill("#name", "Ana")
    phone.check("input[name=group][value=service_user]")
    phone.click("#join-form button[type=submit]")
    phone.wait_for_selector("#connection[data-state=online]")
    check(phone, "phone /s/<code> waiting", found)

    console.click("[data-show] >> nth=0")
    projector.wait_for_selector("#projector[data-state=item]")
    console.select_option("#open-method", "consensus")
    console.click("#btn-open")
    phone.wait_for_selector("#ballot:not([hidden])")
    projector.wait_for_selector("#projector[data-state=open]")
    check(phone, "phone /s/<code> poll open", found)
    assert zoomed_width(phone) <= PHONE["width"], "ballot scrolls sideways at 200 % text"
    check(console, "console (poll open)", found)
    check(projector, "projector poll open", found)
    phone.check("input[name=answer][value=full]")
    phone.click("#send")
    phone.wait_for_selector("#vote-status[data-kind=ok]")
    check(phone, "phone /s/<code> vote recorded", found)

    console.click("#btn-close")
    console.wait_for_selector("#form-publish:not([hidden])")
    console.click("#btn-publish")
    projector.wait_for_selector("#p-results .outcome")
    phone.wait_for_selector("#phone-results:not([hidden]) .outcome")
    check(projector, "projector results (1920×1080)", found)
    check(phone, "phone /s/<code> results", found)
    assert zoomed_width(phone) <= PHONE["width"], "results scroll sideways at 200 % text"
    check(console, "console (results)", found)

    for context in (screen, phone_context):
        context.close()
    console.close()
    assert_clean(found)


def test_organiser_pages(site):
    server, _browser, organiser = site
    page = organiser.new_page()
    found: dict[str, list[dict]] = {}
    page.goto(f"{server.url}/organize/")
    check(page, "organiser index", found)
    page.goto(f"{server.url}/organize/{DEMO}")
    check(page, "outline", found)
    edit = page.get_attribute(".item-actions a[href*='/hypothesis/'][href$='/edit']", "href")
    page.goto(server.url + edit)
    page.wait_for_selector("textarea#text")
    check(page, "item edit form", found)
    page.goto(f"{server.url}/organize/{DEMO}/exports")
    check(page, "exports", found)
    page.goto(f"{server.url}/organize/{DEMO}/consolidation")
    check(page, "consolidation", found)
    page.goto(f"{server.url}/organize/{DEMO}/members")
    page.click("#invite button[type=submit]")  # the page with a new invitation link
    page.wait_for_selector("#invitation-link")
    check(page, "members", found)
    page.close()
    assert_clean(found)


def test_expert_and_handout_pages(site):
    """The organisers' experts and handouts pages; the expert's page on a phone (with its
    error state); the process's public page of documents on a phone."""
    server, browser, organiser = site
    page = organiser.new_page()
    found: dict[str, list[dict]] = {}
    page.goto(f"{server.url}/organize/{DEMO}/experts")
    page.fill("#name", "Expert a11y")
    page.click("form.form button.primary")  # the page with a new personal link
    page.wait_for_selector("#expert-link")
    link = page.input_value("#expert-link")
    check(page, "experts (with a new link)", found)
    page.locator("table.data a").first.click()
    page.wait_for_load_state()
    check(page, "an expert's review page", found)
    page.goto(f"{server.url}/organize/{DEMO}/handouts")
    check(page, "handouts", found)
    page.close()
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    phone = context.new_page()
    phone.goto(link)
    check(phone, "the expert's page (360×640)", found)
    assert zoomed_width(phone) <= 360, "the expert's page scrolls sideways at 200 %"
    phone.locator("select[id^=stance-]").first.select_option("supports")
    phone.click("button[value=submit]")
    phone.wait_for_selector("p.error[role=alert]")
    check(phone, "the expert's page with errors", found)
    phone.goto(f"{server.url}/p/{DEMO}/documents")
    check(phone, "the public documents (360×640)", found)
    assert zoomed_width(phone) <= 360, "the public documents scroll sideways at 200 %"
    context.close()
    assert_clean(found)
