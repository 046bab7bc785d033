"""The process file: a whole process in one human-editable YAML file (docs/process-format.md).

Import reads the whole file into unsaved objects, checking everything on the way (each
refusal names the line), and only then writes, in one transaction: a refused file writes
nothing. Every imported text item gets a first version of kind ``imported``. Export writes
the same shape back; importing an export gives back the same process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ...database import write_transaction
from ...extensions import db
from ...methods import OPTIONS_METHOD, PRIORITY_METHODS
from ...models import (
    DEFAULT_GROUPS,
    EXPERT_ROLES,
    STANCES,
    TITLE_MAX,
    ExpertInput,
    ExpertStance,
    Field,
    Finding,
    Hypothesis,
    LiveSession,
    PlainSummary,
    Process,
    Question,
    Territory,
    TextVersion,
)
from .process_entry import Entry, listing
from .process_events import read_events
from .process_experts import read_invitations, read_justifications
from .process_export import dump_process
from .process_format import (
    CONSENSUS_KEYS,
    EXPERT_KEYS,
    FIELD_KEYS,
    FINDING_ITEMS,
    FINDING_KEYS,
    FORMAT_VERSION,
    GRID_AXES,
    GRID_VALUES_MAX,
    GROUP_MAX,
    GROUPS_MAX,
    HYPOTHESIS_KEYS,
    ID_PATTERN,
    LANGUAGES,
    MAX_FILE_BYTES,
    MAX_ITEMS,
    PROCESS_KEYS,
    QUESTION_KEYS,
    SLUG_MAX,
    SLUG_PATTERN,
    THRESHOLDS,
    LineMap,
    ProcessFileError,
    item_keys,
    load_yaml,
)
from .versions import record_version

__all__ = ["ProcessFileError", "dump_process", "import_process_file", "load_process_text"]


class _Reader:
    """Builds the unsaved process tree from the parsed file, checking every value."""

    def __init__(self) -> None:
        self.ids: dict[str, tuple[object, int]] = {}
        self.stances: list[tuple[ExpertInput, str, str, int]] = []
        self.justifications: dict[int, dict[str, str]] = {}
        self.question_refs: list[tuple[Finding, str, int]] = []

    def read(self, data: Any) -> tuple[Process, int]:
        if data is None or data == "":
            raise ProcessFileError("the file is empty: it needs at least slug:, title:", 1)
        top = Entry(data, "process", 1, PROCESS_KEYS)
        version = top.title("format") or FORMAT_VERSION
        if version != FORMAT_VERSION:
            raise ProcessFileError(
                f"unknown format {version!r} (this version reads format {FORMAT_VERSION})",
                top.line_of("format"),
            )
        slug = top.title("slug", required=True, limit=SLUG_MAX)
        if not SLUG_PATTERN.match(slug):
            raise ProcessFileError(
                f"slug {slug!r} may only hold lower-case letters, digits and single hyphens "
                "(e.g. assises-2025)",
                top.line_of("slug"),
            )
        process = Process(
            slug=slug,
            title=top.title("title", required=True),
            subtitle=top.text("subtitle"),
            language=top.choice("language", LANGUAGES, "fr"),
            introduction=top.text("introduction"),
            steering_committee=top.text("steering_committee"),
            consensus_labels=self._labels(top),
            groups=self._groups(top),
            grid=self._grid(top),
            priority_method=(
                top.choice("priority_method", PRIORITY_METHODS, OPTIONS_METHOD)
                if "priority_method" in top.map
                else None
            ),
        )
        self._thresholds(top, process)
        self._territories(top, process)
        read_events(top, process)
        for field_entry in top.entries("fields", "field", FIELD_KEYS):
            process.fields.append(self._field(field_entry, len(process.fields)))
            for invitation in process.fields[-1].expert_invitations:
                invitation.process = process
        self._resolve()
        items = sum(1 for _item in _text_items(process)) - 1  # the process itself aside
        if items > MAX_ITEMS:
            raise ProcessFileError(
                f"the file holds {items} items (fields, questions, hypotheses, expert inputs, "
                f"findings and their lists); at most {MAX_ITEMS} can be imported: split it "
                "into several processes"
            )
        return process, top.line_of("slug")

    def _thresholds(self, top: Entry, process: Process) -> None:
        entry = top.mapping("thresholds", "thresholds", tuple(THRESHOLDS))
        for key, (attribute, default) in THRESHOLDS.items():
            setattr(process, attribute, entry.percent(key, default) if entry else default)
        if process.threshold_rework > process.threshold_validated:
            raise ProcessFileError(
                "the rework threshold cannot be above the validated threshold",
                entry.line_of("rework") if entry else top.line,
            )

    def _labels(self, top: Entry) -> dict[str, str]:
        entry = top.mapping("labels", "labels", CONSENSUS_KEYS)
        if entry is None:
            return {}
        return {key: label for key in CONSENSUS_KEYS if (label := entry.title(key))}

    def _groups(self, top: Entry) -> list[str]:
        if "groups" not in top.map:
            return list(DEFAULT_GROUPS)
        names: list[str] = []
        for value, line in top.values("groups"):
            name = " ".join(value.split()) if isinstance(value, str) else ""
            if not name:
                raise ProcessFileError("a group must be a non-empty name", line)
            if len(name) > GROUP_MAX:
                raise ProcessFileError(f"group name is too long (at most {GROUP_MAX})", line)
            if name in names:
                raise ProcessFileError(f"group {name!r} is listed twice", line)
            names.append(name)
        if len(names) > GROUPS_MAX:
            raise ProcessFileError(f"at most {GROUPS_MAX} groups", top.line_of("groups"))
        return names

    def _grid(self, top: Entry) -> dict:
        entry = top.mapping("grid", "grid", GRID_AXES)
        if entry is None:
            return {}
        grid: dict[str, dict] = {}
        for axis in GRID_AXES:
            sub = entry.mapping(axis, f"grid {axis} axis", ("name", "values"))
            name, values = (sub.title("name"), []) if sub else ("", [])
            for value, line in sub.values("values") if sub else []:
                value = " ".join(value.split()) if isinstance(value, str) else ""
                if not value or len(value) > TITLE_MAX or value in values:
                    raise ProcessFileError(
                        f"grid {axis} value {value!r} is empty, too long or listed twice", line
                    )
                values.append(value)
            if values and not name:
                raise ProcessFileError(f"the grid {axis} axis needs a name", entry.line_of(axis))
            if len(values) > GRID_VALUES_MAX:
                raise ProcessFileError(
                    f"the grid {axis} axis has more than {GRID_VALUES_MAX} values",
                    entry.line_of(axis),
                )
            grid[axis] = {"name": name, "values": values}
        return grid

    def _territories(self, top: Entry, process: Process) -> None:
        for value, line in top.values("territories"):
            name = " ".join(value.split()) if isinstance(value, str) else ""
            if not name or len(name) > TITLE_MAX:
                raise ProcessFileError("a territory must be a name (at most 300 characters)", line)
            if any(t.name == name for t in process.territories):
                raise ProcessFileError(f"territory {name!r} is listed twice", line)
            process.territories.append(Territory(name=name))

    def _register(self, entry: Entry, item: object) -> None:
        ref = entry.title("id", limit=60)
        if not ref:
            return
        if not ID_PATTERN.match(ref):
            raise ProcessFileError(
                f"id {ref!r} may only hold letters, digits, '-', '_' and '.'", entry.line_of("id")
            )
        if ref in self.ids:
            raise ProcessFileError(
                f"id {ref!r} is used twice (first on line {self.ids[ref][1]})", entry.line_of("id")
            )
        self.ids[ref] = (item, entry.line_of("id"))

    def _field(self, entry: Entry, position: int) -> Field:
        field_ = Field(
            position=position,
            title=entry.title("title", required=True),
            description=entry.text("description"),
            illustrative=entry.flag("illustrative"),
        )
        for q_entry in entry.entries("questions", "question", QUESTION_KEYS):
            question = Question(
                position=len(field_.questions),
                text=q_entry.text("text", required=True),
                illustrative=q_entry.flag("illustrative"),
            )
            self._register(q_entry, question)
            for h_entry in q_entry.entries("hypotheses", "hypothesis", HYPOTHESIS_KEYS):
                hypothesis = Hypothesis(
                    position=len(question.hypotheses),
                    text=h_entry.text("text", required=True),
                    plain_summary=h_entry.summary(),
                    grid_row=h_entry.title("grid_row"),
                    grid_col=h_entry.title("grid_col"),
                )
                self._register(h_entry, hypothesis)
                question.hypotheses.append(hypothesis)
            field_.questions.append(question)
        for e_entry in entry.entries("expert_inputs", "expert input", EXPERT_KEYS):
            field_.expert_inputs.append(self._expert_input(e_entry, len(field_.expert_inputs)))
        for f_entry in entry.entries("findings", "finding", FINDING_KEYS):
            field_.findings.append(self._finding(f_entry, field_))
        read_invitations(entry, field_)
        return field_

    def _expert_input(self, entry: Entry, position: int) -> ExpertInput:
        expert_input = ExpertInput(
            position=position,
            title=entry.title("title"),
            author=entry.title("author", required=True),
            role=entry.choice("role", EXPERT_ROLES, "other"),
            affiliation=entry.title("affiliation"),
            illustrative=entry.flag("illustrative"),
            text=entry.text("text"),
            references=entry.text("references"),
        )
        stances = entry.map.get("stances")
        if stances not in (None, ""):
            if not isinstance(stances, LineMap):
                raise ProcessFileError(
                    "expert input stances must be lines such as 'f1-q1-h1: supports'",
                    entry.line_of("stances"),
                )
            for ref, stance in stances.items():
                line = stances.line_of(ref)
                if stance not in STANCES:
                    raise ProcessFileError(
                        f"unknown stance {stance!r} (expected {listing(STANCES)})", line
                    )
                self.stances.append((expert_input, ref, stance, line))
        self.justifications[id(expert_input)] = read_justifications(entry, stances)
        return expert_input

    def _finding(self, entry: Entry, field_: Field) -> Finding:
        finding = Finding(
            position=len(field_.findings),
            text=entry.text("text", required=True),
            plain_summary=entry.summary(),
        )
        if ref := entry.title("question"):
            self.question_refs.append((finding, ref, entry.line_of("question")))
        for key, (model, relation, what) in FINDING_ITEMS.items():
            items = getattr(finding, relation)
            for item_entry in entry.entries(key, what, item_keys(model)):
                item = model(
                    position=len(items),
                    text=item_entry.text("text", required=True),
                    grid_row=item_entry.title("grid_row"),
                    grid_col=item_entry.title("grid_col"),
                )
                if issubclass(model, PlainSummary):
                    item.plain_summary = item_entry.summary()
                items.append(item)
        # A [^n] marker without its note is kept, not refused: the authoring screens allow
        # it, and an export must always import again.
        return finding

    def _resolve(self) -> None:
        """Link stances and findings to the ids they name, now that every id is known."""
        for expert_input, ref, stance, line in self.stances:
            target = self.ids.get(ref, (None, 0))[0]
            if not isinstance(target, Hypothesis):
                raise ProcessFileError(
                    f"unknown hypothesis {ref!r} in stances (no hypothesis has this id:)", line
                )
            why = self.justifications.get(id(expert_input), {}).get(ref, "")
            expert_input.stances.append(
                ExpertStance(hypothesis=target, stance=stance, justification=why)
            )
        for finding, ref, line in self.question_refs:
            target = self.ids.get(ref, (None, 0))[0]
            if not isinstance(target, Question):
                raise ProcessFileError(f"unknown question {ref!r} (no question has this id:)", line)
            finding.question = target


# -- writing -----------------------------------------------------------------------------


def import_process_file(path: str | Path, replace: bool = False) -> Process:
    """Import the process file at ``path``; ``replace`` replaces a process with its slug."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ProcessFileError(
            f"the file is {size // (1024 * 1024)} MB; a process file is at most "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ProcessFileError("the file is not UTF-8 text (save it as UTF-8)", line) from None
    return load_process_text(text, replace=replace, source=path.name)


def load_process_text(text: str, replace: bool = False, source: str = "") -> Process:
    """Check the whole text, then write the process in one transaction (or nothing)."""
    process, slug_line = _Reader().read(load_yaml(text))
    summary = f"Imported from {source}" if source else "Imported from a process file"
    try:
        with write_transaction():
            existing = db.session.scalar(select(Process).filter_by(slug=process.slug))
            if existing is not None:
                if not replace:
                    raise ProcessFileError(
                        f"slug {process.slug!r} already exists (use --replace)", slug_line
                    )
                _delete_for_replace(existing, slug_line)
            db.session.add(process)
            db.session.flush()
            for item in _text_items(process):
                record_version(item, "imported", "", summary=summary)
    except IntegrityError as error:
        raise ProcessFileError(f"the database refused the process: {error.orig}") from None
    return process


def _delete_for_replace(existing: Process, slug_line: int) -> None:
    sessions = db.session.scalar(
        select(func.count(LiveSession.id)).filter_by(process_id=existing.id)
    )
    if sessions:
        raise ProcessFileError(
            f"process {existing.slug!r} has {sessions} live session(s) with their votes; "
            "replacing it would delete them: import it under another slug instead",
            slug_line,
        )
    # Histories are keyed by (table, id), not foreign keys: drop them with their items.
    for item in list(_text_items(existing)):
        db.session.execute(
            TextVersion.__table__.delete().where(
                TextVersion.item_type == item.__tablename__, TextVersion.item_id == item.id
            )
        )
    db.session.delete(existing)
    db.session.flush()


def _text_items(process: Process) -> Iterator[Any]:
    """Every versioned item of the process, in reading order."""
    yield process
    for field_ in process.fields:
        yield field_
        for question in field_.questions:
            yield question
            yield from question.hypotheses
        yield from field_.expert_inputs
        for finding in field_.findings:
            yield finding
            for _key, (_model, relation, _what) in FINDING_ITEMS.items():
                yield from getattr(finding, relation)
