"""The Synthèse des possibles: per field, the numbered findings and what they call for.

Shape of the source text: a title page, the introduction note, then per field a Heading 1
and its findings numbered across the whole document (paragraph style "Finding", "N. text"),
each followed by *Recommandation(s)*, *Piste(s) d'action* and *Condition(s) de mise en
œuvre* ("Finding Subheading" style; singular or plural after the count) and its notes as
real Word footnotes. Where an item was voted, an "Outcome" line states the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from docx import Document
from docx.document import Document as DocumentObject

from ..models import Finding, Process
from ..services.authoring.numbering import finding_numbers
from ..services.authoring.text import NOTE_MARKER
from ..services.consolidation.outcomes import (
    ItemOutcome,
    item_outcomes,
    item_priorities,
    outcome_line,
    priority_line,
)
from ..wording import date_words, words
from .docxkit import DocWriter, clean_text, excerpt, outcome_style
from .tree import load_process_tree

Progress = Callable[[int, int], None]

# A Markdown footnote definition "[^1]: text" (continued by indented lines).
_DEFINITION = re.compile(r"^\[\^(\d{1,3})\]:[ \t]?(.*(?:\n(?:[ \t]+.*|[ \t]*))*)", re.MULTILINE)


def build_synthesis(process: Process, progress: Progress | None = None) -> DocumentObject:
    process = load_process_tree(process)
    document = Document()
    writer = DocWriter(document, process.language)
    w = words(process.language)
    numbers = finding_numbers(process)
    outcomes = item_outcomes(process)
    priorities = item_priorities(process)
    total = len(process.fields) + 1
    set_properties(document, process, w["synthesis_title"])

    title_page(writer, process, w["synthesis_title"])
    # As in the Actes: the contents on their own page, their page numbers computed by any
    # reader that lays pages out (docs/exports.md, "Page furniture").
    writer.table_of_contents(w["toc"])
    writer.page_break()
    if process.introduction.strip():
        writer.paragraph(w["introduction"], "Heading 1")
        markdown_with_definitions(writer, process.introduction)
    if progress:
        progress(1, total)
    for index, field_ in enumerate(process.fields, start=1):
        writer.paragraph(f"{index}. {field_.title}", "Heading 1")
        if field_.description.strip():
            markdown_with_definitions(writer, field_.description)
        for finding in field_.findings:
            write_finding(writer, finding, numbers.get(finding.id, 0), outcomes, w, priorities)
        if not field_.findings:
            # Never a bare heading: an empty field says so (docs/exports.md).
            writer.paragraph(w["no_findings"])
        if progress:
            progress(index + 1, total)
    writer.page_numbers(process.title)
    writer.finish_table_of_contents()
    return document


def set_properties(document: DocumentObject, process: Process, document_name: str) -> None:
    """Word's document properties: the template's own (its author, its 2013 dates) replaced
    by this document's title, its organising body as author and the time it was built."""
    core = document.core_properties
    core.title = clean_text(f"{process.title} — {document_name}")[:250]
    core.subject = document_name
    core.language = {"fr": "fr-BE", "en": "en-GB"}.get(process.language, process.language)
    core.author = core.last_modified_by = organising_body(process)
    core.comments = ""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    core.created = core.modified = now


def organising_body(process: Process) -> str:
    """Who publishes the document: the steering committee's name — its first line up to the
    first comma, as the source texts write it («Comité de pilotage du dispositif …,
    constitué …») — else the process's title."""
    first_line = next(
        (line for line in process.steering_committee.splitlines() if line.strip()), ""
    )
    name = re.split(r"[,;:.(]", excerpt(first_line, 250), maxsplit=1)[0].strip()
    return name or clean_text(process.title)[:250]


def title_page(writer: DocWriter, process: Process, document_name: str) -> None:
    w = words(process.language)
    writer.paragraph(process.title, "Title")
    writer.paragraph(document_name, "Subtitle")
    if process.subtitle.strip():
        writer.markdown(process.subtitle, "Cover Note")
    if process.steering_committee.strip():
        writer.paragraph(w["steering_committee"], "Finding Subheading")
        writer.markdown(process.steering_committee, "Normal")
    writer.paragraph(
        w["generated"].format(date=date_words(date.today(), process.language)), "Cover Note"
    )
    writer.page_break()


def markdown_with_definitions(writer: DocWriter, text: str, style: str = "Normal") -> None:
    """Markdown whose ``[^n]: …`` definitions become real footnotes at their markers."""
    definitions = {int(m.group(1)): m.group(2).strip() for m in _DEFINITION.finditer(text)}
    if not definitions:
        writer.markdown(text, style)
        return
    body = _DEFINITION.sub("", text)
    created: dict[int, int] = {}

    def resolve(n: int) -> int | None:
        if n not in definitions:
            return None
        if n not in created:
            created[n] = writer.add_footnote(definitions[n])
        return created[n]

    previous, writer.note_resolver = writer.note_resolver, resolve
    try:
        writer.markdown(body, style)
    finally:
        writer.note_resolver = previous


def write_finding(
    writer: DocWriter,
    finding: Finding,
    number: int,
    outcomes: dict[tuple[str, int], ItemOutcome],
    w: dict[str, str],
    priorities: dict[tuple[str, int], ItemOutcome] | None = None,
) -> None:
    """A finding, its recommendations, action paths and conditions, each with its outcome;
    under the action paths, their order of priority when a vote ranked them."""
    notes = {index: note.text for index, note in enumerate(finding.notes, start=1)}
    created: dict[int, int] = {}

    def resolve(n: int) -> int | None:
        if n not in notes:
            return None
        if n not in created:
            created[n] = writer.add_footnote(notes[n])
        return created[n]

    texts = [finding.text] + [
        item.text for item in (*finding.recommendations, *finding.action_paths, *finding.conditions)
    ]
    referenced = {int(n) for text in texts for n in NOTE_MARKER.findall(text or "")}
    language = writer.language
    previous, writer.note_resolver = writer.note_resolver, resolve
    try:
        heading = writer.paragraph(f"{number}. ", "Finding")
        writer.inline_markdown(heading, finding.text, rest_style="Normal")
        # A note nobody points at still belongs to the finding: attach it to its statement.
        for n in sorted(set(notes) - referenced):
            writer.footnote_reference(heading, resolve(n))
        _outcome(writer, outcomes.get(("finding", finding.id)), language)
        sections = (
            ("recommendation", finding.recommendations, False),
            ("action_path", finding.action_paths, True),
            ("implementation_condition", finding.conditions, False),
        )
        label_keys = {
            "recommendation": ("recommendation", "recommendations"),
            "action_path": ("action_path", "action_paths"),
            "implementation_condition": ("condition", "conditions"),
        }
        for item_type, items, always_bullets in sections:
            if not items:
                continue
            singular, plural = label_keys[item_type]
            writer.paragraph(w[singular] if len(items) == 1 else w[plural], "Finding Subheading")
            style = "List Bullet" if always_bullets or len(items) > 1 else "Normal"
            for item in items:
                writer.markdown(item.text, style)
                _outcome(writer, outcomes.get((item_type, item.id)), language)
            if item_type == "action_path" and priorities:
                priority = priorities.get(("action_paths", finding.id))
                if priority is not None:
                    writer.paragraph(priority_line(priority, language), "Outcome")
    finally:
        writer.note_resolver = previous


def _outcome(writer: DocWriter, outcome: ItemOutcome | None, language: str) -> None:
    if outcome is not None:
        writer.paragraph(outcome_line(outcome, language), outcome_style(outcome.outcome))
