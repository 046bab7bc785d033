"""In real headless Chromium, through the real server: a general assembly admits with
personal tickets (the QR code's link fills the ticket in; a second phone with the same
ticket is sent to the welcome desk), the phone says whether a vote is secret or named
before voting, and the console warns in words when more people joined than expected."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from deliberation import create_app
from deliberation.extensions import db
from deliberation.models import Process
from deliberation.services.live import admission, sessions
from tests.test_live_browser import PHONE, log_in


def prepare_assembly(live_server, tmp_path) -> dict:
    """An assembly on the server's database: tickets by default, two tickets, two items."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test-secret",
            "SQLALCHEMY_DATABASE_URI": live_server.database_url,
            "EXPORTS_DIR": str(tmp_path / "exports"),
        }
    )
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))
        assembly = sessions.create_session(process, "assembly", "Assemblée de clôture")
        assembly.expected_count = 1
        admission.issue_tickets(assembly, 2)
        for text in ("Adoptons-nous la recommandation ?", "Mandatons-nous la délégation ?"):
            sessions.add_agenda_item(assembly, "free", text=text)
        found = {
            "id": assembly.id,
            "code": assembly.join_code,
            "tickets": [admission.format_ticket(t.code) for t in admission.tickets_of(assembly)],
        }
        db.session.remove()
        db.engine.dispose()
    return found


def phone_with_ticket(browser, base: str, code: str, ticket: str, name: str):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/j/{code}?ticket={ticket}")  # what the ticket's QR code opens
    assert page.input_value("#ticket") == ticket
    page.fill("#name", name)
    page.click("#join-form button[type=submit]")
    return context, page


@pytest.mark.timeout(240)
def test_tickets_and_secret_or_named_in_chromium(live_server, browser, tmp_path):
    base = live_server.url
    assembly = prepare_assembly(live_server, tmp_path)
    errors: list[str] = []

    console_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    console = console_context.new_page()
    console.on("pageerror", lambda error: errors.append(f"console: {error}"))
    log_in(console, live_server)
    console.goto(f"{base}/facilitate/session/{assembly['id']}")
    console.wait_for_selector("#connection[data-state=online]")
    assert console.locator("#c-overflow").is_hidden()

    first_ticket, second_ticket = assembly["tickets"]
    ana_context, ana = phone_with_ticket(
        browser, base, assembly["code"], first_ticket, "Ana Ticket"
    )
    ana.on("pageerror", lambda error: errors.append(f"phone: {error}"))
    ana.wait_for_selector("#connection[data-state=online]")

    # The same ticket on another phone: refused, in the process language, with the way out.
    thief_context, thief = phone_with_ticket(
        browser, base, assembly["code"], first_ticket, "Someone else"
    )
    thief.wait_for_selector("#ticket-error")
    assert "accueil" in thief.inner_text("#ticket-error")
    assert thief.get_attribute("#ticket", "aria-invalid") == "true"
    thief_context.close()

    # A second person, with their own ticket: one more than the room was said to hold.
    bob_context, bob = phone_with_ticket(
        browser, base, assembly["code"], second_ticket, "Bob Ticket"
    )
    bob.wait_for_selector("#connection[data-state=online]")
    console.wait_for_selector("#c-overflow:not([hidden])")
    assert "(2)" in console.inner_text("#c-overflow") and "(1)" in console.inner_text("#c-overflow")
    assert console.inner_text("#c-tickets-used") == "2"

    # A secret vote (the default): the phone says so before the ballot.
    console.click("[data-show] >> nth=0")
    console.wait_for_selector("#form-open:not([hidden])")
    assert console.is_checked("#open-secret")
    console.click("#btn-open")
    ana.wait_for_selector("#ballot:not([hidden])")
    assert ana.get_attribute("#poll-privacy", "data-kind") == "secret"
    assert ana.inner_text("#poll-privacy").startswith("Vote secret")
    ana.check("input[name=answer][value=full]")
    ana.click("#send")
    ana.wait_for_selector("#vote-status[data-kind=ok]")
    console.wait_for_function("() => document.getElementById('c-voted').textContent === '1'")
    assert console.locator("#c-secret-hint").is_visible()
    assert console.locator("#c-results .bar-figure").count() == 0  # no distribution yet
    console.click("#btn-close")
    console.wait_for_selector("#c-results .outcome")
    # The real server (gevent) truncated SQLite's write-ahead log after the secret close,
    # in a native thread: the pages that held the named ballots are gone from it.
    wal = Path(live_server.database_url.removeprefix("sqlite:///") + "-wal")
    deadline = time.monotonic() + 60
    while wal.exists() and wal.stat().st_size and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not wal.exists() or wal.stat().st_size == 0

    # The next item, voted by name: the phone says so before the ballot.
    shown_before = console.input_value("#open-item-id")
    console.click("#btn-next")
    # The form is already visible (that of the closed vote): wait for the next item to reach
    # the console, which resets the form, before choosing a named vote on it.
    console.wait_for_function(
        "before => document.getElementById('open-item-id').value !== before", arg=shown_before
    )
    console.wait_for_selector("#form-open:not([hidden])")
    assert console.is_checked("#open-secret")  # never inherited from the last vote
    console.check("#open-named")
    console.select_option("#open-method", "yes_no")
    console.click("#btn-open")
    bob.wait_for_selector("#ballot:not([hidden])")
    assert bob.get_attribute("#poll-privacy", "data-kind") == "named"
    assert bob.inner_text("#poll-privacy").startswith("Vote nominatif")
    bob.check("input[name=answer][value=no]")
    bob.click("#send")
    bob.wait_for_selector("#vote-status[data-kind=ok]")
    ana.wait_for_selector("#ballot:not([hidden])")
    ana.check("input[name=answer][value=abstain]")
    ana.click("#send")
    ana.wait_for_selector("#vote-status[data-kind=ok]")
    console.click("#btn-close")
    console.wait_for_selector("#record-panel:not([hidden])")
    assert "Bob Ticket" in console.inner_text("#record-rows")
    # The abstention is drawn apart from yes / no, last, its share on its own base.
    console.wait_for_selector("#c-results .bar-figure[data-key=abstain]")
    figures = console.eval_on_selector_all(
        "#c-results .bars .bar-figure", "nodes => nodes.map(n => n.dataset.key)"
    )
    assert figures[-1] == "abstain"
    assert console.inner_text("#c-results .bar-figure[data-key=abstain]") == (
        "1 · 50 % of the ballots cast"
    )
    assert console.inner_text("#c-results .bar-figure[data-key=no]") == "1 · 100 %"
    assert console.locator("#c-results .bar-track.apart").count() == 1

    assert errors == []
    for context in (console_context, ana_context, bob_context):
        context.close()
    # The real server's own log (stdout and stderr) names no voter and no choice.
    server_log = live_server.log_path.read_text(errors="replace")
    assert "Serving on" in server_log
    for needle in ("Ana Ticket", "Bob Ticket", '"answer"', "'answer'"):
        assert needle not in server_log
