"""Traceability: where a recommendation or an action path comes from, and what became of it.

One :class:`Trace` gathers, for one item: the question its finding answers, that question's
hypotheses with the expert inputs that support, nuance or contradict them, each territory's
votes (the consolidation), the amendments proposed from the floor (in workshops and in the
assembly), the item's text versions, and the assembly's vote (the final status).
:func:`traces` builds them all for a process at once, in field order (for the Actes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...extensions import db
from ...models import (
    ExpertInput,
    Finding,
    Hypothesis,
    LiveSession,
    Process,
    Proposal,
    Question,
    TextVersion,
    model_of,
)
from ...models.item_types import TRACED_TYPES
from ..authoring import versions
from ..authoring.numbering import item_number
from .assembly import FinalStatus, final_status
from .consolidation import ItemConsolidation, OutlineItem, consolidate, outline_items


class TraceError(LookupError):
    pass


@dataclass(frozen=True)
class ExpertView:
    expert_input: ExpertInput
    stance: str  # supports | nuances | contradicts


@dataclass(frozen=True)
class HypothesisTrace:
    hypothesis: Hypothesis
    number: str
    experts: tuple[ExpertView, ...]


@dataclass(frozen=True)
class ProposalTrace:
    proposal: Proposal
    session_title: str
    session_kind: str
    territory: str


@dataclass(frozen=True)
class VersionTrace:
    version: TextVersion
    session_title: str  # "" when the change was not made in a session


@dataclass
class Trace:
    item_type: str
    item: Any
    number: str
    field_title: str
    finding: Finding
    finding_number: str
    question: Question | None
    question_number: str
    hypotheses: list[HypothesisTrace] = field(default_factory=list)
    consolidation: ItemConsolidation | None = None
    # For an action path: the dot votes that ranked its finding's action paths.
    priorities: ItemConsolidation | None = None
    proposals: list[ProposalTrace] = field(default_factory=list)
    versions: list[VersionTrace] = field(default_factory=list)
    final: FinalStatus | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.item_type, self.item.id)

    @property
    def expert_inputs(self) -> list[ExpertInput]:
        """The expert inputs behind the hypotheses, each once, in their authored order."""
        seen: dict[int, ExpertInput] = {}
        for hypothesis in self.hypotheses:
            for view in hypothesis.experts:
                seen.setdefault(view.expert_input.id, view.expert_input)
        return sorted(seen.values(), key=lambda e: (e.field_id, e.position, e.id))

    @property
    def priority_key(self) -> str:
        """The dot-vote option key of an action path (as the live service names it)."""
        return f"ap{self.item.id}" if self.item_type == "action_path" else ""


def _hypotheses(question: Question | None) -> list[HypothesisTrace]:
    if question is None:
        return []
    found = []
    for hypothesis in question.hypotheses:
        experts = sorted(
            (ExpertView(s.expert_input, s.stance) for s in hypothesis.stances),
            key=lambda v: (v.expert_input.position, v.expert_input.id),
        )
        number = item_number("hypothesis", hypothesis, {})
        found.append(HypothesisTrace(hypothesis, number, tuple(experts)))
    return found


def _proposals(process: Process, item_type: str, item_id: int) -> list[ProposalTrace]:
    territories = {t.id: t.name for t in process.territories}
    rows = db.session.execute(
        db.select(Proposal, LiveSession)
        .join(LiveSession, Proposal.session_id == LiveSession.id)
        .filter(
            LiveSession.process_id == process.id,
            Proposal.item_type == item_type,
            Proposal.item_id == item_id,
        )
        .order_by(LiveSession.held_on, LiveSession.id, Proposal.id)
    ).all()
    return [ProposalTrace(p, s.title, s.kind, territories.get(s.territory_id, "")) for p, s in rows]


def _versions(item: Any) -> list[VersionTrace]:
    history = versions.history(item)
    session_ids = {v.session_id for v in history if v.session_id}
    titles = {}
    if session_ids:
        titles = dict(
            db.session.execute(
                db.select(LiveSession.id, LiveSession.title).filter(LiveSession.id.in_(session_ids))
            ).all()
        )
    return [VersionTrace(v, titles.get(v.session_id, "")) for v in history]


def _build(
    process: Process,
    outline: OutlineItem,
    item: Any,
    finding_number: str,
    consolidated: Mapping[tuple[str, int], ItemConsolidation],
    statuses: Mapping[tuple[str, int], FinalStatus],
) -> Trace:
    finding = item.finding
    question = finding.question
    trace = Trace(
        item_type=outline.item_type,
        item=item,
        number=outline.number,
        field_title=outline.field_title,
        finding=finding,
        finding_number=finding_number,
        question=question,
        question_number=item_number("question", question, {}),
        hypotheses=_hypotheses(question),
        consolidation=consolidated.get(outline.key),
        proposals=_proposals(process, outline.item_type, item.id),
        versions=_versions(item),
        final=statuses.get(outline.key),
    )
    if outline.item_type == "action_path":
        trace.priorities = consolidated.get(("action_paths", finding.id))
    return trace


def trace(process: Process, item_type: str, item_id: int) -> Trace:
    """The trace of one recommendation, action path or implementation condition."""
    model = model_of(item_type) if item_type in TRACED_TYPES else None
    item = db.session.get(model, item_id) if model else None
    if item is None or item.finding.field.process_id != process.id:
        raise TraceError("No such recommendation or action path in this process.")
    outline = {i.key: i for i in outline_items(process, (item_type, "finding"))}
    keys = [(item_type, item_id), ("action_paths", item.finding_id)]
    consolidated = {c.key: c for c in consolidate(process, only=keys)}
    return _build(
        process,
        outline[(item_type, item_id)],
        item,
        outline[("finding", item.finding_id)].number,
        consolidated,
        final_status(process),
    )


def traces(process: Process, types: tuple[str, ...] = ("recommendation", "action_path")):
    """Every trace of these types in field order (what the Actes print)."""
    consolidated = {c.key: c for c in consolidate(process)}
    statuses = final_status(process)
    outline = outline_items(process, (*types, "finding"))
    numbers = {i.item_id: i.number for i in outline if i.item_type == "finding"}
    found = []
    for entry in outline:
        if entry.item_type not in types:
            continue
        item = entry.item
        found.append(_build(process, entry, item, numbers[item.finding_id], consolidated, statuses))
    return found
