"""Authoring a process: create, edit, delete and reorder every item of the tree.

Views call these functions with plain values; each function validates, writes, records a
text version when a text changed, in one write transaction (``database.writes``). Bad input
raises :class:`ValidationError` with a message meant for the organiser; a deletion that
would lose children or votes raises :class:`ConfirmationRequired` unless confirmed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ...database import writes
from ...extensions import db
from ...models import (
    EXPERT_ROLES,
    PLAIN_SUMMARY_MAX,
    STANCES,
    AgendaItem,
    ExpertInput,
    ExpertStance,
    Field,
    Finding,
    Hypothesis,
    LiveSession,
    PlainSummary,
    Poll,
    Process,
    Proposal,
    Question,
    item_type_of,
    model_of,
)
from ...models.item_types import AUTHORED_TYPES, ITEM_TYPES, TREE_TYPES, VOTED_TYPES
from ..validation import (
    ConfirmationRequired,
    Impact,
    ValidationError,
    _,
    check_bool,
    check_choice,
    check_text,
    check_title,
    flush_checked,
)
from . import versions
from .numbering import finding_numbers  # noqa: F401  (part of this module's API)
from .processes import (  # noqa: F401  (part of this module's API)
    add_territory,
    clean_process_values,
    create_process,
    delete_territory,
    rename_territory,
    territory_sessions,
    update_process,
)
from .text import excerpt
from .versions import history, record_version  # noqa: F401  (part of this module's API)

__all__ = [
    "ConfirmationRequired",
    "Impact",
    "ValidationError",
    "create_item",
    "create_process",
    "delete_item",
    "deletion_impact",
    "finding_numbers",
    "history",
    "move",
    "record_version",
    "reorder",
    "rollback",
    "update_item",
    "update_process",
]


# -- looking things up -------------------------------------------------------------------


def get_item(item_type: str, item_id: int) -> Any:
    """The item of the process tree (or the process) of this type and id, or None."""
    model = model_of(item_type) if item_type in AUTHORED_TYPES else None
    return db.session.get(model, item_id) if model else None


def parent_of(item: object) -> Any:
    return getattr(item, ITEM_TYPES[item_type_of(item)].parent)


def process_of(item: object) -> Process:
    while not isinstance(item, Process):
        item = parent_of(item)
    return item


def label(item: object, limit: int = 80) -> str:
    """A short plain-text name for any item, for titles, breadcrumbs and lists."""
    if isinstance(item, Process | Field):
        return item.title
    if isinstance(item, ExpertInput):
        return item.title or item.author
    return excerpt(getattr(item, "text", ""), limit)


# -- items of the tree -------------------------------------------------------------------


def _clean_item_values(item_type: str, values: dict[str, Any], item: Any, parent: Any) -> dict:
    clean: dict[str, Any] = {}
    creating = item is None

    def wants(name: str) -> bool:
        return name in values or (creating and name in REQUIRED.get(item_type, ()))

    if item_type == "field":
        if wants("title"):
            clean["title"] = check_title(values.get("title", ""), _("Title"))
        if "description" in values:
            clean["description"] = check_text(values["description"], _("Description"), False)
    elif item_type == "expert_input":
        if wants("author"):
            clean["author"] = check_title(values.get("author", ""), _("Author"))
        for name, what in (("title", _("Title")), ("affiliation", _("Affiliation"))):
            if name in values:
                clean[name] = check_title(values[name], what, required=False)
        if "role" in values:
            clean["role"] = check_choice(values["role"], EXPERT_ROLES, _("Role"))
        for name, what in (("text", _("Text")), ("references", _("References"))):
            if name in values:
                clean[name] = check_text(values[name], what, required=False)
    else:
        if wants("text"):
            clean["text"] = check_text(values.get("text", ""), _("Text"))
        for name in ("grid_row", "grid_col"):
            if name in values and hasattr(ITEM_TYPES[item_type].model, name):
                clean[name] = check_title(values[name], name, required=False)
    if "plain_summary" in values and issubclass(ITEM_TYPES[item_type].model, PlainSummary):
        clean["plain_summary"] = check_text(
            values["plain_summary"],
            _("Plain-language summary"),
            required=False,
            maximum=PLAIN_SUMMARY_MAX,
        )
    if "illustrative" in values and hasattr(ITEM_TYPES[item_type].model, "illustrative"):
        clean["illustrative"] = check_bool(values["illustrative"])
    if item_type == "finding" and "question_id" in values:
        clean["question_id"] = _check_question(values["question_id"], parent or item.field)
    return clean


REQUIRED = {"field": ("title",), "expert_input": ("author",)}
for _item_type in TREE_TYPES:
    REQUIRED.setdefault(_item_type, ("text",))


def _check_question(value: Any, field_: Field) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        question_id = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Unknown question."), "question_id") from None
    question = db.session.get(Question, question_id)
    if question is None or question.field.process_id != field_.process_id:
        raise ValidationError(_("Unknown question."), "question_id")
    return question_id


@writes
def create_item(item_type: str, parent: Any, by: str, **values: Any) -> Any:
    """Add an item at the end of its parent's list."""
    spec = ITEM_TYPES[item_type]
    if item_type not in TREE_TYPES or not isinstance(parent, ITEM_TYPES[spec.parent].model):
        raise ValidationError(_("This item cannot be placed there."))
    clean = _clean_item_values(item_type, values, None, parent)
    siblings = getattr(parent, spec.siblings)
    item = spec.model(**clean, position=len(siblings))
    siblings.append(item)
    flush_checked(lambda: record_version(item, "created", by))
    return item


@writes
def update_item(item: Any, by: str, summary: str = "", **values: Any) -> Any:
    item_type = item_type_of(item)
    clean = _clean_item_values(item_type, values, item, None)
    before = versions.snapshot(item)
    for name, value in clean.items():
        setattr(item, name, value)
    flush_checked(lambda: versions.record_if_changed(item, before, by, summary))
    return item


@writes
def set_stances(expert_input: ExpertInput, stances: dict[int, str]) -> None:
    """Set how the input stands towards hypotheses; an empty stance removes it."""
    process_id = expert_input.field.process_id
    current = {s.hypothesis_id: s for s in expert_input.stances}
    for hypothesis_id, stance in stances.items():
        stance = (stance or "").strip()
        hypothesis = db.session.get(Hypothesis, int(hypothesis_id))
        if hypothesis is None or hypothesis.question.field.process_id != process_id:
            raise ValidationError(_("Unknown hypothesis."), "stances")
        if not stance:
            if hypothesis.id in current:
                expert_input.stances.remove(current[hypothesis.id])
            continue
        check_choice(stance, STANCES, _("Stance"))
        if hypothesis.id in current:
            current[hypothesis.id].stance = stance
        else:
            expert_input.stances.append(ExpertStance(hypothesis=hypothesis, stance=stance))
    flush_checked()


@writes
def rollback(item: Any, version_number: int, author: str) -> Any:
    """Bring back the text of an earlier version; the rollback is itself a new version."""
    try:
        old = versions.version_of(item, version_number)
    except versions.VersionError as error:
        raise ValidationError(_("No version %(n)d of this item.", n=version_number)) from error
    values = versions.decode(old)
    if isinstance(item, Process):
        clean = clean_process_values(values, item)
    else:
        clean = _clean_item_values(item_type_of(item), values, item, None)
    for name, value in clean.items():
        setattr(item, name, value)
    summary = f"rollback to version {version_number}"
    flush_checked(lambda: record_version(item, "rollback", author, summary=summary))
    return item


# -- order -------------------------------------------------------------------------------


def _siblings(item: Any) -> list:
    return getattr(parent_of(item), ITEM_TYPES[item_type_of(item)].siblings)


def _renumber(items: list) -> None:
    for position, sibling in enumerate(items):
        sibling.position = position


@writes
def move(item: Any, offset: int) -> None:
    """Move an item up (-1) or down (+1) among its siblings; at an end nothing happens."""
    siblings = list(_siblings(item))
    index = siblings.index(item)
    target = max(0, min(len(siblings) - 1, index + offset))
    siblings.insert(target, siblings.pop(index))
    _renumber(siblings)


@writes
def reorder(parent: Any, item_type: str, ids: list[int]) -> None:
    """Put the parent's items of this type in the order of ``ids`` (all of them, once)."""
    spec = ITEM_TYPES[item_type]
    siblings = list(getattr(parent, spec.siblings))
    by_id = {s.id: s for s in siblings}
    try:
        wanted = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValidationError(_("The new order is not a list of items.")) from None
    if sorted(wanted) != sorted(by_id):
        raise ValidationError(_("The list changed meanwhile; reload the page and try again."))
    _renumber([by_id[i] for i in wanted])


# -- deletion ----------------------------------------------------------------------------


def _descendants(item: Any) -> dict[str, list[int]]:
    """Ids of the item and everything under it, by item type (table name)."""
    found: dict[str, list[int]] = {}
    stack = [item]
    while stack:
        current = stack.pop()
        found.setdefault(item_type_of(current), []).append(current.id)
        for relation in ITEM_TYPES[item_type_of(current)].children:
            if relation != "stances":
                stack.extend(getattr(current, relation))
    return found


def deletion_impact(item: Any) -> Impact:
    found = _descendants(item)
    own = item_type_of(item)
    impact = Impact(
        children={k: len(v) - (1 if k == own else 0) for k, v in found.items()},
    )
    impact.children = {k: n for k, n in impact.children.items() if n}
    for item_type, ids in found.items():
        if item_type in VOTED_TYPES:
            impact.polls += db.session.scalar(
                select(func.count(Poll.id))
                .join(AgendaItem, Poll.agenda_item_id == AgendaItem.id)
                .where(AgendaItem.item_type == item_type, AgendaItem.item_id.in_(ids))
            )
            impact.ballots_agenda_items += db.session.scalar(
                select(func.count(AgendaItem.id)).where(
                    AgendaItem.item_type == item_type, AgendaItem.item_id.in_(ids)
                )
            )
        impact.proposals += db.session.scalar(
            select(func.count(Proposal.id)).where(
                Proposal.item_type == item_type, Proposal.item_id.in_(ids)
            )
        )
    if "hypothesis" in found:
        impact.stances += db.session.scalar(
            select(func.count(ExpertStance.id)).where(
                ExpertStance.hypothesis_id.in_(found["hypothesis"])
            )
        )
    if own == "expert_input":
        impact.stances += len(item.stances)
    if own == "question":
        impact.linked_findings = db.session.scalar(
            select(func.count(Finding.id)).filter_by(question_id=item.id)
        )
    if isinstance(item, Process):
        impact.sessions = db.session.scalar(
            select(func.count(LiveSession.id)).filter_by(process_id=item.id)
        )
    return impact


@writes
def delete_item(item: Any, confirm: bool = False) -> Impact:
    """Delete an item and what hangs under it, only once confirmed when anything would go.

    Agenda items and proposals that pointed at a deleted item keep its text, so the record
    of what was voted on stays readable. Version histories are kept.
    """
    impact = deletion_impact(item)
    if impact.needs_confirmation and not confirm:
        raise ConfirmationRequired(impact)
    for item_type, ids in _descendants(item).items():
        texts = {i: label(get_item(item_type, i), 10_000) for i in ids}
        for agenda_item in db.session.scalars(
            select(AgendaItem).where(AgendaItem.item_type == item_type, AgendaItem.item_id.in_(ids))
        ):
            agenda_item.text = agenda_item.text or texts.get(agenda_item.item_id, "")
            agenda_item.item_id = None
        for proposal in db.session.scalars(
            select(Proposal).where(Proposal.item_type == item_type, Proposal.item_id.in_(ids))
        ):
            proposal.item_id = None
    parent = None if isinstance(item, Process) else parent_of(item)
    if parent is not None:
        _renumber([s for s in _siblings(item) if s is not item])
    db.session.delete(item)
    return impact
