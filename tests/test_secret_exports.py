"""The exports of secret and named polls (SQLite and PostgreSQL): the Synthèse, the Actes
and both open-data files name no voter of a secret poll; a named poll's record is in the
Actes and the organisers' open data, never in the public one."""

from __future__ import annotations

import csv
import io
import json

import docx
from test_documents_synthesis import bare_demo_process

from deliberation.documents.jobs import build_document
from deliberation.services.live import ballots, sessions, voting
from deliberation.services.publishing import opendata
from tests.live_fixtures import ballot_id

SECRET_VOTERS = [
    ("Séraphine Discrète", "service_user", "full"),
    ("Sébastien Discret", "service_user", "block"),
    ("Sidonie Discrète", "service_user", "mixed"),
    ("Salomé Seule", "employer", "disagree"),
]
NAMED_VOTERS = [
    ("Nadia Mandataire", "social_worker", "yes"),
    ("Noé Mandataire", "public_official", "no"),
]


def record_votes(process) -> dict[str, int]:
    session = sessions.create_session(process, "assembly", "AG de clôture", admission="open")
    finding = process.fields[0].findings[0]
    secret_item = sessions.add_agenda_item(session, "finding", finding.id)
    named_item = sessions.add_agenda_item(session, "recommendation", finding.recommendations[0].id)
    poll = voting.open_poll(session, secret_item, "consensus")
    for name, group, answer in SECRET_VOTERS:
        voter, _ = sessions.join(session.join_code, name, group)
        ballots.cast(voter.id, poll.id, ballot_id(), {"answer": answer})
    voting.close_poll(poll)
    voting.publish_poll(poll)
    mandate = voting.open_poll(session, named_item, "yes_no", secret=False)
    for name, group, answer in NAMED_VOTERS:
        voter, _ = sessions.join(session.join_code, name, group)
        ballots.cast(voter.id, mandate.id, ballot_id(), {"answer": answer})
    voting.close_poll(mandate)
    voting.publish_poll(mandate)
    return {"secret": poll.id, "named": mandate.id}


def document_text(path) -> str:
    document = docx.Document(str(path))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def test_exports_name_no_secret_voter_and_keep_the_named_record(any_db_app, tmp_path):
    with any_db_app.app_context():
        process = bare_demo_process()
        polls = record_votes(process)
        public_json = opendata.as_json(process)
        public_csv = opendata.as_csv(process)
        organisers_json = opendata.as_json(process, with_record=True)
        named_csv = opendata.named_votes_csv(process)
        documents = {
            kind: document_text(
                build_document(kind, process.id, tmp_path / f"{kind}.docx", str(tmp_path))
            )
            for kind in ("synthesis", "proceedings")
        }

    everything = [public_json, public_csv, organisers_json, named_csv, *documents.values()]
    for name, _group, _answer in SECRET_VOTERS:
        assert all(name not in text for text in everything), name
    # The lone employer of the secret poll is nowhere on its own either.
    secret_poll = next(
        p for p in json.loads(public_json)["polls"] if p["poll_id"] == polls["secret"]
    )
    assert secret_poll["secret"] is True and "named_ballots" not in secret_poll
    assert "employer" not in {g["group"] for g in secret_poll["groups"]}

    # Named: who voted what, for the organisers and in the Actes; never in public.
    for name, _group, _answer in NAMED_VOTERS:
        assert name not in public_json and name not in public_csv
        assert name not in documents["synthesis"]
        assert name in organisers_json and name in documents["proceedings"]
    mandate = next(
        p for p in json.loads(organisers_json)["polls"] if p["poll_id"] == polls["named"]
    )
    assert [(b["name"], b["choice_label"]) for b in mandate["named_ballots"]] == [
        ("Nadia Mandataire", "Oui"),
        ("Noé Mandataire", "Non"),
    ]
    assert "Vote nominatif : qui a voté quoi" in documents["proceedings"]
    assert "Nadia Mandataire | Travailleurs sociaux | Oui" in documents["proceedings"]
    rows = list(csv.DictReader(io.StringIO(named_csv)))
    assert [(r["name"], r["choice"]) for r in rows] == [
        ("Nadia Mandataire", "Oui"),
        ("Noé Mandataire", "Non"),
    ]
    assert {r["poll_id"] for r in rows} == {str(polls["named"])}


def test_named_votes_are_for_the_organisers_only(app, client):
    with app.app_context():
        process = bare_demo_process()
        record_votes(process)
        slug = process.slug
    assert client.get(f"/organize/{slug}/exports/named-votes.csv").status_code in (302, 401)
