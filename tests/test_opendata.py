"""Open data (aggregates only) and the public synthesis page."""

from __future__ import annotations

import csv
import io
import json

from test_documents_synthesis import bare_demo_process, demo_process

from deliberation.extensions import db
from deliberation.models import BallotReceipt, Participant
from deliberation.services.demo.demo_sessions import Vote, record_session
from deliberation.services.publishing import opendata


def _ballots(spec: dict[str, list[str]]):
    return [(group, {"answer": a}) for group, answers in spec.items() for a in answers]


SPEC = {
    "service_user": ["full", "full", "reservations", "disagree"],
    "social_worker": ["full", "mixed", "mixed", "block"],
    "employer": ["full"],  # one ballot: never shown on its own
}


def _record(process):
    recommendation = process.fields[1].findings[0].recommendations[0]
    recommendation.text = '=HYPERLINK("http://evil")'
    db.session.commit()
    record_session(
        process,
        "Atelier ouvert",
        [Vote("recommendation", recommendation.id, _ballots(SPEC))],
        territory=process.territories[0],
    )
    return recommendation


def test_csv_and_json_hold_aggregates_only(app):
    with app.app_context():
        process = demo_process()
        item = _record(process)
        data = opendata.aggregates(process)
        text_json = opendata.as_json(process)
        text_csv = opendata.as_csv(process)
        tokens = db.session.scalars(db.select(Participant.token_id)).all()
        receipts = db.session.scalars(db.select(BallotReceipt.client_id)).all()
        participant_ids = db.session.scalars(db.select(Participant.id)).all()

    assert tokens and receipts
    for secret in tokens + receipts:
        assert secret not in text_json and secret not in text_csv
    assert "participant" not in text_json.lower() and "participant" not in text_csv.lower()
    assert "ballot_id" not in text_json and "choice" not in text_json
    assert participant_ids  # ids exist, but no field of the export refers to them

    poll = next(
        p for p in data["polls"] if p["item_id"] == item.id and p["item_type"] == "recommendation"
    )
    assert poll["ballots"] == 9
    counts = {a["key"]: a["count"] for a in poll["answers"]}
    assert counts == {"full": 4, "reservations": 1, "mixed": 2, "disagree": 1, "block": 1}
    groups = {g["group"]: g for g in poll["groups"]}
    # The lone employer is merged into "other"; "other" (1 ballot) is then too small and
    # the smallest named group is folded in with it, so no single vote can be recovered.
    assert "employer" not in groups
    assert sum(g["ballots"] for g in poll["groups"]) == 9
    for group in poll["groups"]:
        assert group["ballots"] >= 3 or (group["hidden"] and "answers" not in group)

    rows = list(csv.DictReader(io.StringIO(text_csv)))
    assert list(rows[0]) == list(opendata.CSV_COLUMNS)
    mine = [r for r in rows if r["poll_id"] == str(poll["poll_id"])]
    overall = [r for r in mine if r["group"] == ""]
    assert len(overall) == 5 and sum(int(r["count"]) for r in overall) == 9
    assert len(mine) == 5 * (1 + sum(1 for g in poll["groups"] if not g["hidden"]))
    # A text that a spreadsheet would run as a formula is neutralised.
    assert all(r["item"].startswith("'=") for r in mine)
    assert json.loads(text_json)["process"]["slug"] == "assises-insertion"


def test_public_page_only_once_published(app, client):
    with app.app_context():
        process = demo_process()
        _record(process)
    for path in (
        "/p/assises-insertion",
        "/p/assises-insertion/results.csv",
        "/p/assises-insertion/results.json",
        "/p/nope",
    ):
        assert client.get(path).status_code == 404

    with app.app_context():
        opendata.set_synthesis_published(demo_process(), True)
    page = client.get("/p/assises-insertion")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Personnaliser et garantir un dispositif équitable" in html
    assert '<span class="finding-number">6.</span>' in html
    assert "Pistes d’action :" in html and "Condition de mise en œuvre :" in html
    assert "l’évaluation permanente du partenariat" in html  # the note and its list
    assert "=HYPERLINK" in html and "<script" not in html.split("</main>")[0].split("<main")[1]
    assert client.get("/p/assises-insertion/results.json").get_json()["polls"]
    assert client.get("/p/assises-insertion/results.csv").mimetype == "text/csv"

    with app.app_context():
        opendata.set_synthesis_published(demo_process(), False)
    assert client.get("/p/assises-insertion").status_code == 404


def test_documents_and_open_data_on_any_database(any_db_app, tmp_path):
    """Same queries on SQLite and PostgreSQL: outcomes, both documents, open data."""
    import docx

    from deliberation.documents.jobs import build_document

    app = any_db_app
    with app.app_context():
        process = bare_demo_process()
        item = _record(process)
        data = opendata.aggregates(process)
        poll = next(p for p in data["polls"] if p["item_id"] == item.id)
        assert poll["ballots"] == 9
        for kind in ("synthesis", "proceedings"):
            path = build_document(kind, process.id, tmp_path / f"{kind}.docx", str(tmp_path))
            assert docx.Document(str(path)).paragraphs[0].text == "Assises de l’insertion"


def test_a_group_name_cannot_run_a_formula_in_the_csv(app):
    """A group's name is free text (organisers may type any label): like every cell, it is
    neutralised where a spreadsheet would run it (issue 18)."""
    evil = '=HYPERLINK("http://evil","clic")'
    with app.app_context():
        process = bare_demo_process()
        process.groups = [*process.groups, evil]
        db.session.commit()
        recommendation = process.fields[1].findings[0].recommendations[0]
        spec = {evil: ["full", "full", "mixed", "block"], "service_user": ["full"] * 4}
        record_session(
            process, "Atelier", [Vote("recommendation", recommendation.id, _ballots(spec))]
        )
        rows = list(csv.DictReader(io.StringIO(opendata.as_csv(process))))

    groups = {row["group"] for row in rows}
    assert "'" + evil in groups and evil not in groups
    for row in rows:
        assert not any(value.startswith(("=", "+", "@")) for value in row.values()), row
