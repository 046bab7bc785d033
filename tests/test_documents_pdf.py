"""Both documents as LibreOffice lays them out (issue 13, « Done when »): the PDF text of the
Synthèse of the hand-written process file of the source text (the demo) reproduces it word
for word, in order; both tables of contents have page numbers; every chart of the Actes
shows its labels; the minutes are printed."""

from __future__ import annotations

import re

import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree
from test_documents_proceedings import make_sessions
from test_documents_synthesis import bare_demo_process, convert_to_pdf, demo_process, reopen

from deliberation.documents.proceedings import build_proceedings
from deliberation.documents.synthesis import build_synthesis
from deliberation.extensions import db
from deliberation.models import AgendaItem, LiveSession
from deliberation.services.authoring.process_format import load_yaml
from deliberation.services.demo.demo import DEMO_FILE
from deliberation.services.live import minutes

pypdf = pytest.importorskip("pypdf")

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
TOC_LINE = re.compile(r"^(.+?)\.{3,}\s*(\d+)\s*$", re.MULTILINE)
AXIS = "0% 10% 20% 30% 40% 50% 60% 70% 80% 90% 100%"
# A footnote's call is printed glued to its word (« opérateurs1. »): not a word of the text.
RUNNING_HEAD = "Assises de l’insertion"
NOTE_CALL = re.compile(r"(?<=[^\d\s])\d{1,2}(?=[.,;:]?$)")


def pdf_pages(path, tmp_path) -> list[str]:
    reader = pypdf.PdfReader(str(convert_to_pdf(path, tmp_path)))
    return [page.extract_text() for page in reader.pages]


def words(text: str) -> list[str]:
    return [NOTE_CALL.sub("", word) for word in text.split()]


def source_items() -> tuple[list[str], list[str]]:
    """Fields 1-3 of the demo file, in document order: the findings and their
    recommendations, action paths and conditions; then the lines of their notes."""
    data = load_yaml(DEMO_FILE.read_text(encoding="utf-8"))
    body, notes = [], []
    for field_ in data["fields"][:3]:
        for finding in field_["findings"]:
            body.append(finding["text"])
            for key in ("recommendations", "action_paths", "conditions"):
                for item in finding.get(key, []):
                    body.append(item["text"] if isinstance(item, dict) else item)
            for note in finding.get("notes", []):
                notes += [re.sub(r"^- ", "", line) for line in note.splitlines() if line.strip()]
    # A [^n] marker is the footnote's call, not a word.
    return [re.sub(r"\s*\[\^\d+\]", "", text) for text in body], notes


def _runs(haystack: list[str], needle: list[str], start: int, stop: int) -> list[int]:
    """Where ``needle`` occurs word for word (contiguous) in ``haystack[start:stop]``."""
    first = needle[0]
    return [
        i
        for i in range(start, min(stop, len(haystack)) - len(needle) + 1)
        if haystack[i] == first and haystack[i : i + len(needle)] == needle
    ]


def find_in_order(haystack: list[str], needle: list[str], start: int) -> int | None:
    """Where ``needle`` starts in ``haystack`` at or after ``start``: word for word, or cut
    once by a page turn (the words between then include the next page's running head)."""
    whole = _runs(haystack, needle, start, len(haystack))
    if whole:
        return whole[0]
    for cut in range(1, len(needle)):
        for head in _runs(haystack, needle[:cut], start, len(haystack)):
            end = head + cut
            for tail in _runs(haystack, needle[cut:], end, end + 300):
                if RUNNING_HEAD in " ".join(haystack[end:tail]):
                    return head
    return None


def toc_numbers(pages: list[str], entries: list[str]) -> dict[str, int]:
    toc_text = "\n".join(pages[1:3])
    numbered = {title.strip(): int(page) for title, page in TOC_LINE.findall(toc_text)}
    assert len(numbered) >= len(entries), toc_text
    return numbered


def test_synthesis_pdf_has_numbered_contents_and_the_source_word_for_word(app, tmp_path):
    with app.app_context():
        document, path = reopen(build_synthesis(demo_process()), tmp_path, "synthese.docx")
    entries = [p.text.split("\t")[0] for p in document.paragraphs if p.style.name == "toc 1"]
    assert entries[0] == "Note d’introduction" and len(entries) == 6  # and the five fields
    pages = pdf_pages(path, tmp_path)
    assert "Table des matières" in pages[1]
    numbers = toc_numbers(pages, entries)
    ordered = [numbers[entry] for entry in entries]
    assert ordered == sorted(ordered) and ordered[0] > 2 and ordered[-1] <= len(pages)
    # Each entry's page is where its heading is printed.
    for entry, page in numbers.items():
        assert entry in pages[page - 1], entry
    # The source, word for word and in order, from the first page after the contents.
    text = words("\n".join(pages[2:]))
    body, notes = source_items()
    position, counted = 0, 0
    for item in body:
        found = find_in_order(text, words(item), position)
        assert found is not None, item
        position = found + 1
        counted += len(words(item))
    for line in notes:
        assert find_in_order(text, words(line), 0) is not None, line
    assert (len(body), counted, len(notes)) == (49, 1013, 12)


def chart_labels(document) -> list[tuple[list[str], list[str]]]:
    """(categories, series names) of every chart, in the order of the body."""
    parts = {
        rel.rId: rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.CHART
    }
    found = []
    for chart in document.element.body.iter(f"{C}chart"):
        root = etree.fromstring(parts[chart.get(f"{R}id")].blob)
        categories = [v.text for v in root.find(f".//{C}cat").iter(f"{C}v")]
        series = [ser.find(f"{C}tx").find(f".//{C}v").text for ser in root.iter(f"{C}ser")]
        found.append((categories, series))
    return found


def test_actes_pdf_numbered_contents_every_charts_labels_and_minutes(app, tmp_path):
    with app.app_context():
        process = bare_demo_process()
        make_sessions(process)
        db.session.commit()
        live = db.session.scalar(db.select(LiveSession).filter_by(process_id=process.id))
        item = db.session.scalar(
            db.select(AgendaItem).filter_by(session_id=live.id).order_by(AgendaItem.position)
        )
        minutes.save(live, item.id, "Les usagers demandent un référent unique.", None, "a@b.c")
        document, path = reopen(build_proceedings(process), tmp_path, "actes.docx")
    entries = [p.text.split("\t")[0] for p in document.paragraphs if p.style.name == "toc 1"]
    charts = chart_labels(document)
    assert len(charts) == 4
    pages = pdf_pages(path, tmp_path)
    numbers = toc_numbers(pages, entries)
    assert 2 < numbers["Le processus et sa méthode"] < numbers["Participation"] <= len(pages)
    text = "\n".join(pages)
    # Each chart: its categories on the lines just above its value axis, its legend (every
    # series) between the axis and its caption.
    axes = [match.start() for match in re.finditer(re.escape(AXIS), text)]
    assert len(axes) == len(charts)
    for (categories, series), axis in zip(charts, axes, strict=True):
        above = text[:axis].splitlines()[-(len(categories) + 3) :]
        for category in categories:
            assert any(category in line for line in above), (category, above)
        caption = min(
            text.find(marker, axis) % len(text) for marker in ("Répartition", "Mentions reçues")
        )
        legend = " ".join(text[axis:caption].split())
        for name in series:
            assert " ".join(name.split()) in legend, (name, legend)
    assert "Compte rendu" in text and "Les usagers demandent un référent unique." in text
