"""Registration in real headless Chromium, through the real server: a person registers from
a phone (360×640), gets a ticket, is checked in at the door by an organiser's phone, joins
the ticket-only general assembly with it (the same ticket on another phone is refused) and
votes; a full event refuses and offers the waiting list; bad input gets clear messages in
French; registrations survive a restart; the list is the organisers' only."""

from __future__ import annotations

import pytest

from deliberation import create_app
from deliberation.extensions import db
from deliberation.models import Process
from deliberation.services.live import admission, sessions
from deliberation.services.registration import events, registrations
from tests.test_live_browser import PHONE, log_in

SLUG = "assises-insertion"


def prepare(live_server, tmp_path) -> dict:
    """On the server's database: the demo's assembly event gets a ticket-only session with
    one item, and a workshop of one place, already taken."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test-secret",
            "SQLALCHEMY_DATABASE_URI": live_server.database_url,
            "EXPORTS_DIR": str(tmp_path / "exports"),
        }
    )
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug=SLUG))
        assembly = sessions.create_session(process, "assembly", "Assemblée plénière")
        admission.set_admission(assembly, "tickets")
        sessions.add_agenda_item(assembly, "free", text="Validons-nous les réponses ?")
        event = events.events_of(process)[0]
        events.save_event(
            process,
            {
                "title": event.title,
                "kind": event.kind,
                "starts_at": event.starts_at.strftime(events.DATETIME_FORMAT),
                "place": event.place,
                "capacity": str(event.capacity),
                "session_ids": [str(assembly.id)],
            },
            event,
        )
        small = events.save_event(
            process,
            {
                "title": "Atelier de 1 place",
                "kind": "workshop",
                "starts_at": "2014-10-02T14:00",
                "capacity": "1",
            },
        )
        registrations.register(
            process,
            {"name": "Première", "group": "other", "event_ids": [str(small.id)]},
        )
        found = {"session": assembly.id, "code": assembly.join_code, "event": event.id}
        found["small"] = small.id
        db.session.remove()
        db.engine.dispose()
    return found


def phone(browser):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="fr-BE"
    )
    return context, context.new_page()


@pytest.mark.timeout(240)
def test_register_check_in_join_and_vote_in_chromium(live_server, browser, tmp_path):
    base = live_server.url
    world = prepare(live_server, tmp_path)
    errors: list[str] = []

    person_context, person = phone(browser)
    person.on("pageerror", lambda error: errors.append(f"phone: {error}"))
    person.goto(f"{base}/p/{SLUG}/register")
    # Nothing overflows the phone's width.
    assert person.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Bad input first: empty, then over-long, then a hostile string, each told in French.
    person.click("form.registration-form button[type=submit]")
    assert person.inner_text("#name-error") == "Ce champ est obligatoire."
    assert "Choisissez au moins un événement." in person.inner_text("#event_ids-error")
    person.evaluate("document.getElementById('name').removeAttribute('maxlength')")
    person.fill("#name", "N" * 200)
    person.click("form.registration-form button[type=submit]")
    assert person.inner_text("#name-error") == "Au plus 120 caractères."

    person.fill("#name", "Nathalie <script>alert(1)</script>")
    person.fill("#organisation", "CSEF de Namur")
    person.select_option("#group", "social_worker")
    person.check(f"input[name=event_ids][value='{world['event']}']")
    person.fill("#accessibility", "Boucle magnétique")
    person.click("form.registration-form button[type=submit]")
    person.wait_for_selector(".ticket-code")
    assert "Vous êtes inscrit" in person.inner_text(".flashes")
    assert "<script>" in person.inner_text(".ticket")  # shown as text, never run
    assert person.locator(".ticket-qr svg").count() == 1
    code = person.inner_text(".ticket-code strong")
    private_link = person.url

    # At the door: the organiser's phone opens the ticket's link (what its QR code holds).
    door_context, door = phone(browser)
    log_in(door, live_server)
    door.goto(f"{base}/t/{SLUG}/{code}")
    assert "Enregistré·e" in door.inner_text("main")
    roster = door.goto(f"{base}/organize/{SLUG}/registration/events/{world['event']}")
    assert roster.status == 200 and "Nathalie" in door.inner_text("table.roster")

    # The person joins the ticket-only session from their ticket's link.
    person.goto(f"{base}/t/{SLUG}/{code}")
    person.click("text=Assemblée plénière")
    assert person.input_value("#ticket") == code
    person.fill("#name", "Nathalie")
    person.click("#join-form button[type=submit]")
    person.wait_for_selector("#connection[data-state=online]")

    # The same ticket on another phone: refused, sent to the welcome desk.
    thief_context, thief = phone(browser)
    thief.goto(f"{base}/j/{world['code']}?ticket={code}")
    thief.fill("#name", "Quelqu'un d'autre")
    thief.click("#join-form button[type=submit]")
    thief.wait_for_selector("#ticket-error")
    assert "accueil" in thief.inner_text("#ticket-error")
    thief_context.close()

    # A vote: the registered person's ballot counts, in their registered group.
    console_context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-BE")
    console = console_context.new_page()
    log_in(console, live_server)
    console.goto(f"{base}/facilitate/session/{world['session']}")
    console.wait_for_selector("#connection[data-state=online]")
    console.click("[data-show] >> nth=0")
    console.wait_for_selector("#form-open:not([hidden])")
    console.click("#btn-open")
    person.wait_for_selector("#ballot:not([hidden])")
    person.check("input[name=answer][value=full]")
    person.click("#send")
    person.wait_for_selector("#vote-status[data-kind=ok]")
    console.wait_for_function("() => document.getElementById('c-voted').textContent === '1'")
    console_context.close()

    # A full workshop refuses, and offers its waiting list.
    late_context, late = phone(browser)
    late.goto(f"{base}/p/{SLUG}/register")
    assert "Complet" in late.inner_text(f"label:has(input[value='{world['small']}'])")
    late.fill("#name", "Arrivée tardive")
    late.select_option("#group", "employer")
    late.check(f"input[name=event_ids][value='{world['small']}']")
    late.click("form.registration-form button[type=submit]")
    assert "Complet" in late.inner_text("#event_ids-error")
    assert late.is_checked("input[name=waiting_list]")  # offered, ticked for them
    late.click("form.registration-form button[type=submit]")
    late.wait_for_selector(".my-events")
    assert "liste d’attente" in late.inner_text(".my-events")
    late_context.close()

    # Nobody but the organisers sees the list.
    anonymous_context, anonymous = phone(browser)
    anonymous.goto(f"{base}/organize/{SLUG}/registration/events/{world['event']}")
    assert "/login" in anonymous.url
    anonymous_context.close()

    # A restart loses nothing: the private link still shows the ticket.
    live_server.kill()
    live_server.start()
    person.goto(private_link)
    assert person.inner_text(".ticket-code strong") == code
    door.goto(f"{base}/organize/{SLUG}/registration/events/{world['event']}")
    assert "présent" in door.inner_text("table.roster")
    person_context.close()
    door_context.close()
    assert errors == []
