"""A process with a member of each role and an outsider, for the access tests; and a
snapshot of everything a refused request must leave unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from deliberation.documents import jobs
from deliberation.extensions import db
from deliberation.models import Event, ExpertInvitation, Membership, Organizer, Territory
from deliberation.services.live import sessions, voting
from deliberation.services.people import membership
from tests.live_fixtures import first_field, make_member, make_process

PASSWORD = "a long enough password"
# A cheap hash: these accounts are made many times over and never log in with a password.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@dataclass
class World:
    """One process with a member of each role, an outsider and everything its URLs name."""

    ids: dict[str, Any]
    people: dict[str, int]  # role name -> organiser id
    job_id: str
    file_name: str


def build_world(app: Flask) -> World:
    with app.app_context():
        process = make_process(slug="assises", language="en")
        namur = Territory(process_id=process.id, name="Namur")
        db.session.add(namur)
        db.session.commit()
        liege = db.session.scalar(select(Territory).filter_by(process_id=process.id, name="Liège"))
        people = {}
        for name in ("owner", "co_organizer", "facilitator", "namur_facilitator", "outsider"):
            organizer = Organizer(email=f"{name}@example.org", password_hash=PASSWORD_HASH)
            db.session.add(organizer)
            db.session.commit()
            people[name] = organizer.id
        make_member(process.id, people["owner"], "owner")
        make_member(process.id, people["co_organizer"], "co_organizer")
        make_member(process.id, people["facilitator"], "facilitator")
        make_member(process.id, people["namur_facilitator"], "facilitator", namur.id)
        field = first_field(process)
        session = sessions.create_session(
            process, "workshop", "Atelier Liège", field_id=field.id, territory_id=liege.id
        )
        agenda = sessions.add_agenda_item(session, "free", text="Shall we?")
        second = sessions.add_agenda_item(session, "free", text="And then?")
        poll = voting.open_poll(session, agenda, "yes_no", actor="owner@example.org")
        finding = field.findings[0]
        invitation = membership.invite(process, "owner@example.org", "facilitator").invitation
        facilitator_membership = db.session.scalar(
            select(Membership).filter_by(organizer_id=people["facilitator"])
        )
        exports_dir = app.config["EXPORTS_DIR"]
        jobs.process_dir(exports_dir, process.id).mkdir(parents=True, exist_ok=True)
        file_name = jobs.default_filename("synthesis", process.slug)
        (jobs.process_dir(exports_dir, process.id) / file_name).write_bytes(b"a document")
        job_id = "0" * 32
        jobs.save_job(
            exports_dir,
            jobs.Job(
                id=job_id,
                kind="synthesis",
                process_id=process.id,
                slug=process.slug,
                state="done",
                file=file_name,
            ),
        )
        event = Event(
            process_id=process.id,
            title="Journée",
            kind="assembly",
            starts_at=datetime(2014, 11, 21, 9, 0),
            capacity=10,
            sessions=[session],
        )
        db.session.add(event)
        expert = ExpertInvitation(
            process_id=process.id, field_id=field.id, token_hash="0" * 64, name="Expert"
        )
        db.session.add(expert)
        db.session.commit()
        ids = {
            "expert_id": expert.id,
            "event_id": event.id,
            "slug": process.slug,
            "process_id": process.id,
            "session_id": session.id,
            "agenda_id": second.id,
            "first_agenda_id": agenda.id,
            "poll_id": poll.id,
            "field_id": field.id,
            "finding_id": finding.id,
            "recommendation_id": finding.recommendations[0].id,
            "territory_id": liege.id,
            "invitation_id": invitation.id,
            "membership_id": facilitator_membership.id,
            "code": session.join_code,
        }
    return World(ids, people, job_id, file_name)


def snapshot(app: Flask) -> dict[str, Any]:
    """Every row of every table, and the exports directory: what a refusal must not change."""
    with app.app_context():
        tables = {
            table.name: sorted(
                repr(tuple(row))
                for row in db.session.execute(text(f'SELECT * FROM "{table.name}"'))
            )
            for table in db.metadata.sorted_tables
        }
        db.session.rollback()
    exports = Path(app.config["EXPORTS_DIR"])
    files = sorted(
        (str(p.relative_to(exports)), p.stat().st_size) for p in exports.rglob("*") if p.is_file()
    )
    return {"tables": tables, "exports": files}


def client_as(app: Flask, organizer_id: int | None):
    """A browser logged in as this organiser (anonymous for None), reading English pages."""
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["lang"] = "en"
        if organizer_id is not None:
            with app.app_context():  # the login id carries the session epoch (Organizer.get_id)
                cookie["_user_id"] = db.session.get(Organizer, organizer_id).get_id()
            cookie["_fresh"] = True
    return client
