"""Ranking end to end: opened from the console, voted from phones (sockets and HTTP),
refusals, a secret ranking sealed at close, the Synthèse, the Actes and the open data."""

from __future__ import annotations

import io
import json

import docx
import pytest

from deliberation.documents.proceedings import build_proceedings
from deliberation.documents.synthesis import build_synthesis
from deliberation.extensions import db, socketio
from deliberation.live import broadcast, rooms
from deliberation.models import Ballot, Finding, Process
from deliberation.services.authoring.process_export import dump_process
from deliberation.services.demo.demo_sessions import Vote, record_session
from deliberation.services.live import sessions, voting
from deliberation.services.live.items import present_item
from deliberation.services.people.accounts import create_or_update_organizer
from deliberation.services.publishing import opendata
from tests.live_fixtures import ballot_id, free_item, make_member, make_process, workshop

PASSWORD = "correct horse battery"
OPTIONS = [
    {"key": "housing", "label": "Housing first"},
    {"key": "mobility", "label": "Mobility aid"},
    {"key": "childcare", "label": "Childcare"},
]
KEYS = [option["key"] for option in OPTIONS]


@pytest.fixture
def live(any_db_app):
    app = any_db_app
    rooms.clear()
    broadcast.reset()
    with app.app_context():
        process = make_process(language="fr")
        session = workshop(process)
        item = free_item(session, "Which action path first?")
        organizer, _created = create_or_update_organizer("facilitator@example.org", PASSWORD)
        make_member(process.id, organizer.id, "facilitator")
        ids = {"session": session.id, "item": item.id, "code": session.join_code}
    yield app, ids
    rooms.clear()
    broadcast.reset()


def phone(app, code: str, group: str):
    with app.app_context():
        _, token = sessions.join(code, "", group)
    client = socketio.test_client(app, auth={"role": "phone", "token": token})
    assert client.is_connected()
    return client, token


def facilitator(app, session_id: int):
    http = app.test_client()
    response = http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    assert response.status_code == 302
    client = socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": session_id}
    )
    assert client.is_connected()
    return client


def last_state(client) -> dict:
    states = [m["args"][0] for m in client.get_received() if m["name"] == "state"]
    assert states, "no state received"
    return states[-1]


def rank(client, poll_id: int, order) -> dict:
    return client.emit(
        "vote",
        {"poll_id": poll_id, "ballot_id": ballot_id(), "choice": {"ranking": order}},
        callback=True,
    )


def open_ranking(console, item_id: int, secret: bool = False) -> dict:
    ack = console.emit(
        "open_poll",
        {"item_id": item_id, "method": "ranking", "options": OPTIONS, "secret": secret},
        callback=True,
    )
    assert ack["ok"], ack
    return ack["state"]["poll"]


def test_ranking_from_several_phones_gives_the_borda_tally_and_groups(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    poll = open_ranking(console, ids["item"])
    assert poll["method"] == "ranking" and poll["form"] == "order"
    assert poll["options"] == OPTIONS and poll["legend"]
    # Three service users put housing first, three employers childcare first.
    orders = {
        "service_user": ["housing", "mobility", "childcare"],
        "employer": ["childcare", "mobility", "housing"],
    }
    phones = []
    for group, order in orders.items():
        for _ in range(3):
            client, _token = phone(app, ids["code"], group)
            assert rank(client, poll["id"], order)["ok"]
            phones.append(client)
    # One service user changes their mind: mobility, housing, childcare.
    assert rank(phones[0], poll["id"], ["mobility", "housing", "childcare"])["ok"]
    console.get_received()
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    results = last_state(console)["results"]
    points = {answer["key"]: answer["count"] for answer in results["answers"]}
    # housing 2+2+1 (service users) + 0 (employers) = 5; mobility 1+1+2 + 1+1+1 = 7;
    # childcare 0+0+0 + 2+2+2 = 6.
    assert points == {"housing": 5, "mobility": 7, "childcare": 6}
    assert results["base"] == 18 and results["ballots"] == 6
    assert [entry["key"] for entry in results["ranking"]] == ["mobility", "childcare", "housing"]
    groups = {group["group"]: group for group in results["groups"]}
    assert groups["service_user"]["top"] == ["housing"]
    assert groups["employer"]["top"] == ["childcare"]
    assert groups["service_user"]["ballots"] == groups["employer"]["ballots"] == 3
    with app.app_context():
        # Counters, never a recount: one row per option and group, holding its points.
        poll_row = db.session.get(voting.Poll, poll["id"])
        assert voting.counts_by_group(poll_row)["employer"] == {
            "#ballots": 3,
            "childcare": 6,
            "mobility": 3,
        }


@pytest.mark.parametrize(
    "choice",
    [
        {"ranking": ["housing", "housing", "childcare"]},
        {"ranking": ["housing", "mobility", "schools"]},
        {"ranking": ["housing", "mobility"]},
        {"ranking": "housing,mobility,childcare"},
        {"ranking": ["housing", "mobility", 3]},
        {"ranking": None},
        {"dots": {"housing": 1}},
        "housing",
    ],
)
def test_invalid_rankings_are_refused_with_a_translated_message(live, choice):
    app, ids = live
    console = facilitator(app, ids["session"])
    poll = open_ranking(console, ids["item"])
    client, token = phone(app, ids["code"], "employer")
    ack = client.emit(
        "vote", {"poll_id": poll["id"], "ballot_id": ballot_id(), "choice": choice}, callback=True
    )
    assert ack["ok"] is False and ack["error"] == "invalid_choice"
    assert ack["message"] == "Ce choix n’est pas possible dans ce vote."
    # The HTTP fallback answers the same refusal, never a 500.
    response = app.test_client().post(
        "/api/ballots",
        json={"token": token, "poll_id": poll["id"], "ballot_id": ballot_id(), "choice": choice},
    )
    assert 400 <= response.status_code < 500
    body = response.get_json()
    assert body["error"] == "invalid_choice"
    assert body["message"] == "Ce choix n’est pas possible dans ce vote."
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ballot.id))) == 0


def test_a_ranking_needs_two_options(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    ack = console.emit(
        "open_poll",
        {"item_id": ids["item"], "method": "ranking", "options": OPTIONS[:1]},
        callback=True,
    )
    assert ack["ok"] is False and ack["error"] == "invalid_options"


def test_a_secret_ranking_is_sealed_at_close(live):
    app, ids = live
    console = facilitator(app, ids["session"])
    poll = open_ranking(console, ids["item"], secret=True)
    for group in ("service_user", "service_user", "employer"):
        client, _token = phone(app, ids["code"], group)
        assert rank(client, poll["id"], ["childcare", "housing", "mobility"])["ok"]
    console.get_received()
    # While open, nobody sees the distribution.
    assert console.emit("sync", {}, callback=True).get("results") is None
    assert console.emit("close_poll", {"poll_id": poll["id"]}, callback=True)["ok"]
    results = last_state(console)["results"]
    assert {a["key"]: a["count"] for a in results["answers"]} == {
        "housing": 3,
        "mobility": 0,
        "childcare": 6,
    }
    with app.app_context():
        voters = db.session.scalars(db.select(Ballot.participant_id)).all()
        assert len(voters) == 3 and set(voters) == {None}


def _ranked_workshop(process: Process) -> Finding:
    finding = process.fields[0].findings[0]
    keys = [f"ap{path.id}" for path in finding.action_paths]  # the item's own options
    ballots = [("service_user", {"ranking": list(reversed(keys))})] * 3 + [
        ("employer", {"ranking": keys})
    ] * 4
    record_session(
        process,
        "Atelier Liège",
        [Vote("action_paths", finding.id, ballots, method="ranking")],
        territory=process.territories[0],
    )
    return finding


def reopen(document) -> docx.document.Document:
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return docx.Document(buffer)


def test_documents_and_open_data_carry_the_ranking(any_db_app):
    with any_db_app.app_context():
        process = make_process(language="fr")
        finding = _ranked_workshop(process)
        first, second = (path.text for path in finding.action_paths)
        synthesis = reopen(build_synthesis(process))
        proceedings = reopen(build_proceedings(process))
        data = json.loads(opendata.as_json(process))
        process.synthesis_published = True
        db.session.commit()
        public = any_db_app.test_client().get(f"/p/{process.slug}").get_data(as_text=True)
    # 4 employers put the first path first (1 point each), 3 service users the second.
    line = next(p.text for p in synthesis.paragraphs if p.text.startswith("Ordre de priorité"))
    assert line == (
        "Ordre de priorité (Classement (méthode de Borda), en atelier, 7 votes) : "
        f"1. {first}; 2. {second}"
    )
    # The Actes: the same line under the finding, the poll's table with its points, the
    # method in the appendix.
    texts = [p.text for p in proceedings.paragraphs]
    assert line in texts
    assert line in public  # the published synthesis shows the same line
    assert "Classement (méthode de Borda)" in texts
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in proceedings.tables
    ]
    points = next(t for t in tables if t[0][1] == "Points")
    assert [row[:2] for row in points[1:]] == [[first, "4"], [second, "3"]]
    groups = next(t for t in tables if t[0][0] == "Groupe" and len(t) == 3)
    assert sorted(row[1] for row in groups[1:]) == ["3", "4"]
    # Open data: the poll, its points per option, overall and per group.
    (poll,) = [p for p in data["polls"] if p["method"] == "ranking"]
    assert {a["label"]: a["count"] for a in poll["answers"]} == {first: 4, second: 3}
    assert {g["group"] for g in poll["groups"]} == {"service_user", "employer"}


def test_organisers_choose_ranking_for_action_paths(app):
    with app.app_context():
        process = make_process(language="fr")
        organizer, _created = create_or_update_organizer("owner@example.org", PASSWORD)
        make_member(process.id, organizer.id, "owner")
        finding_id = process.fields[0].findings[0].id
        session = workshop(process)
        paths = sessions.add_agenda_item(session, "action_paths", finding_id)
        assert present_item(paths)["suggested_method"] == "dot"  # the registry's default
        slug, paths_id = process.slug, paths.id
    client = app.test_client()
    client.post("/login", data={"email": "owner@example.org", "password": PASSWORD})
    page = client.get(f"/organize/{slug}/settings").get_data(as_text=True)
    assert 'value="ranking"' in page and "Classement (méthode de Borda)" in page
    form = {"title": "Assises", "language": "fr", "priority_method": "ranking"}
    assert client.post(f"/organize/{slug}/settings", data=form).status_code == 302
    # Not a method that ranks options: refused in words, nothing saved.
    for wrong in ("consensus", "borda", "x" * 5000):
        bad = client.post(f"/organize/{slug}/settings", data={**form, "priority_method": wrong})
        assert bad.status_code == 400
        assert "Méthode de vote des pistes d’action" in bad.get_data(as_text=True)
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug=slug))
        assert process.priority_method == "ranking"
        # The console now suggests ranking for the action paths.
        assert present_item(db.session.get(type(paths), paths_id))["suggested_method"] == (
            "ranking"
        )
        assert "priority_method: ranking" in dump_process(process)
