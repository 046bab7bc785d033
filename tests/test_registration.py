"""Events and registration (issue 15): the public form, places and the waiting list, the
personal ticket (a ticket of the existing mechanism, in each session of the events), the
private link, the organisers' lists, check-in at the door and attendance for the Actes."""

from __future__ import annotations

import csv
import io
import re

import pytest
from docx import Document

from deliberation import create_app
from deliberation.extensions import db
from deliberation.models import (
    Event,
    Organizer,
    Participant,
    Place,
    Process,
    Registration,
    Ticket,
)
from deliberation.services.live import admission, sessions
from deliberation.services.registration import events, registrations
from deliberation.services.registration.errors import RegistrationError
from tests.live_fixtures import make_member, make_process

FORM = {"name": "Nathalie", "organisation": "CSEF", "group": "social_worker"}


@pytest.fixture
def world(app):
    """A French process, registration open, an assembly (tickets, 2 places) and a workshop."""
    with app.app_context():
        process = make_process(language="fr")
        organizer = Organizer(email="organiser@example.org", name="Org")
        organizer.set_password("secret-password")
        db.session.add(organizer)
        db.session.commit()
        make_member(process.id, organizer.id, "co_organizer")
        assembly = sessions.create_session(process, "assembly", "Assemblée générale")
        admission.set_admission(assembly, "tickets")
        territory_id = process.territories[0].id
        ag = events.save_event(
            process,
            {
                "title": "Assemblée générale",
                "kind": "assembly",
                "starts_at": "2014-11-21T09:00",
                "place": "Namur",
                "capacity": "2",
                "session_ids": [str(assembly.id)],
            },
        )
        workshop = events.save_event(
            process,
            {
                "title": "Atelier Liège",
                "kind": "workshop",
                "starts_at": "2014-10-02T14:00",
                "capacity": "30",
                "territory_id": str(territory_id),
            },
        )
        events.set_window(process, True, "")
        ids = {
            "slug": process.slug,
            "process_id": process.id,
            "assembly": assembly.id,
            "assembly_code": assembly.join_code,
            "ag": ag.id,
            "workshop": workshop.id,
            "organizer_id": organizer.id,
        }
    return ids


def logged_in(client, world):
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{world['organizer_id']}:0"
        flask_session["_fresh"] = True
    return client


def register(client, world, **form):
    data = {**FORM, "event_ids": [str(world["ag"])], **form}
    client.get(f"/p/{world['slug']}/register")
    return client.post(f"/p/{world['slug']}/register", data=data)


def test_a_person_registers_and_gets_a_personal_ticket_for_the_events_sessions(app, world):
    client = app.test_client()
    page = client.get(f"/p/{world['slug']}/register")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Assemblée générale" in html and "2 places restantes" in html
    response = register(client, world, accessibility="Fauteuil roulant", listed="1")
    assert response.status_code == 302 and "/r/" in response.location
    ticket_page = client.get(response.location)
    html = ticket_page.get_data(as_text=True)
    assert ticket_page.headers["Cache-Control"] == "no-store"
    assert "<svg" in html and "Vous êtes inscrit" in html
    code = re.search(r"<strong>([A-Z0-9]{5}-[A-Z0-9]{5})</strong>", html).group(1)
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert registration.accessibility == "Fauteuil roulant" and registration.listed
        tickets = db.session.scalars(db.select(Ticket)).all()
        # One ticket, of the existing mechanism, in the assembly's one session.
        assert [(t.session_id, t.origin, admission.format_ticket(t.code)) for t in tickets] == [
            (world["assembly"], "registration", code)
        ]
        assert registrations.participating_organisations(registration.process) == ["CSEF"]


def test_the_ticket_joins_once_and_the_group_comes_from_the_registration(app, world):
    client = app.test_client()
    register(client, world)
    with app.app_context():
        code = db.session.scalar(db.select(Registration.code))
    phone = app.test_client()
    join_url = f"/j/{world['assembly_code']}"
    phone.get(join_url)
    joined = phone.post(join_url, data={"name": "N", "group": "employer", "ticket": code})
    assert joined.status_code == 200 and 'id="ballot"' in joined.get_data(as_text=True)
    other = app.test_client()
    other.get(join_url)
    refused = other.post(join_url, data={"name": "", "group": "", "ticket": code})
    assert refused.status_code == 403
    with app.app_context():
        participants = db.session.scalars(db.select(Participant)).all()
        assert [p.group for p in participants] == ["social_worker"]


def test_a_full_event_refuses_and_offers_the_waiting_list_then_promotes_on_cancel(app, world):
    first, second = app.test_client(), app.test_client()
    mine = [register(first, world, name=f"P{i}").location for i in range(1)]
    register(second, world, name="P1")
    third = app.test_client()
    full = register(third, world, name="P2")
    html = full.get_data(as_text=True)
    assert full.status_code == 422
    assert "Complet" in html and 'name="waiting_list" value="1" checked' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 2
    waiting = register(third, world, name="P2", waiting_list="1")
    assert waiting.status_code == 302
    assert "liste d’attente" in third.get(waiting.location).get_data(as_text=True)
    with app.app_context():
        p2 = db.session.scalar(db.select(Registration).filter_by(name="P2"))
        assert [p.status for p in p2.places] == ["waiting"]
        assert db.session.scalar(db.select(Ticket).filter_by(registration_id=p2.id)) is None
    # The first cancels through the private link: P2 gets the place and a ticket.
    assert first.post(mine[0] + "/cancel").status_code == 302
    with app.app_context():
        p0 = db.session.scalar(db.select(Registration).filter_by(name="P0"))
        p2 = db.session.scalar(db.select(Registration).filter_by(name="P2"))
        assert p0.cancelled_at is not None
        assert db.session.scalar(db.select(Ticket).filter_by(registration_id=p0.id)).voided_at
        assert [p.status for p in p2.places] == ["confirmed"]
        assert db.session.scalar(db.select(Ticket).filter_by(registration_id=p2.id)) is not None


@pytest.mark.parametrize(
    "form, message",
    [
        ({"name": ""}, "Ce champ est obligatoire."),
        ({"name": "x" * 121}, "Au plus 120 caractères."),
        ({"group": "<script>alert(1)</script>"}, "Choisissez votre groupe"),
        ({"event_ids": []}, "Choisissez au moins un événement."),
        ({"event_ids": ["999999"]}, "Choisissez au moins un événement."),
        ({"email": "not an address"}, "ne semble pas correcte"),
        ({"accessibility": "x" * 1001}, "Au plus 1000 caractères."),
    ],
)
def test_bad_input_gets_a_clear_message_in_french_and_saves_nothing(app, world, form, message):
    client = app.test_client()
    response = register(client, world, **form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert "<script>alert" not in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 0


def test_hostile_strings_are_stored_as_text_and_escaped(app, world):
    client = app.test_client()
    response = register(
        client, world, name="<img src=x onerror=alert(1)>\x07 =cmd", organisation="=HYPERLINK(1)"
    )
    page = client.get(response.location).get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page
    owner = logged_in(app.test_client(), world)
    body = owner.get(
        f"/organize/{world['slug']}/registration/events/{world['ag']}/registrations.csv"
    )
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True))))
    assert rows[1][1] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet


def test_a_form_sent_twice_registers_once(app, world):
    client = app.test_client()
    page = client.get(f"/p/{world['slug']}/register").get_data(as_text=True)
    token = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    data = {**FORM, "event_ids": [str(world["ag"])], "submission": token}
    first = client.post(f"/p/{world['slug']}/register", data=data)
    again = client.post(f"/p/{world['slug']}/register", data=data)
    assert first.status_code == again.status_code == 302
    assert first.location == again.location
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1


def test_closed_registration_refuses_the_public_but_not_the_organisers(app, world):
    with app.app_context():
        process = db.session.get(Process, world["process_id"])
        events.set_window(process, True, "2000-01-01T00:00")
    client = app.test_client()
    assert "Les inscriptions sont closes." in client.get(f"/p/{world['slug']}/register").get_data(
        as_text=True
    )
    assert register(client, world).status_code == 422
    owner = logged_in(app.test_client(), world)
    owner.get(f"/organize/{world['slug']}/registration/new")
    done = owner.post(
        f"/organize/{world['slug']}/registration/new",
        data={**FORM, "event_ids": [str(world["ag"])]},
    )
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Registration.by_organiser)) is True


def test_a_process_that_never_opened_registration_is_not_revealed(app, world):
    assert app.test_client().get("/p/nope/register").status_code == 404
    assert app.test_client().get("/r/" + "x" * 43).status_code == 404
    assert app.test_client().get(f"/t/{world['slug']}/AAAAA-AAAAA").status_code == 404


def test_the_private_link_changes_the_registration(app, world):
    client = app.test_client()
    mine = register(client, world).location
    assert client.get(mine + "/change").status_code == 200
    changed = client.post(
        mine + "/change",
        data={**FORM, "name": "Nathalie P.", "event_ids": [str(world["workshop"])]},
    )
    assert changed.status_code == 302
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert registration.name == "Nathalie P."
        assert [p.event_id for p in registration.places] == [world["workshop"]]
        # The assembly's ticket is void: the place was given back.
        assert db.session.scalar(db.select(Ticket)).voided_at is not None


def test_check_in_by_the_ticket_link_and_by_code_and_attendance(app, world):
    client = app.test_client()
    register(client, world)
    with app.app_context():
        code = admission.format_ticket(db.session.scalar(db.select(Registration.code)))
    # The holder sees where the ticket admits them; nothing is marked.
    holder = app.test_client().get(f"/t/{world['slug']}/{code}").get_data(as_text=True)
    assert f"/j/{world['assembly_code']}?ticket={code}" in holder
    with app.app_context():
        assert db.session.scalar(db.select(Place.attended_at)) is None
    owner = logged_in(app.test_client(), world)
    page = owner.get(f"/t/{world['slug']}/{code}").get_data(as_text=True)
    assert "Enregistré" in page
    with app.app_context():
        assert db.session.scalar(db.select(Place.attended_at)) is not None
    again = owner.post(
        f"/organize/{world['slug']}/registration/check-in", data={"code": code.lower()}
    )
    assert again.status_code == 302
    unknown = owner.post(
        f"/organize/{world['slug']}/registration/check-in",
        data={"code": "ZZZZZ-ZZZZZ"},
        follow_redirects=True,
    )
    assert "Aucune inscription" in unknown.get_data(as_text=True)
    with app.app_context():
        process = db.session.get(Event, world["ag"]).process
        rows = registrations.attendance(process)
        ag = next(r for r in rows if r["event"] == "Assemblée générale")
        assert ag["groups"] == {"social_worker": {"registered": 1, "attended": 1}}
        workshop = next(r for r in rows if r["event"] == "Atelier Liège")
        assert workshop["territory"] == "Liège" and workshop["registered"] == 0


def test_organisers_list_counts_and_sign_in_sheet(app, world):
    client = app.test_client()
    register(client, world, name="Zoé")
    register(app.test_client(), world, name="Amir", group="employer")
    owner = logged_in(app.test_client(), world)
    base = f"/organize/{world['slug']}/registration"
    assert "Assemblée générale" in owner.get(base).get_data(as_text=True)
    roster = owner.get(f"{base}/events/{world['ag']}").get_data(as_text=True)
    assert roster.index("Amir") < roster.index("Zoé") and "Employeur" in roster
    sheet = owner.get(f"{base}/events/{world['ag']}/sign-in.docx")
    assert sheet.status_code == 200
    document = Document(io.BytesIO(sheet.data))
    cells = [c.text for row in document.tables[0].rows for c in row.cells]
    assert "Amir" in cells and "Zoé" in cells and "Signature" in cells
    # Nobody but the organisers: an anonymous visitor is sent to log in.
    anonymous = app.test_client().get(f"{base}/events/{world['ag']}")
    assert anonymous.status_code == 302 and "/login" in anonymous.location


def test_linking_a_session_later_issues_the_tickets_and_unlinking_voids_them(app, world):
    register(app.test_client(), world)
    with app.app_context():
        process = db.session.get(Event, world["ag"]).process
        second = sessions.create_session(process, "assembly", "Après-midi")
        event = db.session.get(Event, world["ag"])
        form = {
            "title": event.title,
            "kind": event.kind,
            "starts_at": "2014-11-21T09:00",
            "capacity": "2",
            "session_ids": [str(world["assembly"]), str(second.id)],
        }
        events.save_event(process, form, event)
        codes = {t.session_id: t.code for t in db.session.scalars(db.select(Ticket))}
        assert set(codes) == {world["assembly"], second.id}
        assert len(set(codes.values())) == 1  # one code: the registrant's one ticket
        events.save_event(
            process, {**form, "session_ids": [str(second.id)]}, db.session.get(Event, world["ag"])
        )
        voided = db.session.scalar(db.select(Ticket).filter_by(session_id=world["assembly"]))
        assert voided.voided_at is not None


def test_event_form_refuses_bad_values_in_french(app, world):
    with app.app_context():
        process = db.session.get(Event, world["ag"]).process
        with pytest.raises(RegistrationError) as refused:
            events.save_event(
                process, {"title": "", "kind": "party", "starts_at": "demain", "capacity": "-1"}
            )
        assert set(refused.value.errors) == {"title", "kind", "starts_at", "capacity"}
    owner = logged_in(app.test_client(), world)
    page = owner.post(
        f"/organize/{world['slug']}/registration/events/new",
        data={"title": "x", "kind": "workshop", "starts_at": "demain", "capacity": "10"},
    )
    assert page.status_code == 422


def test_registrations_and_tickets_survive_a_restart(world, app):
    """A new app on the same database file (a restarted server) finds them all."""
    register(app.test_client(), world)
    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "EXPORTS_DIR")
    again = create_app({key: app.config[key] for key in keys} | {"SOCKETIO_MESSAGE_QUEUE": None})
    with again.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert registration.name == "Nathalie" and [p.status for p in registration.places] == [
            "confirmed"
        ]
        ticket = db.session.scalar(db.select(Ticket))
        assert (ticket.origin, ticket.code) == ("registration", registration.code)
        db.session.remove()
        db.engine.dispose()


def test_the_admission_page_checks_in_by_code(app, world):
    register(app.test_client(), world)
    with app.app_context():
        code = admission.format_ticket(db.session.scalar(db.select(Registration.code)))
    owner = logged_in(app.test_client(), world)
    page = owner.get(f"/facilitate/session/{world['assembly']}/tickets").get_data(as_text=True)
    assert 'id="check-in-code"' in page
    done = owner.post(
        f"/organize/{world['slug']}/registration/check-in",
        data={
            "code": code,
            "event_id": str(world["ag"]),
            "back": f"/facilitate/session/{world['assembly']}/tickets",
        },
        follow_redirects=True,
    )
    assert "Enregistré·e : Nathalie" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(Place.attended_at)) is not None


def test_a_script_filling_places_is_cut_off_in_the_users_language(app, world):
    app.config["REGISTRATION_LIMIT"] = "2 per minute"
    client = app.test_client()
    for name in ("A", "B"):
        assert register(client, world, name=name, waiting_list="1").status_code == 302
    refused = register(client, world, name="C", waiting_list="1")
    assert refused.status_code == 429
    assert "Trop d’inscriptions" in refused.get_data(as_text=True)
