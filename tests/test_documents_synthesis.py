"""The Synthèse des possibles, opened with python-docx and converted by LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
import yaml
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree

from deliberation.documents.jobs import build_document, default_filename, process_dir
from deliberation.documents.synthesis import build_synthesis
from deliberation.extensions import db
from deliberation.models import Note, Process
from deliberation.services.authoring.process_file import import_process_file
from deliberation.services.authoring.text import NOTE_MARKER
from deliberation.services.demo.demo import DEMO_FILE, ensure_demo
from deliberation.services.demo.demo_sessions import Vote, record_session

ROOT = Path(__file__).resolve().parent.parent
SEED = Path("/work/shared/seeds/004_3731fca06418735d.txt")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def demo_process() -> Process:
    ensure_demo("organisateur@example.org")
    return db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))


def bare_demo_process() -> Process:
    """The demo process without its demonstration workshops, for tests that record their own
    sessions and check the figures these alone give."""
    found = db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))
    return found or import_process_file(DEMO_FILE)


def item_text(item: str | dict) -> str:
    """A recommendation, action path or condition of the demo file: a text, or (when placed
    on the second grid) a mapping with its text and grid tags."""
    return item["text"] if isinstance(item, dict) else item


def reopen(document, tmp_path: Path, name: str = "doc.docx"):
    path = tmp_path / name
    document.save(str(path))
    return docx.Document(str(path)), path


def styled(document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]


def outcome_lines(document) -> list[str]:
    """Outcome lines, whatever their verdict's style ("Outcome Validated"…)."""
    return [p.text for p in document.paragraphs if p.style.name.startswith("Outcome")]


def footnotes_xml(document):
    for rel in document.part.rels.values():
        if rel.reltype == RT.FOOTNOTES:
            return etree.fromstring(rel.target_part.blob)
    return None


def footnote_texts(document) -> dict[int, str]:
    root = footnotes_xml(document)
    if root is None:
        return {}
    notes = {}
    for note in root.iter(f"{W}footnote"):
        note_id = int(note.get(f"{W}id"))
        if note_id > 0:
            notes[note_id] = "\n".join(
                "".join(t.text or "" for t in p.iter(f"{W}t")) for p in note.iter(f"{W}p")
            )
    return notes


def convert_to_pdf(path: Path, outdir: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: no PDF conversion check")
    profile = outdir / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = outdir / (path.stem + ".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000, "LibreOffice produced no PDF"
    assert pdf.read_bytes().startswith(b"%PDF")
    return pdf


def test_demo_synthesis_structure(app, tmp_path):
    source = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    with app.app_context():
        process = demo_process()
        document, _ = reopen(build_synthesis(process), tmp_path)

    headings = styled(document, "Heading 1")
    for index, field in enumerate(source["fields"], start=1):
        assert f"{index}. {field['title']}" in headings

    findings = styled(document, "Finding")
    numbers = [int(text.split(".", 1)[0]) for text in findings]
    assert numbers == [1, 2, 3, 4, 5, 6]  # continuous across fields 1 to 3

    # Under each finding its sub-headings, singular or plural after the count.
    expected_subheadings = []
    for field in source["fields"]:
        for finding in field.get("findings", []):
            for key, one, many in (
                ("recommendations", "Recommandation :", "Recommandations :"),
                ("action_paths", "Piste d’action :", "Pistes d’action :"),
                ("conditions", "Condition de mise en œuvre :", "Conditions de mise en œuvre :"),
            ):
                items = finding.get(key, [])
                if items:
                    expected_subheadings.append(one if len(items) == 1 else many)
    assert styled(document, "Finding Subheading")[-len(expected_subheadings) :] == (
        expected_subheadings
    )
    # The first finding has all three.
    body = [p.text for p in document.paragraphs]
    first = body.index(findings[0])
    second = body.index(findings[1])
    for label in ("Recommandation :", "Pistes d’action :", "Condition de mise en œuvre :"):
        assert label in body[first:second]

    # Action paths are bullets in the List Bullet style.
    bullets = styled(document, "List Bullet")
    assert item_text(source["fields"][0]["findings"][0]["action_paths"][0]) in bullets

    # The note of finding 2 is a real footnote, referenced from its condition.
    notes = footnote_texts(document)
    network_note = [text for text in notes.values() if "mise en réseau multilatérale" in text]
    assert network_note and "l’évaluation permanente du partenariat" in network_note[0]
    reference_ids = {
        int(ref.get(f"{W}id"))
        for p in document.paragraphs
        if "Renforcer la mise en réseau multilatérale" in p.text
        for ref in p._p.iter(f"{W}footnoteReference")
    }
    assert reference_ids and reference_ids <= set(notes)
    # The note's own list is in a list style inside the footnote, at the note's size.
    root = footnotes_xml(document)
    list_styles = {s.get(f"{W}val") for s in root.iter(f"{W}pStyle")}
    assert "FootnoteListBullet" in list_styles
    note_list = document.styles["Footnote List Bullet"]
    assert note_list.base_style.name == "List Bullet" and note_list.font.size.pt == 9

    # Page numbers: a PAGE field in the footer.
    footer_xml = etree.tostring(document.sections[0].footer._element).decode()
    assert "PAGE" in footer_xml and "fldChar" in footer_xml


def test_demo_synthesis_reproduces_fields_one_to_three_verbatim(app, tmp_path):
    source = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    seed = SEED.read_text(encoding="utf-8") if SEED.exists() else None
    with app.app_context():
        document, _ = reopen(build_synthesis(demo_process()), tmp_path)
    paragraphs = [p.text for p in document.paragraphs]
    number = 0
    checked = 0
    for field in source["fields"][:3]:
        for finding in field["findings"]:
            number += 1
            assert f"{number}. {finding['text']}" in paragraphs
            for key in ("recommendations", "action_paths", "conditions"):
                for text in map(item_text, finding.get(key, [])):
                    # A [^n] marker becomes a footnote reference, which is not paragraph text.
                    assert NOTE_MARKER.sub("", text) in paragraphs, text
                    checked += 1
            if seed is not None:
                assert finding["text"] in seed
                first_recommendation = item_text(finding["recommendations"][0])
                assert first_recommendation in seed
    assert checked > 30
    if seed is not None:
        # Spot checks straight from the published text.
        for fragment in (
            "Co-construire et co-piloter le dispositif d’accompagnement au niveau de chaque "
            "territoire pour en garantir la cohérence et l’efficacité.",
            "Revoir les motifs de sanction.",
            "Doter le centre de compétence d’instances décisionnelles multi opérateurs.",
        ):
            assert fragment in seed
            assert any(fragment in text for text in paragraphs)


def _consensus(full: int, reservations: int, disagree: int, group: str = "social_worker"):
    return (
        [(group, {"answer": "full"})] * full
        + [(group, {"answer": "reservations"})] * reservations
        + [(group, {"answer": "disagree"})] * disagree
    )


def test_outcome_lines_prefer_the_assembly(app, tmp_path):
    with app.app_context():
        process = bare_demo_process()
        finding = process.fields[0].findings[0]
        recommendation = finding.recommendations[0]
        territory = process.territories[0]
        # A workshop rejects the finding and supports the recommendation...
        record_session(
            process,
            "Atelier Liège",
            [
                Vote("finding", finding.id, _consensus(1, 1, 8)),
                Vote("recommendation", recommendation.id, _consensus(6, 2, 2)),
            ],
            territory=territory,
        )
        # ... the general assembly then validates the finding: 9 of 10 support it.
        record_session(
            process,
            "Assemblée générale",
            [Vote("finding", finding.id, _consensus(8, 1, 1))],
            session_kind="assembly",
        )
        document, _ = reopen(build_synthesis(process), tmp_path)
    outcomes = outcome_lines(document)
    assert (
        "Validé en assemblée générale, 10 votes — 90\xa0% de soutien, 0\xa0% de blocages : "
        "soutien d’au moins 70\xa0% et blocages sous 5\xa0% → validé"
    ) in outcomes
    assert (
        "Validé en atelier, 10 votes — 80\xa0% de soutien, 0\xa0% de blocages : soutien d’au "
        "moins 70\xa0% et blocages sous 5\xa0% → validé"
    ) in outcomes
    assert not any("Rejeté" in line for line in outcomes)


def test_a_vote_that_ranks_action_paths_gives_their_order_of_priority(app, tmp_path):
    with app.app_context():
        process = bare_demo_process()
        finding = next(f for field in process.fields for f in field.findings if f.action_paths)
        first, second = finding.action_paths[:2]
        options = [{"key": "p1", "label": first.text}, {"key": "p2", "label": second.text}]
        # 3 participants give 2 dots to the second path, 1 gives 1 dot to the first.
        ballots = [("employer", {"dots": {"p2": 2}})] * 3 + [("employer", {"dots": {"p1": 1}})]
        record_session(
            process,
            "Atelier Liège",
            [Vote("action_paths", finding.id, ballots, method="dot", options=options)],
            territory=process.territories[0],
        )
        document, _ = reopen(build_synthesis(process), tmp_path)
    lines = [line for line in outcome_lines(document) if "Ordre de priorité" in line]
    assert len(lines) == 1
    assert lines[0].startswith("Ordre de priorité (Vote par gommettes, en atelier, 4 votes) : 1. ")
    # The second path has 6 dots, the first 1: the second comes first.
    assert lines[0].index(" ".join(second.text.split())[:40]) < lines[0].index("2. ")


HOSTILE = (
    "Texte\x00 avec\x07 contrôles\x1b et surrogat, <script>alert('x')</script> "
    "**gras** et *italique*, عربي مرحبا (RTL) \u202eevil\u202c, emoji 🎉👩‍👩‍👧, "
    "tab\tet fin\ufffe"
)


def test_hostile_text_builds_and_converts(app, tmp_path):
    with app.app_context():
        process = demo_process()
        process.title = "Titre \x0b hostile 🎉 <b>"
        process.introduction = HOSTILE + "\n\n- liste **un**\n- deux [^9]\n\n1. premier\n2. second"
        finding = process.fields[0].findings[0]
        finding.text = HOSTILE
        finding.recommendations[0].text = "[lien](javascript:alert(1)) et " + HOSTILE
        finding.notes.append(Note(text=HOSTILE, position=5))
        process.language = "en"
        db.session.commit()
        document, path = reopen(build_synthesis(process), tmp_path, "hostile.docx")
    text = "\n".join(p.text for p in document.paragraphs)
    assert "alert('x')" not in text  # a script's body is never text to show
    assert "javascript:" not in text
    assert "عربي مرحبا" in text and "🎉" in text and "gras" in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe]", text)
    # Markdown lists became list styles, with their inline emphasis.
    assert "premier" in styled(document, "List Number")
    assert "liste un" in styled(document, "List Bullet")
    # English labels for an English process.
    assert "Recommendation:" in styled(document, "Finding Subheading")
    # The bold and italic Markdown became character styles, not direct formatting.
    run_styles = {r.style.name for p in document.paragraphs for r in p.runs if r.style}
    assert {"Strong", "Emphasis"} <= run_styles
    convert_to_pdf(path, tmp_path)


def test_lone_surrogates_and_controls_never_reach_the_xml(tmp_path):
    # A database refuses lone surrogates, but text can come from elsewhere (an import).
    from deliberation.documents.docxkit import DocWriter, clean_text

    assert clean_text("a\ud800b\x00c\x1fd\ufffee\r\nf") == "abcde\nf"
    writer = DocWriter(docx.Document(), "fr")
    writer.markdown("**gras\ud800** et \udfff*it*\x01")
    writer.paragraph("seul \udbff\x0c")
    writer.table(["a\ud800", "b"], [["\x02c", "d\udfff"]])
    document, _ = reopen(writer.document, tmp_path, "surrogates.docx")
    # (The last paragraph is the small gap that always follows a table.)
    assert [p.text for p in document.paragraphs][-3:] == ["gras et it", "seul ", ""]
    assert document.tables[0].rows[1].cells[0].text == "c"


def test_synthesis_converts_to_pdf(app, tmp_path):
    with app.app_context():
        _, path = reopen(build_synthesis(demo_process()), tmp_path, "synthese.docx")
    convert_to_pdf(path, tmp_path)


def test_cli_export_synthesis_default_name(app, runner, tmp_path):
    with app.app_context():
        process_id = demo_process().id
    result = runner.invoke(args=["export", "synthesis", "--process", "assises-insertion"])
    assert result.exit_code == 0, result.output
    folder = process_dir(app.config["EXPORTS_DIR"], process_id)
    expected = folder / default_filename("synthesis", "assises-insertion")
    assert expected.exists() and str(expected) in result.output
    assert docx.Document(str(expected)).paragraphs[0].text == "Assises de l’insertion"

    custom = tmp_path / "elsewhere" / "s.docx"
    result = runner.invoke(
        args=["export", "synthesis", "--process", "assises-insertion", "-o", str(custom)]
    )
    assert result.exit_code == 0 and custom.exists()

    result = runner.invoke(args=["export", "synthesis", "--process", "nope"])
    assert result.exit_code != 0 and "nope" in result.output


def test_build_document_rejects_unknown_kind(app):
    from deliberation.documents.jobs import ExportError

    with app.app_context():
        process = demo_process()
        with pytest.raises(ExportError):
            build_document("poster", process.id, None, app.config["EXPORTS_DIR"])
