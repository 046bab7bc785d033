"""The workshop handouts: for each published field its *Recommandations* and its
*Éclairages*, and the process's introduction note, in Word (and PDF when LibreOffice is
installed). Shape of the source texts: « ATELIER 1 : Recommandations Champ 1 »,
« Éclairages sur le dispositif d'accompagnement », « Note d'introduction ».

Built by an export worker (job kind ``handouts``, :mod:`.jobs`), all at once into
``exports/<process id>/handouts/``: a field's files are named by its id, so the public page
(``views/documents.py``) finds them and a renamed field keeps its links.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject

from ..models import Field, Process
from ..services.authoring.numbering import finding_numbers
from ..services.publishing.handouts import published_fields
from ..wording import date_words, words
from .docxkit import DocWriter, excerpt
from .pdf import write_pdf
from .synthesis import markdown_with_definitions, set_properties, write_finding
from .tree import load_process_tree

Progress = Callable[[int, int], None]
KINDS = ("recommendations", "inputs")
INTRODUCTION = "introduction"
HANDOUT_NAME = re.compile(r"^(?:(\d{1,12})-(recommendations|inputs)|introduction)\.(docx|pdf)$")


def handouts_dir(process_dir: Path) -> Path:
    return process_dir / "handouts"


def file_name(field_id: int | None, kind: str, suffix: str = ".docx") -> str:
    return f"{INTRODUCTION}{suffix}" if field_id is None else f"{field_id}-{kind}{suffix}"


def built_at(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None


def write_handouts(
    process: Process, directory: Path, progress: Progress | None = None, pdf: bool = False
) -> Path:
    """Build every published field's handouts and the introduction note into ``directory``;
    remove the files of fields no longer published. Returns the directory."""
    process = load_process_tree(process)
    fields = published_fields(process)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    wanted: set[str] = set()
    total = 2 * len(fields) + 1
    numbers = finding_numbers(process)
    positions = {f.id: index for index, f in enumerate(process.fields, start=1)}
    jobs: list[tuple[str, Callable[[], DocumentObject]]] = []
    if fields and process.introduction.strip():
        jobs.append((file_name(None, ""), lambda: build_introduction(process)))
    for field_ in fields:
        n = positions[field_.id]
        jobs.append(
            (
                file_name(field_.id, "recommendations"),
                lambda f=field_, n=n: build_recommendations(process, f, n, numbers),
            )
        )
        jobs.append(
            (file_name(field_.id, "inputs"), lambda f=field_, n=n: build_inputs(process, f, n))
        )
    for done, (name, build) in enumerate(jobs, start=1):
        path = directory / name
        _save(build(), path)
        wanted.add(name)
        if pdf and write_pdf(path):
            wanted.add(path.with_suffix(".pdf").name)
        if progress:
            progress(done, total)
    for old in directory.iterdir():
        if HANDOUT_NAME.match(old.name) and old.name not in wanted:
            with contextlib.suppress(OSError):
                old.unlink()
    if progress:
        progress(total, total)
    return directory


def _save(document: DocumentObject, path: Path) -> None:
    # Written next to its final name then renamed: a reader never downloads half a file.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        document.save(str(partial))
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def _cover(writer: DocWriter, process: Process, heading: str, subtitle: str) -> None:
    w = words(process.language)
    writer.paragraph(process.title, "Title")
    writer.paragraph(heading, "Subtitle")
    if subtitle:
        writer.paragraph(subtitle, "Cover Note")
    writer.paragraph(
        w["generated"].format(date=date_words(date.today(), process.language)), "Cover Note"
    )


def _colon(language: str) -> str:
    return "\u00a0: " if language == "fr" else ": "


def build_introduction(process: Process) -> DocumentObject:
    document = Document()
    writer = DocWriter(document, process.language)
    w = words(process.language)
    set_properties(document, process, w["introduction"])
    _cover(writer, process, w["introduction"], "")
    markdown_with_definitions(writer, process.introduction)
    writer.page_numbers(process.title)
    return document


def build_recommendations(
    process: Process, field_: Field, n: int, numbers: dict[int, int]
) -> DocumentObject:
    """« Atelier n : Recommandations — Champ n » : the field's findings, each with its
    recommendations, action paths, conditions and notes (as in the Synthèse, no outcomes:
    the handout comes before the votes)."""
    document = Document()
    writer = DocWriter(document, process.language)
    w = words(process.language)
    name = f"{w['workshop_n'].format(n=n)}{_colon(process.language)}{w['handout_recommendations']}"
    set_properties(document, process, name)
    _cover(
        writer, process, name, f"{w['field'].format(n=n)}{_colon(process.language)}{field_.title}"
    )
    writer.paragraph(f"{n}. {field_.title}", "Heading 1")
    if field_.description.strip():
        markdown_with_definitions(writer, field_.description)
    for finding in field_.findings:
        write_finding(writer, finding, numbers.get(finding.id, 0), {}, w)
    if not field_.findings:
        writer.paragraph(w["no_findings"])
    writer.page_numbers(process.title)
    return document


def build_inputs(process: Process, field_: Field, n: int) -> DocumentObject:
    """« Éclairages » : the field's burning questions and hypotheses, then each expert
    input (its author, role, text, references) with its stance on each hypothesis and the
    sentence saying why."""
    document = Document()
    writer = DocWriter(document, process.language)
    w = words(process.language)
    colon = _colon(process.language)
    name = f"{w['workshop_n'].format(n=n)}{colon}{w['handout_inputs']}"
    set_properties(document, process, name)
    _cover(writer, process, name, f"{w['field'].format(n=n)}{colon}{field_.title}")
    labels: dict[int, str] = {}
    if field_.questions:
        writer.paragraph(w["questions"], "Heading 1")
        for q_index, question in enumerate(field_.questions, start=1):
            writer.paragraph(f"{n}.{q_index} {question.text}", "Heading 2")
            for h_index, hypothesis in enumerate(question.hypotheses, start=1):
                labels[hypothesis.id] = f"{n}.{q_index}.{h_index}"
                writer.markdown(f"{labels[hypothesis.id]} {hypothesis.text}", "List Bullet")
    writer.paragraph(w["handout_inputs"], "Heading 1")
    if not field_.expert_inputs:
        writer.paragraph(w["no_expert_inputs"])
    for expert in field_.expert_inputs:
        role = w.get(f"role_{expert.role}", "")
        who = ", ".join(x for x in (expert.author, role, expert.affiliation) if x)
        writer.paragraph(f"{expert.title} — {who}" if expert.title else who, "Heading 2")
        markdown_with_definitions(writer, expert.text)
        if expert.stances:
            writer.paragraph(w["stances"], "Finding Subheading")
            for stance in sorted(expert.stances, key=lambda s: labels.get(s.hypothesis_id, "")):
                verb = w.get(f"stance_{stance.stance}", stance.stance)
                label = labels.get(stance.hypothesis_id, "")
                line = f"{verb}{colon}{label} {excerpt(stance.hypothesis.text, 160)}".strip()
                if stance.justification:
                    line += f" — {stance.justification}"
                writer.paragraph(line, "List Bullet")
        if expert.references.strip():
            writer.paragraph(w["references"], "Finding Subheading")
            writer.markdown(expert.references)
    writer.page_numbers(process.title)
    return document
