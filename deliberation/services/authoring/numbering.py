"""The one numbering of a process's items, as the room, the documents and the open data
print it: findings numbered across the process in field order (1, 2, 3…); a question by
its rank in its field; a hypothesis by its question's number and its own rank (1.2); a
recommendation, action path or condition by its finding's number and its own rank (3.1).
How each type is numbered is its registry entry's ``number_by``
(:mod:`deliberation.models.item_types`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext

from ...extensions import db
from ...models import ITEM_TYPES, TREE_ITEM_TYPES, Field, Finding, Process
from ...models.item_types import (
    NUMBER_BY_QUESTION,
    NUMBER_IN_FIELD,
    NUMBER_OF_FINDING,
    NUMBER_UNDER_FINDING,
)


def finding_numbers(process: Process) -> dict[int, int]:
    """Finding id → its number, running across the process in field order (1, 2, 3…).

    One query, whatever the size of the tree (each phone's state asks for it)."""
    rows = db.session.execute(
        db.select(Finding.id)
        .join(Field, Finding.field_id == Field.id)
        .filter(Field.process_id == process.id)
        .order_by(Field.position, Field.id, Finding.position, Finding.id)
    )
    return {finding_id: number for number, (finding_id,) in enumerate(rows, start=1)}


def _rank(item: Any, siblings: list) -> int:
    return siblings.index(item) + 1 if item in siblings else 0


def item_number(item_type: str, item: Any, findings: Mapping[int, int]) -> str:
    """The number of ``item`` (of type ``item_type``) as printed; "" for a type that is not
    numbered. ``findings`` is :func:`finding_numbers` of its process (computed once by a
    caller numbering many items)."""
    entry = ITEM_TYPES.get(item_type)
    scheme = entry.number_by if entry is not None else ""
    if item is None or not scheme:
        return ""
    if scheme == NUMBER_IN_FIELD:
        return str(_rank(item, item.field.questions))
    if scheme == NUMBER_BY_QUESTION:
        question = item.question
        return f"{item_number('question', question, findings)}.{_rank(item, question.hypotheses)}"
    if scheme == NUMBER_OF_FINDING:
        return str(findings.get(item.id, 0))
    if scheme == NUMBER_UNDER_FINDING:
        finding = item.finding
        siblings = getattr(finding, entry.siblings)
        return f"{findings.get(finding.id, 0)}.{_rank(item, siblings)}"
    raise ValueError(f"unknown numbering scheme {scheme!r}")


def numbered_label(
    item_type: str,
    item: Any,
    findings: Mapping[int, int],
    translate: Callable[..., str] = gettext,
) -> str:
    """The item's label with its number ("Hypothesis 1.2", "Action path 3.1") in the
    current locale, "" when its type is not numbered. ``translate`` is the caller's
    gettext (one that keeps English outside a request, say)."""
    entry = ITEM_TYPES.get(item_type)
    if entry is None or not entry.numbered_label or item is None:
        return ""
    return translate(entry.numbered_label, number=item_number(item_type, item, findings))


@dataclass(frozen=True)
class OutlineItem:
    """An item of the process in field order, with its number as the documents print it."""

    item_type: str
    item_id: int
    number: str
    text: str
    field_id: int
    field_title: str
    item: Any = field(default=None, compare=False, repr=False)  # the row itself

    @property
    def key(self) -> tuple[str, int]:
        return (self.item_type, self.item_id)


def outline_items(process: Process, types: Iterable[str] = TREE_ITEM_TYPES) -> list[OutlineItem]:
    """Every item of these types, in field order: a field's hypotheses (question by question),
    then each finding followed by its recommendations, action paths (each, then the finding's
    action paths as one dot vote) and implementation conditions, numbered by
    :func:`item_number`."""
    wanted = set(types)
    findings = finding_numbers(process)
    items: list[OutlineItem] = []

    def add(item_type: str, item: Any, field_: Field) -> None:
        if item_type in wanted:
            number = item_number(item_type, item, findings)
            items.append(
                OutlineItem(item_type, item.id, number, item.text, field_.id, field_.title, item)
            )

    for field_ in process.fields:
        for question in field_.questions:
            for hypothesis in question.hypotheses:
                add("hypothesis", hypothesis, field_)
        for finding in field_.findings:
            add("finding", finding, field_)
            for recommendation in finding.recommendations:
                add("recommendation", recommendation, field_)
            for action_path in finding.action_paths:
                add("action_path", action_path, field_)
            if finding.action_paths:
                add("action_paths", finding, field_)
            for condition in finding.conditions:
                add("implementation_condition", condition, field_)
    return items
