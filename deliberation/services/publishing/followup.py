"""The follow-up of recommendations and action paths: what became of them after the day.

Organisers record, per item, the body it was addressed to, links to the decisions (http or
https only) and status changes — each with a date, one sentence and the progress in percent
then. A status change is appended, never overwritten: the history is the point (readers
want to see that a « done » was once « in progress »). This module checks every value and
refuses with a translated :class:`FollowUpError`; it never touches ``request``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import inputs
from ...database import write_transaction
from ...extensions import db
from ...models import (
    FOLLOWED_TYPES,
    FOLLOWUP_STATUSES,
    TITLE_MAX,
    URL_MAX,
    ActionPath,
    Field,
    Finding,
    FollowUp,
    FollowUpEntry,
    FollowUpLink,
    Process,
    Recommendation,
)
from ...models.item_types import ITEM_TYPES, model_of
from ..authoring.numbering import finding_numbers

# One sentence, not an essay: the public page shows every one of them.
NOTE_MAX = 2000
# A status dated before this is a typing error, not history.
EARLIEST_YEAR = 1990
# Characters no XML document (the feed) may hold, and no reader wants to see.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The statuses in their order on the screens. (Pairs, not a "key": label mapping: the
# refusal catalogue's test reads those as refusal wordings, and "not_started" is also one.)
STATUSES: tuple[tuple[str, Any], ...] = (
    ("not_started", _l("Not started")),
    ("in_progress", _l("In progress")),
    ("done", _l("Done")),
    ("abandoned", _l("Abandoned")),
    ("rejected", _l("Rejected")),
)
STATUS_LABELS: dict[str, Any] = dict(STATUSES)
# Labels and models come from the item-type registry; the follow-up keeps only which of its
# columns points at each followed type.
ITEM_LABELS: dict[str, Any] = {key: _l(ITEM_TYPES[key].label) for key in FOLLOWED_TYPES}
FOLLOW_UP_COLUMNS: dict[str, Any] = {
    "recommendation": FollowUp.recommendation_id,
    "action_path": FollowUp.action_path_id,
}
assert set(FOLLOW_UP_COLUMNS) == set(FOLLOWED_TYPES)
assert set(STATUS_LABELS) == set(FOLLOWUP_STATUSES)


class FollowUpError(ValueError):
    """A value refused; ``message`` (translated) is shown to the organiser."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- checks -------------------------------------------------------------------------------


def clean_text(value: Any, limit: int, what: str, required: bool = False) -> str:
    """A one-paragraph text: stripped, without control characters, at most ``limit``."""
    if value is None:
        value = ""
    if not isinstance(value, str) or not inputs.storable(value):
        raise FollowUpError(_("%(what)s is not a valid text.", what=what))
    text = CONTROL_CHARACTERS.sub("", value).strip()
    if required and not text:
        raise FollowUpError(_("%(what)s is required.", what=what))
    if len(text) > limit:
        raise FollowUpError(
            _("%(what)s is too long (at most %(limit)d characters).", what=what, limit=limit)
        )
    return text


def check_status(value: Any) -> str:
    if value not in FOLLOWUP_STATUSES:
        raise FollowUpError(
            _("Choose a status: not started, in progress, done, abandoned or rejected.")
        )
    return value


def check_progress(value: Any) -> int:
    text = str(value if value is not None else "").strip().removesuffix("%").strip()
    if not text.isascii() or not text.isdigit() or int(text) > 100:
        raise FollowUpError(_("The progress is a whole number of percent, from 0 to 100."))
    return int(text)


def check_date(value: Any, today: date | None = None) -> date:
    """A day in ISO form (what a date field sends), neither before 1990 nor in the future."""
    today = today or date.today()
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise FollowUpError(_("Give the date as year-month-day, e.g. 2026-03-31.")) from None
    if day.year < EARLIEST_YEAR or day > today:
        raise FollowUpError(_("The date must be between %(year)d and today.", year=EARLIEST_YEAR))
    return day


def check_url(value: Any) -> str:
    """A link to a decision: an absolute http or https address with a host, nothing else
    (no ``javascript:``, ``data:`` or relative address can reach a public page)."""
    text = value.strip() if isinstance(value, str) else ""
    problem = _("A link must be a full web address starting with http:// or https://.")
    if not text or len(text) > URL_MAX or not inputs.storable(text):
        raise FollowUpError(problem)
    if any(character.isspace() for character in text) or CONTROL_CHARACTERS.search(text):
        raise FollowUpError(problem)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise FollowUpError(problem) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FollowUpError(problem)
    return text


# -- the items and their follow-up --------------------------------------------------------


def followed_item(process: Process, item_type: str, item_id: int) -> Recommendation | ActionPath:
    """The recommendation or action path of this process, or a translated refusal."""
    if item_type not in FOLLOW_UP_COLUMNS or not inputs.is_id(item_id):
        raise FollowUpError(_("Only recommendations and action paths have a follow-up."))
    model = model_of(item_type)
    item = db.session.scalar(
        select(model)
        .join(Finding, model.finding_id == Finding.id)
        .join(Field, Finding.field_id == Field.id)
        .where(model.id == item_id, Field.process_id == process.id)
    )
    if item is None:
        raise FollowUpError(_("This item does not exist in this process."))
    return item


def follow_up_of(process: Process, item_type: str, item_id: int) -> FollowUp | None:
    followed_item(process, item_type, item_id)
    column = FOLLOW_UP_COLUMNS[item_type]
    return db.session.scalar(select(FollowUp).where(column == item_id))


def _follow_up_for_writing(process: Process, item_type: str, item_id: int) -> FollowUp:
    """Inside a write transaction: the item's follow-up, created on first use."""
    # Two organisers creating the same follow-up at once: the second waits for the first
    # (PostgreSQL; SQLite's write transaction already holds the only write lock).
    db.session.execute(select(Process.id).where(Process.id == process.id).with_for_update())
    existing = follow_up_of(process, item_type, item_id)
    if existing is not None:
        return existing
    created = FollowUp(process_id=process.id, addressed_to="")
    column = FOLLOW_UP_COLUMNS[item_type]
    setattr(created, column.key, item_id)
    db.session.add(created)
    db.session.flush()
    return created


def record_status(
    process: Process,
    item_type: str,
    item_id: int,
    *,
    status: Any,
    happened_on: Any,
    note: Any,
    progress: Any,
    actor: str,
) -> FollowUpEntry:
    """Append a status change to the item's history (never replaces an earlier one)."""
    entry_values = {
        "status": check_status(status),
        "happened_on": check_date(happened_on),
        "note": clean_text(note, NOTE_MAX, _("The sentence saying what happened"), True),
        "progress": check_progress(progress),
    }
    followed_item(process, item_type, item_id)
    with write_transaction():
        follow_up = _follow_up_for_writing(process, item_type, item_id)
        entry = FollowUpEntry(
            follow_up_id=follow_up.id, recorded_by=actor[:TITLE_MAX], **entry_values
        )
        db.session.add(entry)
    return entry


def set_addressed_to(process: Process, item_type: str, item_id: int, addressed_to: Any) -> FollowUp:
    text = clean_text(addressed_to, TITLE_MAX, _("The body it was addressed to"))
    followed_item(process, item_type, item_id)
    with write_transaction():
        follow_up = _follow_up_for_writing(process, item_type, item_id)
        follow_up.addressed_to = text
    return follow_up


def add_link(process: Process, item_type: str, item_id: int, url: Any, label: Any) -> FollowUpLink:
    checked_url = check_url(url)
    text = clean_text(label, TITLE_MAX, _("The link's title"))
    followed_item(process, item_type, item_id)
    with write_transaction():
        follow_up = _follow_up_for_writing(process, item_type, item_id)
        link = FollowUpLink(follow_up_id=follow_up.id, url=checked_url, label=text)
        db.session.add(link)
    return link


def remove_link(process: Process, link_id: Any) -> None:
    """Remove a link (a wrong address, a page that moved); the status history stays."""
    if not inputs.is_id(link_id):
        raise FollowUpError(_("This link does not exist."))
    with write_transaction():
        link = db.session.scalar(
            select(FollowUpLink)
            .join(FollowUp, FollowUpLink.follow_up_id == FollowUp.id)
            .where(FollowUpLink.id == link_id, FollowUp.process_id == process.id)
        )
        if link is None:
            raise FollowUpError(_("This link does not exist."))
        db.session.delete(link)


# -- reading: the pages, the feed, the open data -----------------------------------------


@dataclass
class FollowedItem:
    """One recommendation or action path as the follow-up pages show it."""

    item_type: str
    item: Recommendation | ActionPath
    finding_number: int
    follow_up: FollowUp | None

    @property
    def status(self) -> str | None:
        latest = self.follow_up.latest if self.follow_up else None
        return latest.status if latest else None

    @property
    def progress(self) -> int:
        latest = self.follow_up.latest if self.follow_up else None
        return latest.progress if latest else 0

    @property
    def anchor(self) -> str:
        return f"{self.item_type}-{self.item.id}"


@dataclass
class FieldFollowUp:
    field: Field
    items: list[FollowedItem] = field(default_factory=list)

    @property
    def progress(self) -> int:
        return average_progress(self.items)


@dataclass
class Overview:
    fields: list[FieldFollowUp]

    @property
    def items(self) -> list[FollowedItem]:
        return [item for part in self.fields for item in part.items]

    @property
    def progress(self) -> int:
        return average_progress(self.items)

    def status_counts(self) -> dict[str | None, int]:
        """Items per current status, in the statuses' order; ``None``: nothing recorded yet."""
        counts: dict[str | None, int] = {status: 0 for status in FOLLOWUP_STATUSES}
        counts[None] = 0
        for item in self.items:
            counts[item.status] += 1
        return counts


def average_progress(items: list[FollowedItem]) -> int:
    """The mean progress of the items, each counting once; an item with nothing recorded
    counts as 0 % (a recommendation nobody acted on is not done)."""
    if not items:
        return 0
    return round(sum(item.progress for item in items) / len(items))


def _follow_ups(process: Process) -> dict[tuple[str, int], FollowUp]:
    found = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.process_id == process.id)
        .options(selectinload(FollowUp.entries), selectinload(FollowUp.links))
    )
    return {(follow_up.item_type, follow_up.item_id): follow_up for follow_up in found}


def overview(process: Process) -> Overview:
    """Every recommendation and action path of the process, per field, with its follow-up.
    ``process`` should come with its tree loaded (``documents.tree.load_process_tree``)."""
    numbers = finding_numbers(process)
    follow_ups = _follow_ups(process)
    parts = []
    for field_ in process.fields:
        part = FieldFollowUp(field_)
        for finding in field_.findings:
            for item_type, items in (
                ("recommendation", finding.recommendations),
                ("action_path", finding.action_paths),
            ):
                for item in items:
                    part.items.append(
                        FollowedItem(
                            item_type,
                            item,
                            numbers.get(finding.id, 0),
                            follow_ups.get((item_type, item.id)),
                        )
                    )
        parts.append(part)
    return Overview(parts)


@dataclass(frozen=True)
class StatusChange:
    """One entry with the item it concerns, for the feed (newest first)."""

    entry: FollowUpEntry
    item_type: str
    item: Recommendation | ActionPath
    finding_number: int


def status_changes(process: Process, limit: int = 50) -> list[StatusChange]:
    """The last ``limit`` status changes recorded, the most recently recorded first."""
    entries = db.session.scalars(
        select(FollowUpEntry)
        .join(FollowUp, FollowUpEntry.follow_up_id == FollowUp.id)
        .where(FollowUp.process_id == process.id)
        .order_by(FollowUpEntry.recorded_at.desc(), FollowUpEntry.id.desc())
        .limit(limit)
        .options(
            selectinload(FollowUpEntry.follow_up).selectinload(FollowUp.recommendation),
            selectinload(FollowUpEntry.follow_up).selectinload(FollowUp.action_path),
        )
    ).all()
    numbers = finding_numbers(process)
    changes = []
    for entry in entries:
        follow_up = entry.follow_up
        item = follow_up.recommendation or follow_up.action_path
        changes.append(
            StatusChange(entry, follow_up.item_type, item, numbers.get(item.finding_id, 0))
        )
    return changes


def open_data(process: Process) -> list[dict[str, Any]]:
    """The follow-up as JSON-ready records: one per followed item, with its whole history.
    Who recorded a change is the organisers' business and is left out."""
    records = []
    for part in overview(process).fields:
        for followed in part.items:
            follow_up = followed.follow_up
            records.append(
                {
                    "field": part.field.title,
                    "finding_number": followed.finding_number,
                    "item_type": followed.item_type,
                    "item_id": followed.item.id,
                    "item": followed.item.text,
                    "addressed_to": follow_up.addressed_to if follow_up else "",
                    "status": followed.status,
                    "progress": followed.progress,
                    "links": [
                        {"label": link.label, "url": link.url}
                        for link in (follow_up.links if follow_up else [])
                    ],
                    "history": [
                        {
                            "status": entry.status,
                            "date": entry.happened_on.isoformat(),
                            "progress": entry.progress,
                            "note": entry.note,
                            "recorded_at": entry.recorded_at.isoformat(timespec="seconds") + "Z",
                        }
                        for entry in (follow_up.entries if follow_up else [])
                    ],
                }
            )
    return records
