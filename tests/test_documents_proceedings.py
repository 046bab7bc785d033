"""The Actes: structure, poll tables and charts, amendments, appendix, PDF conversion."""

from __future__ import annotations

from datetime import date

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree
from test_documents_synthesis import (
    bare_demo_process,
    convert_to_pdf,
    demo_process,
    footnote_texts,
    outcome_lines,
    reopen,
    styled,
)

from deliberation.documents import charts
from deliberation.documents.proceedings import build_proceedings
from deliberation.extensions import db
from deliberation.models import LiveSession, Poll, PollCount, Proposal, TextVersion
from deliberation.services.demo.demo_sessions import Vote, record_session

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def consensus(group: str, full: int, reservations: int, mixed: int, disagree: int, block: int):
    answers = (
        [("full", full)]
        + [("reservations", reservations)]
        + [("mixed", mixed)]
        + [("disagree", disagree)]
        + [("block", block)]
    )
    return [(group, {"answer": key}) for key, n in answers for _ in range(n)]


SESSION = "Atelier — Atelier de Liège"
OPTIONS = [{"key": "a", "label": "Piste A"}, {"key": "b", "label": "Piste B"}]


def make_sessions(process):
    finding = process.fields[0].findings[0]
    recommendation = finding.recommendations[0]
    territory = process.territories[0]
    workshop = record_session(
        process,
        "Atelier de Liège",
        [
            # Two groups of 4 ballots each: both shown (at least 3 ballots each).
            Vote(
                "finding",
                finding.id,
                consensus("service_user", 2, 1, 1, 0, 0)
                + consensus("social_worker", 1, 1, 1, 1, 0),
            ),
            Vote(
                "recommendation",
                recommendation.id,
                [("employer", {"answer": a}) for a in ("yes", "yes", "no", "abstain")],
                method="yes_no",
            ),
            Vote(
                "action_path",
                finding.action_paths[0].id,
                [("expert", {"dots": {"a": 2, "b": 1}}), ("expert", {"dots": {"b": 3}})],
                method="dot",
                options=OPTIONS,
            ),
            Vote(
                "action_path",
                finding.action_paths[1].id,
                [("", {"grades": {"a": "good", "b": "poor"}})] * 3,
                method="majority_judgment",
                options=OPTIONS,
            ),
        ],
        territory=territory,
        field=process.fields[0],
        held_on=date(2014, 10, 2),
        place="Salle du CSEF",
    )
    return workshop, finding, recommendation


def blocks(document):
    """Paragraphs and tables in document order."""
    return list(document.iter_inner_content())


def tables_after(document, heading_text: str, after: str | None = None) -> list[Table]:
    """The tables under the first heading ``heading_text`` (itself after ``after``)."""
    found, tables, started = False, [], after is None
    for block in blocks(document):
        if isinstance(block, Paragraph):
            if not started:
                started = block.text == after
                continue
            if found and block.style.name.startswith("Heading"):
                break
            if block.text == heading_text and block.style.name.startswith("Heading"):
                found = True
        elif found:
            tables.append(block)
    return tables


def polls_of_session(document, session_heading: str) -> list[str]:
    inside, polls = False, []
    for paragraph in document.paragraphs:
        style = paragraph.style.name
        if style in ("Heading 1", "Heading 2"):
            inside = paragraph.text == session_heading
        elif inside and style == "Heading 3" and paragraph.text.startswith("Vote : "):
            polls.append(paragraph.text)
    return polls


def test_proceedings_structure_polls_and_charts(app, tmp_path):
    with app.app_context():
        process = bare_demo_process()
        process.threshold_validated = 75
        workshop, finding, recommendation = make_sessions(process)
        db.session.add(
            TextVersion(
                item_type="recommendation",
                item_id=recommendation.id,
                number=2,
                text="Texte amendé par l’atelier.",
                kind="amendment",
                session_id=workshop.id,
            )
        )
        amendment = Proposal(
            session_id=workshop.id,
            kind="amendment",
            item_type="recommendation",
            item_id=recommendation.id,
            text="Ajouter « dans la durée ».",
            status="adopted",
        )
        db.session.add(amendment)
        db.session.add(
            Proposal(session_id=workshop.id, kind="comment", text="Merci pour l’accueil !")
        )
        db.session.commit()
        # The general assembly votes on the amendment itself (the voting service words
        # an amendment's options in the UI language, hence a request context).
        with app.test_request_context():
            record_session(
                process,
                "Assemblée générale",
                [Vote("amendment", amendment.id, consensus("expert", 3, 0, 0, 0, 0))],
                session_kind="assembly",
            )
        document, path = reopen(build_proceedings(process), tmp_path, "actes.docx")
        session_count = db.session.scalar(db.select(db.func.count(LiveSession.id)))
        polls_with_ballots = db.session.scalar(
            db.select(db.func.count(db.distinct(PollCount.poll_id)))
            .join(Poll, Poll.id == PollCount.poll_id)
            .where(PollCount.key == "#ballots", PollCount.count > 0)
            .where(Poll.state.in_(("closed", "published")))
        )
        labels = process.labels()
        field_titles = [f.title for f in process.fields]

    headings = styled(document, "Heading 1")
    for index, title in enumerate(field_titles, start=1):
        assert f"{index}. {title}" in headings
    for section in (
        "Le processus et sa méthode",
        "Les séances",
        "Amendements et versions",
        "Commentaires de la salle",
        "Issues finales",
        "Participation",
        "Annexe : méthodes de vote et seuils",
    ):
        assert section in headings

    # The table of contents lists the headings, each a link to its heading's bookmark with
    # a PAGEREF field for its page number; page numbers are a PAGE field in the footer.
    # (An entry's text is its heading's, a tab, then the page number once computed.)
    toc_entries = [t.split("\t")[0] for t in styled(document, "toc 1")]
    assert toc_entries[:2] == ["Programme", "Le processus et sa méthode"]
    assert "Participation" in toc_entries
    body_xml = etree.tostring(document.element.body).decode()
    assert body_xml.count(" PAGEREF _Toc") == len(toc_entries) + len(styled(document, "toc 2"))
    footer_xml = etree.tostring(document.sections[0].footer._element).decode()
    assert "PAGE" in footer_xml

    # Per field: questions, hypotheses and expert inputs with their stances.
    assert "Questions vives" in styled(document, "Heading 2")
    assert "Éclairages" in styled(document, "Heading 2")
    assert any(t.startswith("soutient : ") for t in styled(document, "List Bullet"))

    # The session: its details and participants per group.
    assert SESSION in styled(document, "Heading 2")
    polls = polls_of_session(document, SESSION)
    assert len(polls) == 4

    consensus_tables = tables_after(document, polls[0], SESSION)
    assert len(consensus_tables[0].rows) == 1 + 5  # header + the five answers
    assert len(consensus_tables[1].rows) == 1 + 2  # header + two groups shown
    first_column = [row.cells[0].text for row in consensus_tables[0].rows[1:]]
    assert first_column == [
        labels[key] for key in ("full", "reservations", "mixed", "disagree", "block")
    ]
    # The first column is the chart's legend: each answer cell in its bar colour.
    fills = [
        row.cells[0]._tc.tcPr.find(f"{W}shd").get(f"{W}fill")
        for row in consensus_tables[0].rows[1:]
    ]
    assert fills == [charts.hex_colour(i) for i in range(5)]
    counts = [row.cells[1].text for row in consensus_tables[0].rows[1:]]
    assert counts == ["3", "2", "2", "1", "0"]

    yes_no_tables = tables_after(document, polls[1], SESSION)
    assert len(yes_no_tables[0].rows) == 1 + 3
    dot_tables = tables_after(document, polls[2], SESSION)
    assert len(dot_tables[0].rows) == 1 + len(OPTIONS)
    assert [row.cells[1].text for row in dot_tables[0].rows[1:]] == ["2", "4"]
    mj_tables = tables_after(document, polls[3], SESSION)
    assert len(mj_tables[0].rows) == 1 + len(OPTIONS)

    # One chart per poll with ballots, as an inline picture.
    assert len(document.inline_shapes) == polls_with_ballots
    # Outcome lines under the polls, with the process's thresholds in the appendix.
    # 5 of 8 ballots support the finding: 62.5 %, under 75 % and over 50 %: to rework.
    assert (
        "À retravailler, 8 votes — 62,5\xa0% de soutien, 0\xa0% de blocages : soutien sous le "
        "seuil de validation de 75\xa0%, d’au moins 50\xa0% → à retravailler"
    ) in outcome_lines(document)
    appendix_text = "\n".join(p.text for p in document.paragraphs)
    assert "validé à partir de 75 % de soutien" in appendix_text

    # Amendments with their versions, comments from the floor.
    paragraphs = [p.text for p in document.paragraphs]
    assert "Texte amendé par l’atelier." in paragraphs
    assert any(t.startswith("Version 2 (amendement") for t in paragraphs)
    assert "Ajouter « dans la durée »." in paragraphs
    assert "Merci pour l’accueil !" in paragraphs
    assert polls_of_session(document, "Assemblée générale — Assemblée générale") == [
        "Vote : Amendement — Ajouter « dans la durée »."
    ]

    # Participation: one row per session, then per group.
    participation = tables_after(document, "Participation")
    assert len(participation[0].rows) == 1 + session_count
    # The demo footnote survived (the synthesis part of the Actes reuses the builder).
    assert any("mise en réseau multilatérale" in t for t in footnote_texts(document).values())
    convert_to_pdf(path, tmp_path)


def test_proceedings_of_an_empty_process(app, tmp_path):
    from deliberation.models import Process

    with app.app_context():
        process = Process(slug="vide", title="Vide", language="en")
        db.session.add(process)
        db.session.commit()
        document, _ = reopen(build_proceedings(process), tmp_path)
    assert "No session has been held yet." in [p.text for p in document.paragraphs]
    assert "Appendix: vote methods and thresholds" in styled(document, "Heading 1")


def test_proceedings_cli_default_name(app, runner):
    from deliberation.documents.jobs import default_filename, process_dir

    with app.app_context():
        process_id = demo_process().id
    result = runner.invoke(args=["export", "proceedings", "--process", "assises-insertion"])
    assert result.exit_code == 0, result.output
    folder = process_dir(app.config["EXPORTS_DIR"], process_id)
    path = folder / default_filename("proceedings", "assises-insertion")
    assert path.exists() and "-actes-" in path.name
    assert docx.Document(str(path)).paragraphs[1].text == "Actes"
