"""Page furniture, tables that read and the documents' language (issue 13): the demo's Actes
and Synthèse opened with python-docx, and converted by LibreOffice where layout matters."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.table import Table
from docx.text.paragraph import Paragraph
from flask_babel import force_locale
from lxml import etree
from test_documents_proceedings import make_sessions
from test_documents_synthesis import bare_demo_process, convert_to_pdf, demo_process, reopen

from deliberation import methods
from deliberation.documents.proceedings import build_proceedings
from deliberation.documents.synthesis import build_synthesis
from deliberation.extensions import db
from deliberation.models import LiveSession, Process
from deliberation.wording import date_words, percent_cell, typographic

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
SML = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# One decimal and the sign; abstentions say their own base (the ballots cast, not the votes).
PERCENT = re.compile(r"^\d{1,3},\d\u202f%( des bulletins)?$")


def all_text(document) -> str:
    """Every paragraph and every table cell, in document order."""
    parts = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            parts.append(block.text)
        else:
            parts.extend(cell.text for row in block.rows for cell in row.cells)
    return "\n".join(parts)


def bare_headings(document) -> list[str]:
    """Headings (levels 1-2) with nothing under them before the next heading of the same or a
    higher level."""
    found, open_heading = [], None
    for block in document.iter_inner_content():
        level = None
        if isinstance(block, Paragraph):
            name = block.style.name
            if name in ("Heading 1", "Heading 2"):
                level = int(name[-1])
            elif not block.text.strip() and not block._p.xpath(".//w:drawing"):
                continue  # an empty paragraph says nothing
        if open_heading is not None:
            if level is not None and level <= open_heading[0]:
                found.append(open_heading[1])
            elif level is None:
                open_heading = None
        if level is not None:
            open_heading = (level, block.text)
    if open_heading is not None:
        found.append(open_heading[1])
    return found


def english_only_labels() -> set[str]:
    """Every answer or grade label of every vote method that differs in English and French."""
    process = Process(slug="x", title="x", language="fr")
    found = set()
    for method in methods.METHODS:
        with force_locale("en"):
            english = method.answer_labels(process)
        with force_locale("fr"):
            french = method.answer_labels(process)
        found |= {label for key, label in english.items() if label != french.get(key)}
        # The keys too ("very_good"), unless the French label is the same word.
        lowered = {label.lower() for label in french.values()}
        found |= {key for key in english if key not in lowered}
    return {label for label in found if len(label) > 3}


@pytest.fixture
def actes(app, tmp_path):
    with app.app_context():
        process = bare_demo_process()
        make_sessions(process)
        db.session.commit()
        document, path = reopen(build_proceedings(process), tmp_path, "actes.docx")
        organisers = process.steering_committee.split(",")[0]
    return document, path, organisers


def test_cover_without_page_number_and_document_properties(actes):
    document, _, organisers = actes
    section = document.sections[0]
    # The cover is the first page: it has its own footer, without the PAGE field.
    assert section.different_first_page_header_footer
    first_footer = etree.tostring(section.first_page_footer._element).decode()
    assert "PAGE" not in first_footer
    assert "PAGE" in etree.tostring(section.footer._element).decode()
    core = document.core_properties
    assert core.author == organisers.strip() and "Comité de pilotage" in core.author
    assert core.title.endswith("— Actes")
    now = datetime.now(UTC).replace(tzinfo=None)
    for moment in (core.created, core.modified):
        assert abs((moment.replace(tzinfo=None) - now).total_seconds()) < 3600


def test_tables_read_as_tables(actes):
    document, _, _ = actes
    blocks = list(document.iter_inner_content())
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) >= 8
    for index, block in enumerate(blocks):
        if isinstance(block, Table):
            # Never two tables touching: a paragraph always follows a table.
            assert isinstance(blocks[index + 1], Paragraph)
    for table in tables:
        rows = table._tbl.tr_lst
        # The header row repeats on each page and has no empty cell; no row splits.
        assert rows[0].trPr.find(f"{W}tblHeader") is not None
        assert all(cell.text.strip() for cell in table.rows[0].cells)
        assert all(row.trPr.find(f"{W}cantSplit") is not None for row in rows)
        # The header row stays with the first row of the table.
        assert rows[0].xpath(".//w:keepNext")

    # The session table: real headers, a date in words, the place once.
    session = next(
        t for t in tables if [c.text for c in t.rows[0].cells][::3] == ["Date", "Participants"]
    )
    assert [c.text for c in session.rows[0].cells] == ["Date", "Territoire", "Lieu", "Participants"]
    assert session.rows[1].cells[0].text == "2 octobre 2014"
    assert session.rows[1].cells[2].text == "Salle du CSEF"

    # Percentages: one decimal and their sign, everywhere in the results tables.
    percents = [
        row.cells[-1].text
        for table in tables
        if table.rows[0].cells[-1].text == "%"
        for row in table.rows[1:]
        if row.cells[-1].text != "–"
    ]
    assert percents and [p for p in percents if not PERCENT.match(p)] == [], percents
    assert "37,5\u202f%" in percents  # 3 of the 8 ballots fully agree


def test_vote_headings_say_what_was_voted(actes):
    document, _, _ = actes
    polls = [
        p.text for p in document.paragraphs if p.style.name == "Heading 3" and "Vote : " in p.text
    ]
    assert any(p.startswith("Vote : Constat 1 — ") for p in polls)
    assert any(p.startswith("Vote : Recommandation 1.1 — ") for p in polls)
    assert any(p.startswith("Vote : Piste d’action 1.1 — ") for p in polls)
    assert any(p.startswith("Vote : Piste d’action 1.2 — ") for p in polls)
    # The whole text, never cut.
    assert not any(p.endswith("…") for p in polls)


def test_french_actes_speak_french_only(actes):
    document, _, _ = actes
    text = all_text(document)
    assert not ISO_DATE.search(text), ISO_DATE.search(text)
    words_in_text = set(re.findall(r"[\w’']+", text))
    for label in english_only_labels():
        if " " in label:
            assert label not in text, label
        else:
            assert label not in words_in_text, label
    # The majority grades in words, the answers with the typographic apostrophe.
    assert "Bien" in text
    assert "'" not in "".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert "Tout à fait d’accord" in text


def test_no_bare_heading(app, actes, tmp_path):
    document, _, _ = actes
    assert bare_headings(document) == []
    with app.app_context():
        synthesis, _ = reopen(build_synthesis(demo_process()), tmp_path, "synthese.docx")
    assert bare_headings(synthesis) == []
    text = [p.text for p in synthesis.paragraphs]
    assert "Aucun constat n’a encore été rédigé dans ce champ." in text


def test_empty_sections_say_so(app, tmp_path):
    with app.app_context():
        process = Process(slug="vide-fr", title="Vide", language="fr")
        db.session.add(process)
        db.session.commit()
        document, _ = reopen(build_proceedings(process), tmp_path)
    text = [p.text for p in document.paragraphs]
    for sentence in (
        "Aucune séance n’a encore été tenue.",
        "Aucun amendement n’a été déposé et aucun texte n’a été modifié.",
        "Aucune proposition ni aucun commentaire n’a été fait en séance.",
        "Aucun élément n’a encore été soumis au vote.",
        "Aucune participation n’a encore été enregistrée.",
    ):
        assert sentence in text
    assert bare_headings(document) == []


def test_pdf_table_of_contents_has_page_numbers(actes, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    document, path, _ = actes
    entries = [p.text.split("\t")[0] for p in document.paragraphs if p.style.name == "toc 1"]
    pdf = pypdf.PdfReader(str(convert_to_pdf(path, tmp_path)))
    pages = [page.extract_text() for page in pdf.pages]
    # The cover carries no page number; the table of contents is on page 2.
    assert not re.search(r"^\s*1\s*$", pages[0], re.MULTILINE)
    toc_text = "\n".join(pages[1:3])
    numbered = re.findall(r"^(.+?)\.{3,}\s*(\d+)\s*$", toc_text, re.MULTILINE)
    assert len(numbered) >= len(entries)
    by_title = {title.strip(): int(page) for title, page in numbered}
    assert 2 < by_title["Le processus et sa méthode"] < by_title["Participation"] <= len(pages)


def test_language_helpers():
    assert date_words(datetime(2013, 10, 24).date(), "fr") == "24 octobre 2013"
    assert date_words(datetime(2013, 10, 24).date(), "en") == "24 October 2013"
    assert date_words(None, "fr") == "–"
    assert percent_cell(20, "fr") == "20,0\u202f%"
    assert percent_cell(53.3, "en") == "53.3%"
    assert percent_cell(None, "fr") == "–"
    assert typographic("Pas d'accord", "fr") == "Pas d’accord"
    assert typographic("Don't", "en") == "Don't"


C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def chart_parts(document) -> list:
    """The chart parts in the order the body shows them."""
    parts = {
        rel.rId: rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.CHART
    }
    body = document.element.body
    return [parts[chart.get(f"{R}id")] for chart in body.iter(f"{C}chart")]


def chart_series(part) -> dict[str, list[int]]:
    root = etree.fromstring(part.blob)
    return {
        ser.find(f"{C}tx").find(f".//{C}v").text: [
            int(float(v.text)) for v in ser.find(f"{C}val").iter(f"{C}v")
        ]
        for ser in root.iter(f"{C}ser")
    }


def workbook_values(part) -> tuple[set[str], list[int]]:
    """The strings and the numbers of a chart's embedded workbook."""
    workbook = next(rel.target_part for rel in part.rels.values() if rel.reltype == RT.PACKAGE)
    with zipfile.ZipFile(io.BytesIO(workbook.blob)) as xlsx:
        strings = {
            t.text for t in etree.fromstring(xlsx.read("xl/sharedStrings.xml")).iter(f"{SML}t")
        }
        sheet = etree.fromstring(xlsx.read("xl/worksheets/sheet1.xml"))
    numbers = [
        int(float(c.find(f"{SML}v").text))
        for c in sheet.iter(f"{SML}c")
        if c.get("t") != "s" and c.find(f"{SML}v") is not None
    ]
    return strings, numbers


def test_native_charts_one_per_poll_with_their_workbook(actes):
    document, _, _ = actes
    parts = chart_parts(document)
    polls = [
        p.text for p in document.paragraphs if p.style.name == "Heading 3" and "Vote : " in p.text
    ]
    # Every poll of the sessions has ballots, so every poll has its chart.
    assert len(parts) == len(polls) == len(document.inline_shapes)
    consensus_chart = parts[0]
    series = chart_series(consensus_chart)
    # One series per answer; one bar for everyone, then the two groups shown.
    assert series == {
        "Tout à fait d’accord": [3, 2, 1],
        "D’accord avec réserves": [2, 1, 1],
        "Partagé": [2, 1, 1],
        "Pas d’accord": [1, 0, 1],
        "Opposition ferme (blocage)": [0, 0, 0],
    }
    root = etree.fromstring(consensus_chart.blob)
    categories = [v.text for v in root.find(f".//{C}cat").iter(f"{C}v")]
    assert categories == ["Ensemble", "Personnes accompagnées", "Travailleurs sociaux"]
    assert root.find(f".//{C}legend") is not None and root.find(f".//{C}dLbls") is not None
    strings, numbers = workbook_values(consensus_chart)
    assert set(series) | set(categories) <= strings
    assert sorted(numbers) == sorted(v for values in series.values() for v in values)
    # The majority judgment chart: options split into their grades, in French.
    grades = chart_series(parts[3])
    assert list(grades)[:3] == ["Excellent", "Très bien", "Bien"] and grades["Bien"] == [3, 0]
    # Alt text: the caption and every bar's numbers.
    descriptions = [d.get("descr") for d in document.element.body.iter(f"{WP}docPr")]
    assert descriptions[0].startswith("Répartition des réponses")
    assert "Ensemble : Tout à fait d’accord 3, D’accord avec réserves 2" in descriptions[0]


def test_pdf_shows_each_charts_labels(actes, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    _, path, _ = actes
    pdf = pypdf.PdfReader(str(convert_to_pdf(path, tmp_path)))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    caption = text.index("Répartition des réponses")
    chart_text = text[max(0, caption - 400) : caption]
    for label in ("Ensemble", "Personnes accompagnées", "Opposition ferme (blocage)", "100%"):
        assert label in chart_text, label


def test_markdown_tables_lists_and_outcome_styles(tmp_path):
    from deliberation.documents.docxkit import DocWriter, outcome_style

    writer = DocWriter(docx.Document(), "fr")
    writer.markdown(
        "Avant.\n\n| Acteur | Rôle |\n|---|---|\n| Forem | financer |\n| CPAS | orienter |"
    )
    heading = writer.paragraph("1. ", "Finding")
    writer.inline_markdown(heading, "Un constat :\n\n- premier point ;\n- second point.", "Normal")
    for verdict in ("validated", "rework", "rejected", None):
        writer.paragraph(f"verdict {verdict}", outcome_style(verdict))
    writer.page_numbers("Assises de l’insertion")
    document, _ = reopen(writer.document, tmp_path, "markdown.docx")
    # The Markdown table is a Word table, its first row the header.
    table = document.tables[0]
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["Acteur", "Rôle"],
        ["Forem", "financer"],
        ["CPAS", "orienter"],
    ]
    # The finding's statement keeps its first paragraph; its list stays a list after it.
    by_style = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Finding", "1. Un constat :") in by_style
    assert ("List Bullet", "premier point ;") in by_style
    assert ("List Bullet", "second point.") in by_style
    # Each verdict its own style, its colour and a bar in the margin.
    styles = [p.style for p in document.paragraphs if p.text.startswith("verdict")]
    assert [s.name for s in styles] == [
        "Outcome Validated",
        "Outcome Rework",
        "Outcome Rejected",
        "Outcome",
    ]
    assert len({str(s.font.color.rgb) for s in styles[:3]}) == 3
    assert all(s.element.pPr.find(f"{W}pBdr") is not None for s in styles[:3])
    # The running head: the process's title on every page but the cover.
    section = document.sections[0]
    assert section.header.paragraphs[0].text == "Assises de l’insertion"
    assert section.first_page_header.paragraphs[0].text == ""


def test_export_writes_the_pdf_beside_the_document(app, monkeypatch):
    from deliberation.documents import pdf as pdf_module
    from deliberation.documents.jobs import build_document, exported_files

    if pdf_module.libreoffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed: no PDF")
    pypdf = pytest.importorskip("pypdf")
    with app.app_context():
        process = demo_process()
        exports_dir = app.config["EXPORTS_DIR"]
        path = build_document("synthesis", process.id, None, exports_dir, pdf=True)
        names = [p.name for p in exported_files(exports_dir, process.id)]
        # Without LibreOffice the export still succeeds, without a PDF.
        monkeypatch.setattr(pdf_module, "libreoffice", lambda: None)
        path.with_suffix(".pdf").rename(path.with_suffix(".pdf.kept"))
        build_document("synthesis", process.id, None, exports_dir, pdf=True)
        assert not path.with_suffix(".pdf").exists()
    assert sorted(names) == sorted([path.name, path.with_suffix(".pdf").name])
    reader = pypdf.PdfReader(str(path.with_suffix(".pdf.kept")))
    assert "Synthèse des possibles" in reader.pages[0].extract_text()


def test_programme_opens_the_actes_and_participation_per_territory(app, tmp_path):
    with app.app_context():
        process = demo_process()
        document, _ = reopen(build_proceedings(process), tmp_path, "programme.docx")
        sessions = db.session.scalars(
            db.select(LiveSession).where(LiveSession.process_id == process.id)
        ).all()
        territories = {live.territory.name for live in sessions if live.territory}
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    # The programme comes first, before the process and its method.
    assert headings[:2] == ["Programme", "Le processus et sa méthode"]
    programme = tables_under(document, "Programme")[0]
    assert [c.text for c in programme.rows[0].cells] == ["Date", "Séance", "Champ", "Territoire"]
    assert len(programme.rows) == 1 + len(sessions)
    assert programme.rows[1].cells[0].text == "24 octobre 2013"
    assert programme.rows[1].cells[1].text.startswith("Atelier — ")
    # Participation: per session, per group, then per territory.
    participation = tables_under(document, "Participation")
    assert {row.cells[0].text for row in participation[2].rows[1:]} == territories
    # Then the attendance at the demo's assembly (its registrants): per event, per group.
    assert len(participation) == 5
    header = [c.text for c in participation[3].rows[0].cells]
    assert header == ["Événement", "Date", "Territoire", "Inscrits", "Présents"]
    assert [c.text for c in participation[4].rows[0].cells] == ["Groupe", "Inscrits", "Présents"]


def tables_under(document, heading: str) -> list[Table]:
    found, tables = False, []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph) and block.style.name == "Heading 1":
            found = block.text == heading
        elif found and isinstance(block, Table):
            tables.append(block)
    return tables


def test_english_actes_carry_no_french_labels(app, tmp_path):
    with app.app_context():
        process = bare_demo_process()
        process.language = "en"
        make_sessions(process)
        db.session.commit()
        document, _ = reopen(build_proceedings(process), tmp_path, "proceedings.docx")
        french = set()
        for method in methods.METHODS:
            with force_locale("fr"):
                fr = method.answer_labels(process)
            with force_locale("en"):
                en = method.answer_labels(process)
            french |= {label for key, label in fr.items() if label != en.get(key)}
    # The results tables and the charts: every answer and grade in English.
    cells = {
        cell.text
        for table in document.tables
        if table.rows[0].cells[-1].text == "%"
        for row in table.rows
        for cell in row.cells
    }
    series = {name for part in chart_parts(document) for name in chart_series(part)}
    assert french and not (french & (cells | series))
    assert {"Good", "Poor"} <= series
    assert "Programme" in [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert not ISO_DATE.search(all_text(document))
    assert "2 October 2014" in all_text(document)


def test_a_title_keeps_its_non_breaking_spaces():
    from deliberation.services.validation import check_title, one_line

    assert one_line("  Accompagnement\u00a0:\n  droit\u202f;  travail ") == (
        "Accompagnement\u00a0: droit\u202f; travail"
    )
    assert check_title("Champ\u00a0:  un", "title") == "Champ\u00a0: un"
