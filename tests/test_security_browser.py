"""Every page under the Content-Security-Policy in real Chromium: home, log-in, the organiser's
screens (outline with its Markdown preview, item forms, history, settings), consolidation,
exports (a document built and downloaded through exports.js), the published synthesis, the
sessions list, the console, the admission page and a ticket sheet, the projector, the join
and code pages and the phone through a whole vote, the password page. Each must work with
no CSP violation (listened to in the page — ``securitypolicyviolation`` — and in the
console, where Chromium reports them), no script error, and the security headers on every
response the server sends (Socket.IO's engine aside); the live pages must reach the server
over a websocket ('self' covers ws:)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.timeout(300)

DEMO = "assises-insertion"
PHONE = {"width": 360, "height": 640}
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline")
                              + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


class Watch:
    """What a browser context saw: CSP violations, script errors, responses without the
    headers. ``check(page, label)`` collects the page's violations so far."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []
        self.documents: set[str] = set()
        self.responses = 0

    def attach(self, context) -> None:
        context.add_init_script(WATCH_VIOLATIONS)
        context.on("page", self._page)
        context.on("response", self._response)

    def _page(self, page) -> None:
        page.on(
            "pageerror", lambda error: self.problems.append(f"{page.url}: script error {error}")
        )
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"{page.url}: console: {text}")

    def _response(self, response) -> None:
        url = response.url
        if not url.startswith(self.origin) or "/socket.io/" in url:
            return
        self.responses += 1
        headers = response.headers
        missing = [
            name
            for name, expected in (
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "same-origin"),
                ("x-frame-options", "DENY"),
            )
            if headers.get(name) != expected
        ]
        policy = headers.get("content-security-policy", "")
        if "frame-ancestors 'none'" not in policy or "unsafe-inline" in policy:
            missing.append(f"content-security-policy ({policy!r})")
        if response.request.resource_type == "document":
            self.documents.add(url.split("?")[0])
        if missing:
            self.problems.append(f"{url}: headers missing or wrong: {', '.join(missing)}")

    def check(self, page, label: str) -> None:
        page.wait_for_load_state()
        violations = page.evaluate("window.__cspViolations || []")
        self.problems += [f"{label}: CSP violation: {violation}" for violation in violations]
        page.evaluate("window.__cspViolations = []")


def transport(page) -> str:
    """The Socket.IO transport in use once upgraded (the page exposes its socket)."""
    page.wait_for_function(
        "() => window.LiveShared.socket() && window.LiveShared.socket().io.engine"
        " && window.LiveShared.socket().io.engine.transport.name === 'websocket'",
        timeout=15_000,
    )
    return page.evaluate("window.LiveShared.socket().io.engine.transport.name")


def test_every_page_works_under_the_content_security_policy(live_server, browser):
    base = live_server.url
    watch = Watch(base)
    organiser = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
    watch.attach(organiser)
    page = organiser.new_page()

    page.goto(base + "/")
    watch.check(page, "home")
    page.goto(base + "/does-not-exist")
    watch.check(page, "404 page")
    page.goto(base + "/login")
    watch.check(page, "log-in")
    email, password = live_server.demo_login
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/organize/")
    page.click("form.lang-switch button[lang=en]")
    watch.check(page, "processes")
    page.goto(base + "/organize/new")
    watch.check(page, "new process")

    # The outline, then an item form whose Markdown preview follows the typing (fetch +
    # sanitised HTML put in the page by organize.js).
    page.goto(f"{base}/organize/{DEMO}")
    page.wait_for_selector(".finding-number")
    watch.check(page, "outline")
    hypothesis = page.locator('ol[data-kind="hypothesis"] > li').first.get_attribute("data-id")
    page.goto(f"{base}/organize/{DEMO}/hypothesis/{hypothesis}/edit")
    page.fill("textarea#text", "")
    page.type("textarea#text", "Under **the policy** <img src=x onerror=alert(1)>")
    page.wait_for_selector("#text-preview strong:text('the policy')")
    watch.check(page, "item form with preview")
    page.click("form.item-form button.primary")
    page.wait_for_url(f"**/organize/{DEMO}#hypothesis-{hypothesis}")
    page.goto(f"{base}/organize/{DEMO}/hypothesis/{hypothesis}/history")
    watch.check(page, "history")
    page.goto(f"{base}/organize/{DEMO}")
    page.locator("a.add").first.click()
    page.wait_for_selector("textarea")
    watch.check(page, "new item form")
    page.goto(f"{base}/organize/{DEMO}/settings")
    watch.check(page, "settings")

    for path in (
        "consolidation",
        "assembly/new",
        "traceability",
        "grid",
        "grid/table",
        "grid/tags",
    ):
        page.goto(f"{base}/organize/{DEMO}/{path}")
        watch.check(page, path)
    page.goto(f"{base}/organize/{DEMO}/traceability")
    trace = page.locator('a[href*="/trace/"]').first
    if trace.count():
        trace.click()
        page.wait_for_load_state()
        watch.check(page, "trace of one item")

    # Exports: exports.js starts the document and follows it to its download link.
    page.goto(f"{base}/organize/{DEMO}/exports")
    watch.check(page, "exports")
    page.locator("form.export-start button").first.click()
    page.wait_for_selector(".export-job .export-state a", timeout=120_000)
    watch.check(page, "exports with a document built")
    page.click("form[action$='/exports/publish'] button")
    page.wait_for_load_state()
    page.goto(f"{base}/p/{DEMO}")
    page.wait_for_selector("article.synthesis")
    watch.check(page, "published synthesis")

    page.goto(f"{base}/account/password")
    watch.check(page, "password page")

    # A live session: console, projector, a phone through join, a vote and its results.
    page.goto(f"{base}/facilitate/{DEMO}/sessions")
    watch.check(page, "sessions")
    page.fill("#title", "Atelier sous CSP")
    page.select_option("#field_id", index=1)
    page.click("#new button[type=submit]")
    page.wait_for_selector("#btn-fill")
    page.click("#btn-fill")
    page.wait_for_selector("#agenda-list li")
    code = re.search(r"/projector/([A-Z0-9]{6})", page.content()).group(1)
    page.wait_for_selector("#connection[data-state=online]")
    assert transport(page) == "websocket"
    watch.check(page, "console")
    console_url = page.url.split("#")[0]

    # Admission: personal tickets issued, and their print sheet (QR codes in SVG).
    admission = organiser.new_page()
    admission.goto(console_url + "/tickets")
    watch.check(admission, "admission")
    admission.fill("#count", "2")
    admission.click("#btn-issue")
    admission.wait_for_selector("a[href*='/tickets/print?batch=']")
    watch.check(admission, "admission with a batch")
    admission.goto(console_url + "/tickets/print")
    admission.wait_for_selector("svg")
    watch.check(admission, "ticket sheet")
    admission.close()

    screen = browser.new_context(viewport={"width": 1920, "height": 1080})
    watch.attach(screen)
    projector = screen.new_page()
    projector.goto(f"{base}/projector/{code}")
    projector.wait_for_selector("#p-idle svg")
    watch.check(projector, "projector")

    hand = browser.new_context(viewport=PHONE, is_mobile=True)
    watch.attach(hand)
    phone = hand.new_page()
    phone.goto(base + "/j")
    watch.check(phone, "enter code")
    phone.goto(base + "/j?code=ZZZZZZ")
    watch.check(phone, "unknown code")
    phone.goto(f"{base}/j/{code}")
    watch.check(phone, "join")
    phone.click("#join-form button[type=submit]")
    phone.wait_for_selector("#connection[data-state=online]")
    assert transport(phone) == "websocket"
    watch.check(phone, "phone")

    page.click("[data-show] >> nth=0")
    page.select_option("#open-method", "consensus")
    page.check("#open-named")  # a named vote: its live results go to the projector
    page.check("#open-show-live")
    page.click("#btn-open")
    phone.wait_for_selector("#ballot:not([hidden])")
    phone.check("input[name=answer][value=full]")
    phone.click("#send")
    phone.wait_for_selector("#vote-status[data-kind=ok]")
    # Results drawn by live-results.js (bar widths set through the CSSOM, not style=).
    projector.wait_for_function(
        "() => (document.querySelector('#p-results .bar-figure[data-key=full]') || {}).textContent"
        " === '1 · 100 %'"
    )
    page.click("#btn-close")
    page.click("#btn-publish")
    phone.wait_for_selector("#phone-results:not([hidden]) .outcome")
    for label, live_page in (("console", page), ("projector", projector), ("phone", phone)):
        watch.check(live_page, f"{label} after a vote")

    for context in (organiser, screen, hand):
        context.close()
    assert not watch.problems, "\n".join(watch.problems)
    # The walk did reach the pages it names (not a walk through error pages).
    # (The join form answers with the phone page itself: its document is /j/<code>'s.)
    for path in ("/organize/", f"/organize/{DEMO}/exports", f"/p/{DEMO}", f"/j/{code}"):
        assert base + path in watch.documents, path
    assert watch.responses > 40
