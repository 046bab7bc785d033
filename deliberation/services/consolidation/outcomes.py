"""What the votes decided, item by item: the figures the documents and open data print.

Every figure comes from :func:`deliberation.methods.summarize` over the incremental counters
(``PollCount``); nothing here counts ballots.

:func:`poll_results` lists every closed (or closed and published) poll, session by session,
for the Actes' tables and the open data. :func:`item_outcomes` gives each authored item its
one final outcome, by the single rule the Synthèse, the Actes, the open data, the
consolidation and the traceability pages share:

1. the general assembly's latest *published* vote on the item decides
   (:func:`~deliberation.services.consolidation.assembly.final_status`); a closed vote the
   room has not
   seen yet decides nothing;
2. without one, the workshops' consolidated figure
   (:func:`deliberation.services.consolidation.consolidation.consolidate`): per workshop session its
   latest closed or published poll on the item, every territory's ballots added up, and the
   process thresholds applied to the sum.

Dot votes rank options; they give no outcome.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ... import methods
from ...extensions import db
from ...models import AgendaItem, LiveSession, Poll, PollCount, Process
from ...tally import OutcomeRule
from ...wording import verdict_words, words
from .assembly import ASSEMBLY_TYPES, SummaryFigures, final_status
from .consolidation import ItemConsolidation, consolidate

FINAL_STATES = ("closed", "published")


@dataclass(frozen=True)
class PollResult(SummaryFigures):
    """One closed poll and its summary (``summary`` is ``tally.summarize``'s dict)."""

    poll_id: int
    session_id: int
    session_kind: str
    session_title: str
    held_on: date | None
    territory: str
    field_id: int | None
    agenda_item_id: int
    item_type: str
    item_id: int | None
    item_text: str
    method: str
    state: str
    closed_at: datetime | None
    counts_by_group: dict[str, dict[str, int]]
    summary: dict[str, Any]
    # A named poll keeps who voted what (services.live.record); a secret one does not.
    secret: bool = True

    @property
    def outcome(self) -> str | None:
        return self.summary.get("outcome")


@dataclass(frozen=True)
class ItemOutcome(SummaryFigures):
    """The final outcome of one authored item, and where it was decided."""

    item_type: str
    item_id: int
    where: str  # "assembly" | "workshop" | "workshops"
    method: str
    summary: dict[str, Any]
    # Workshop sessions (and their territories) whose votes make the figure; 0 for the assembly.
    workshops: int = 0
    territories: int = 0

    @property
    def outcome(self) -> str:
        return self.summary.get("outcome") or "no_votes"


def labels_for(process: Process, method: str) -> dict[str, str] | None:
    """Answer labels in the process's language (the consensus scale may be customised)."""
    return methods.method(method).document_labels(process)


def counts_for_polls(poll_ids: list[int]) -> dict[int, dict[str, dict[str, int]]]:
    """poll id → {group: {key: count}}, read in one query."""
    grouped: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    if not poll_ids:
        return grouped
    rows = db.session.execute(
        db.select(PollCount.poll_id, PollCount.group, PollCount.key, PollCount.count).where(
            PollCount.poll_id.in_(poll_ids)
        )
    )
    for poll_id, group, key, value in rows:
        grouped[poll_id].setdefault(group or "", {})[key] = value
    return grouped


def poll_results(process: Process, states: tuple[str, ...] = FINAL_STATES) -> list[PollResult]:
    """Every poll of the process in the given states, in session and agenda order."""
    query = (
        db.select(Poll, AgendaItem, LiveSession)
        .join(AgendaItem, Poll.agenda_item_id == AgendaItem.id)
        .join(LiveSession, Poll.session_id == LiveSession.id)
        .where(LiveSession.process_id == process.id, Poll.state.in_(states))
        .order_by(LiveSession.held_on, LiveSession.id, AgendaItem.position, Poll.id)
    )
    rows = db.session.execute(query).all()
    counts = counts_for_polls([poll.id for poll, _, _ in rows])
    rule = OutcomeRule.from_process(process)
    territories = {t.id: t.name for t in process.territories}
    results = []
    for poll, item, live in rows:
        grouped = counts.get(poll.id, {})
        summary = methods.summarize(
            poll.method, grouped, rule, poll.options or (), labels_for(process, poll.method)
        )
        results.append(
            PollResult(
                poll_id=poll.id,
                session_id=live.id,
                session_kind=live.kind,
                session_title=live.title,
                held_on=live.held_on,
                territory=territories.get(live.territory_id, ""),
                field_id=live.field_id,
                agenda_item_id=item.id,
                item_type=item.item_type,
                item_id=item.item_id,
                item_text=item.text or "",
                method=poll.method,
                state=poll.state,
                closed_at=poll.closed_at,
                counts_by_group=grouped,
                summary=summary,
                secret=poll.secret,
            )
        )
    return results


def item_outcomes(process: Process) -> dict[tuple[str, int], ItemOutcome]:
    """(item_type, item_id) → its final outcome, for every authored item with a counted vote.

    The assembly's latest published vote (``assembly.final_status``) wins; otherwise the
    workshops' consolidated figure (``consolidation.consolidate``). See the module docstring.
    """
    outcomes: dict[tuple[str, int], ItemOutcome] = {}
    for item in consolidate(process):
        if item.item.item_type not in ASSEMBLY_TYPES or item.overall is None:
            continue
        # A vote that ranks (dots, ranking, majority judgment of several options) gives an
        # order of priority (item_priorities), never an outcome.
        if item.overall.get("verdict") is None:
            continue
        outcomes[item.key] = _from_workshops(item)
    for key, status in final_status(process).items():
        outcomes[key] = ItemOutcome(key[0], key[1], "assembly", status.method, status.summary)
    return outcomes


def consolidation_page(process: Process, field_id: int | None = None) -> list[ItemConsolidation]:
    """The consolidation of every item voted in workshops, each with the general assembly's
    final status once it decided (``final``): the page shows the one final outcome, as the
    documents do."""
    items = consolidate(process, field_id=field_id)
    statuses = final_status(process)
    for item in items:
        item.final = statuses.get(item.key)
    return items


def _from_workshops(item: ItemConsolidation) -> ItemOutcome:
    """An item's figures as its workshops gave them, consolidated across territories."""
    counted = [t for t in item.territories if t.counted_sessions]
    sessions = sum(len(t.counted_sessions) for t in counted)
    return ItemOutcome(
        item.item.item_type,
        item.item.item_id,
        "workshop" if sessions == 1 else "workshops",
        item.method,
        item.overall,
        workshops=sessions,
        territories=len(counted),
    )


def item_priorities(process: Process) -> dict[tuple[str, int], ItemOutcome]:
    """(item_type, item_id) → the workshops' consolidated order of an item voted by a method
    that ranks options rather than deciding (dots, ranking): the order of priority the
    Synthèse prints under a finding's action paths. Same figures as the consolidation."""
    priorities: dict[tuple[str, int], ItemOutcome] = {}
    for item in consolidate(process):
        if item.overall is None or item.method is None or item.overall.get("verdict"):
            continue
        if not item.overall.get("ballots") or not item.overall.get("ranking"):
            continue
        priorities[item.key] = _from_workshops(item)
    return priorities


def priority_line(priority: ItemOutcome, language: str, label_max: int = 80) -> str:
    """E.g. "Ordre de priorité (Vote par gommettes, en ateliers (2), 24 votes) : 1. …; 2. …"."""
    w = words(language)
    method = methods.method(priority.method).document_text(language)
    place = w["in_workshop"] if priority.where == "workshop" else w["workshops"]
    labels = {a["key"]: a["label"] for a in priority.summary.get("answers") or []}

    def short(text: str) -> str:
        text = " ".join(str(text).split())
        return text if len(text) <= label_max else text[: label_max - 1].rstrip() + "…"

    order = "; ".join(
        f"{entry['rank']}. {short(labels.get(entry['key'], entry['key']))}"
        for entry in priority.summary.get("ranking") or []
    )
    n = priority.ballots
    votes = (w["vote"] if n == 1 else w["votes"]).format(n=n)
    colon = " :" if language == "fr" else ":"
    head = f"{w['priorities']} ({method.title}, {place.format(n=priority.workshops)}, {votes})"
    return f"{head}{colon} {order}"


def outcome_line(outcome: ItemOutcome, language: str) -> str:
    """E.g. "À retravailler en ateliers (2), 8 votes — 75 % de soutien, 12,5 % de blocages :
    au-delà du seuil de blocage de 5 % → à retravailler": the verdict, where and by how many
    it was decided, and why in the method's own terms (methods.verdict; a majority grade is
    never given a support share)."""
    w = words(language)
    verdict, reason = verdict_words(outcome.summary.get("verdict"), language)
    verdict = verdict or w.get(f"outcome_{outcome.outcome}", outcome.outcome or "")
    if outcome.where == "assembly":
        place = w["in_assembly"]
    elif outcome.where == "workshops":
        place = w["workshops"].format(n=outcome.workshops)
    else:
        place = w["in_workshop"]
    n = outcome.ballots
    votes = (w["vote"] if n == 1 else w["votes"]).format(n=n)
    head = f"{verdict} {place}, {votes}"
    return f"{head} — {reason}" if reason else head
