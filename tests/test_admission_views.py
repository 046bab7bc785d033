"""Joining over HTTP with a ticket or through the throttles, in the process language; the
admission page (tickets issued, printed, voided), the head count and its warning."""

from __future__ import annotations

import re

import pytest

from deliberation.extensions import db
from deliberation.models import LiveSession, Organizer, Participant
from deliberation.services.live import admission, sessions
from tests.live_fixtures import make_member, make_process, workshop


@pytest.fixture
def world(app):
    """A French process with a general assembly (tickets) and a workshop (open)."""
    with app.app_context():
        process = make_process(language="fr")
        organizer = Organizer(email="organiser@example.org", name="Org")
        organizer.set_password("secret-password")
        db.session.add(organizer)
        db.session.commit()
        make_member(process.id, organizer.id, "co_organizer")  # issues tickets too
        assembly = sessions.create_session(process, "assembly", "Assemblée générale")
        admission.issue_tickets(assembly, 3)
        ids = {
            "assembly": assembly.id,
            "assembly_code": assembly.join_code,
            "workshop": workshop(process, "Atelier").id,
            "tickets": [t.code for t in admission.tickets_of(assembly)],
            "organizer_id": organizer.id,
        }
    return ids


def logged_in(client, world):
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{world['organizer_id']}:0"  # Organizer.get_id(): id:epoch
        flask_session["_fresh"] = True
    return client


def join(client, code: str, **form):
    client.get(f"/j/{code}")  # the join page: sets the device cookie
    return client.post(f"/j/{code}", data={"name": "", "group": "", **form})


def test_a_ticket_opens_the_join_page_filled_in_and_admits_one_phone(app, world):
    code, ticket = world["assembly_code"], world["tickets"][0]
    first = app.test_client()
    page = first.get(f"/j/{code}", query_string={"ticket": ticket.lower()})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f'value="{admission.format_ticket(ticket)}"' in html  # from the QR code's link
    assert first.get_cookie("device_id") is not None
    # What the page says of the vote: both kinds, and no promise it cannot keep.
    assert "Vote secret" in html and "Vote nominatif" in html
    assert "votre vote est secret" not in html

    refused = join(first, code)
    assert refused.status_code == 403 and "ticket personnel" in refused.get_data(as_text=True)
    joined = join(first, code, ticket=admission.format_ticket(ticket))
    assert joined.status_code == 200 and 'id="ballot"' in joined.get_data(as_text=True)

    second = app.test_client()
    taken = join(second, code, ticket=ticket)
    assert taken.status_code == 403
    assert "accueil" in taken.get_data(as_text=True)  # "see the welcome desk"

    # The first phone, its token cookie lost, gets its own place back with its ticket.
    first.delete_cookie("participant_token")
    again = join(first, code, ticket=ticket)
    assert again.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Participant.id))) == 1


def test_a_throttled_join_says_when_to_come_back(app, world):
    app.config["JOIN_LIMIT_PER_SESSION"] = "2 per minute"
    with app.app_context():
        code = db.session.get(LiveSession, world["workshop"]).join_code
    for _ in range(2):
        assert join(app.test_client(), code).status_code == 200
    busy = join(app.test_client(), code)
    assert busy.status_code == 429
    assert 0 < int(busy.headers["Retry-After"]) <= 60
    assert "réessayer dans" in busy.get_data(as_text=True)


def test_the_admission_page_issues_prints_and_voids(app, client, world):
    organiser = logged_in(client, world)
    base = f"/facilitate/session/{world['assembly']}"
    assert client.get(base + "/tickets").status_code == 200
    issued = organiser.post(base + "/tickets", data={"count": "2"}, follow_redirects=True)
    assert issued.status_code == 200
    with app.app_context():
        live = db.session.get(LiveSession, world["assembly"])
        assert sessions.ticket_counts(live) == {"issued": 5, "used": 0, "voided": 0}
        batch_two = [t.code for t in admission.tickets_of(live, 2)]
    sheet = organiser.get(base + "/tickets/print", query_string={"batch": 2})
    html = sheet.get_data(as_text=True)
    assert html.count("<svg") == 2
    for code in batch_two:
        assert admission.format_ticket(code) in html
    assert organiser.post(base + "/tickets", data={"count": "0"}).status_code == 302

    voided = organiser.post(
        base + "/tickets/void", data={"code": world["tickets"][0]}, follow_redirects=True
    )
    replacement = re.search(r"([A-Z0-9]{5}-[A-Z0-9]{5})\.", voided.get_data(as_text=True))
    assert replacement, "the replacement ticket is shown"
    single = organiser.get(
        base + "/tickets/print", query_string={"ticket": replacement.group(1)}
    ).get_data(as_text=True)
    assert single.count("<svg") == 1 and replacement.group(1) in single


def warning_of(organiser, session_id: int) -> tuple[str, str]:
    """The console's head-count warning: its opening tag and its text."""
    console = organiser.get(f"/facilitate/session/{session_id}").get_data(as_text=True)
    found = re.search(r'(<p class="notice bad headcount-warning"[^>]*>)(.*?)</p>', console, re.S)
    return found.group(1), " ".join(found.group(2).split())


def test_the_console_warns_in_words_when_joins_outnumber_the_room(app, client, world):
    organiser = logged_in(client, world)
    session_id = world["workshop"]
    answer = organiser.post(
        f"/facilitate/session/{session_id}/expected", data={"expected": "1", "back": "console"}
    )
    assert answer.headers["Location"].endswith(f"/facilitate/session/{session_id}#admission")
    with app.app_context():
        code = db.session.get(LiveSession, session_id).join_code
    assert "hidden" in warning_of(organiser, session_id)[0]  # 0 joined of 1 expected
    for _ in range(2):
        join(app.test_client(), code)
    tag, text = warning_of(organiser, session_id)
    assert "hidden" not in tag and 'role="alert"' in tag
    # In words (not by colour alone): how many joined, how many were expected.
    assert "Plus de places prises (2) que de personnes attendues dans la salle (1)" in text
    bad = organiser.post(f"/facilitate/session/{session_id}/expected", data={"expected": "x"})
    assert bad.status_code == 302
