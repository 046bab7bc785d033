"""The one numbering of a process's items, as the room, the documents and the open data
print it: findings numbered across the process in field order (1, 2, 3…); a hypothesis by
its question's rank in the field and its own (1.2); a recommendation, action path or
condition by its finding's number and its own rank (3.1). How each type is numbered is
its registry entry's ``number_by`` (:mod:`deliberation.models.item_types`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...extensions import db
from ...models import ITEM_TYPES, Field, Finding, Process
from ...models.item_types import NUMBER_BY_QUESTION, NUMBER_OF_FINDING, NUMBER_UNDER_FINDING


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
    if scheme == NUMBER_BY_QUESTION:
        question = item.question
        return f"{_rank(question, question.field.questions)}.{_rank(item, question.hypotheses)}"
    if scheme == NUMBER_OF_FINDING:
        return str(findings.get(item.id, 0))
    if scheme == NUMBER_UNDER_FINDING:
        finding = item.finding
        siblings = getattr(finding, entry.siblings)
        return f"{findings.get(finding.id, 0)}.{_rank(item, siblings)}"
    raise ValueError(f"unknown numbering scheme {scheme!r}")


def numbered_label(item_type: str, item: Any, findings: Mapping[int, int]) -> str:
    """ "Hypothesis 1.2", "Action path 3.1", in the current locale ("" when not numbered)."""
    entry = ITEM_TYPES.get(item_type)
    if entry is None or entry.numbered_label is None or item is None:
        return ""
    return str(entry.numbered_label % {"number": item_number(item_type, item, findings)})
