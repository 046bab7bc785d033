"""Every type of item, in one registry: its key, its model, where it hangs in the process
tree, its labels, how it is numbered, and what may be done with it.

The key is what the database stores (``agenda_item.item_type``, ``text_version.item_type``,
``proposal.item_type``) and what the wire protocol and the process file carry; for an item
of the tree it is also its table's name. Services, views and documents ask this registry
(``ITEM_TYPES[key].model``, ``.label``…) rather than keeping maps of their own; the one
numbering function is :func:`deliberation.services.authoring.numbering.item_number`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .live import Proposal
from .process import (
    ActionPath,
    ExpertInput,
    Field,
    Finding,
    Hypothesis,
    ImplementationCondition,
    Note,
    Process,
    Question,
    Recommendation,
)


def _l(text: str) -> str:
    """Marks a label for extraction (``make messages`` reads ``_l``); translated where it
    is shown, in the reader's locale."""
    return text


# How an item's number is made (docs/process-format.md, the documents):
NUMBER_IN_FIELD = "in_field"  # question 2: its rank in its field
NUMBER_BY_QUESTION = "question"  # hypothesis 1.2: its question's rank in the field, its own
NUMBER_OF_FINDING = "finding"  # finding 3: findings are numbered across the process
NUMBER_UNDER_FINDING = "under_finding"  # action path 3.1: its finding's number, its own rank

# Where an item may be put on a live session's agenda:
AGENDA_TREE = "tree"  # an item of the process tree, voted on
AGENDA_ROOM = "room"  # made in the room: a question typed on the spot, an amendment


@dataclass(frozen=True)
class ItemType:
    key: str
    model: type | None  # the row an item of this type names (None: a question typed live)
    label: str  # the English msgid, translated where shown: "Hypothesis"
    parent: str = ""  # the parent's type key ("" for the process itself and live-only types)
    parent_key: str = ""  # the foreign-key column naming the parent
    siblings: str = ""  # the parent's relationship listing this type, in order
    children: tuple[str, ...] = ()  # relationships holding children, for deletion
    versioned: tuple[str, ...] = ()  # text fields kept in the history; the first is shown
    numbered_label: str = ""  # msgid with %(number)s: "Hypothesis %(number)s"
    number_by: str = ""  # one of the NUMBER_… schemes above, "" when not numbered
    agenda: str = ""  # AGENDA_TREE, AGENDA_ROOM, or "" (never on an agenda)
    amendable: bool = False  # the room may propose a new wording of it
    grid_prefix: str = ""  # its prefix in the second grid (H1.2, R3.1…); "" when not in it
    traced: bool = False  # followed from the workshops to the assembly (traceability)

    @property
    def names_its_own_row(self) -> bool:
        """An agenda item of this type names a row of the type's own table (not, as the
        action paths of a finding do, its parent's)."""
        return self.model is not None and getattr(self.model, "__tablename__", "") == self.key


ITEM_TYPES: dict[str, ItemType] = {
    entry.key: entry
    for entry in (
        ItemType(
            "process",
            Process,
            _l("Process"),
            children=("fields",),
            versioned=("title", "subtitle", "introduction", "steering_committee"),
        ),
        ItemType(
            "field",
            Field,
            _l("Field"),
            "process",
            "process_id",
            "fields",
            ("questions", "findings", "expert_inputs"),
            ("title", "description"),
        ),
        ItemType(
            "question",
            Question,
            _l("Burning question"),
            "field",
            "field_id",
            "questions",
            ("hypotheses",),
            ("text",),
            _l("Question %(number)s"),
            NUMBER_IN_FIELD,
        ),
        ItemType(
            "hypothesis",
            Hypothesis,
            _l("Hypothesis"),
            "question",
            "question_id",
            "hypotheses",
            ("stances",),
            ("text",),
            _l("Hypothesis %(number)s"),
            NUMBER_BY_QUESTION,
            AGENDA_TREE,
            amendable=True,
            grid_prefix="H",
        ),
        ItemType(
            "expert_input",
            ExpertInput,
            _l("Expert input"),
            "field",
            "field_id",
            "expert_inputs",
            ("stances",),
            ("title", "author", "role", "affiliation", "text", "references"),
        ),
        ItemType(
            "finding",
            Finding,
            _l("Finding"),
            "field",
            "field_id",
            "findings",
            ("recommendations", "action_paths", "conditions", "notes"),
            ("text",),
            _l("Finding %(number)s"),
            NUMBER_OF_FINDING,
            AGENDA_TREE,
            amendable=True,
        ),
        ItemType(
            "recommendation",
            Recommendation,
            _l("Recommendation"),
            "finding",
            "finding_id",
            "recommendations",
            versioned=("text",),
            numbered_label=_l("Recommendation %(number)s"),
            number_by=NUMBER_UNDER_FINDING,
            agenda=AGENDA_TREE,
            amendable=True,
            grid_prefix="R",
            traced=True,
        ),
        ItemType(
            "action_path",
            ActionPath,
            _l("Action path"),
            "finding",
            "finding_id",
            "action_paths",
            versioned=("text",),
            numbered_label=_l("Action path %(number)s"),
            number_by=NUMBER_UNDER_FINDING,
            agenda=AGENDA_TREE,
            amendable=True,
            grid_prefix="A",
            traced=True,
        ),
        # All the action paths of one finding (the item names the finding), put to one vote.
        ItemType(
            "action_paths",
            Finding,
            _l("Action paths"),
            numbered_label=_l("Action paths of finding %(number)s"),
            number_by=NUMBER_OF_FINDING,
            agenda=AGENDA_TREE,
        ),
        ItemType(
            "implementation_condition",
            ImplementationCondition,
            _l("Implementation condition"),
            "finding",
            "finding_id",
            "conditions",
            versioned=("text",),
            numbered_label=_l("Implementation condition %(number)s"),
            number_by=NUMBER_UNDER_FINDING,
            agenda=AGENDA_TREE,
            amendable=True,
            grid_prefix="C",
            traced=True,
        ),
        ItemType(
            "note",
            Note,
            _l("Note"),
            "finding",
            "finding_id",
            "notes",
            versioned=("text",),
        ),
        ItemType("free", None, _l("Question"), agenda=AGENDA_ROOM),
        ItemType("amendment", Proposal, _l("Amendment"), agenda=AGENDA_ROOM),
    )
}


def _keys(wanted: Any) -> tuple[str, ...]:
    return tuple(key for key, entry in ITEM_TYPES.items() if wanted(entry))


# Items of the process tree (what authoring creates, moves and deletes), parents first.
TREE_TYPES = _keys(lambda entry: bool(entry.parent))
# What organisers author: the process and its tree.
AUTHORED_TYPES = ("process", *TREE_TYPES)
# Agenda items that point at the process tree, in the order they appear under a finding.
TREE_ITEM_TYPES = _keys(lambda entry: entry.agenda == AGENDA_TREE)
AGENDA_ITEM_TYPES = _keys(lambda entry: bool(entry.agenda))
VERSIONED_TYPES = _keys(lambda entry: bool(entry.versioned))
AMENDABLE_TYPES = _keys(lambda entry: entry.amendable)
GRID_TYPES = _keys(lambda entry: bool(entry.grid_prefix))
TRACED_TYPES = _keys(lambda entry: entry.traced)
# Types whose items may have been voted on as themselves (their deletion loses votes).
VOTED_TYPES = _keys(lambda entry: entry.agenda == AGENDA_TREE and entry.names_its_own_row)


def model_of(item_type: str) -> type | None:
    entry = ITEM_TYPES.get(item_type)
    return entry.model if entry is not None else None


def item_type_of(item: object) -> str:
    """The type key of an item of the tree (its table's name)."""
    return item.__tablename__  # type: ignore[attr-defined]
