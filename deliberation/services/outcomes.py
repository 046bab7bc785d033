"""What the votes decided, item by item: the figures the documents and open data print.

Every figure comes from :func:`deliberation.tally.summarize` over the incremental counters
(``PollCount``); nothing here counts ballots. Only polls that were closed (or closed and
published) count: an open poll is not a result yet, a draft never was one.

For an authored item voted several times the decisive result is the general assembly's
(its last vote); without an assembly vote the workshops' counters for the item are merged
(the same method only) — that is how contributions from several territories become one
figure, and what consolidation across territories reuses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..documents.labels import format_percent, words
from ..extensions import db
from ..models import AgendaItem, LiveSession, Poll, PollCount, Process
from ..tally import OutcomeRule, merge_grouped, summarize

FINAL_STATES = ("closed", "published")
# Methods whose result is a verdict on the item (dot voting only ranks options).
VERDICT_METHODS = ("consensus", "yes_no", "majority_judgment")
# Agenda items that are not authored items of the tree (typed on the spot, or a proposal).
UNAUTHORED_TYPES = ("free", "amendment")


@dataclass(frozen=True)
class PollResult:
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

    @property
    def ballots(self) -> int:
        return int(self.summary.get("ballots") or 0)

    @property
    def outcome(self) -> str | None:
        return self.summary.get("outcome")

    @property
    def support_percent(self) -> float | None:
        return self.summary.get("support_percent")


@dataclass(frozen=True)
class ItemOutcome:
    """The decisive result for one authored item, and every vote that bore on it."""

    item_type: str
    item_id: int
    where: str  # "assembly" | "workshop" | "workshops"
    method: str
    summary: dict[str, Any]
    votes: tuple[PollResult, ...] = field(default_factory=tuple)
    workshops: int = 0

    @property
    def outcome(self) -> str | None:
        return self.summary.get("outcome")

    @property
    def ballots(self) -> int:
        return int(self.summary.get("ballots") or 0)

    @property
    def support_percent(self) -> float | None:
        return self.summary.get("support_percent")


def labels_for(process: Process, method: str) -> dict[str, str] | None:
    """Answer labels in the process's language (the consensus scale may be customised)."""
    if method == "consensus":
        return process.labels()
    if method == "yes_no":
        return {
            "fr": {"yes": "Oui", "no": "Non", "abstain": "Abstention"},
            "en": {"yes": "Yes", "no": "No", "abstain": "Abstain"},
        }.get(process.language, {"yes": "Yes", "no": "No", "abstain": "Abstain"})
    return None


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


def poll_results(
    process: Process, states: tuple[str, ...] = FINAL_STATES, verdicts_only: bool = False
) -> list[PollResult]:
    """Every poll of the process in the given states, in session and agenda order.

    ``verdicts_only`` keeps the polls that can decide an authored item (what
    :func:`item_outcomes` needs), which spares summarising the others.
    """
    query = (
        db.select(Poll, AgendaItem, LiveSession)
        .join(AgendaItem, Poll.agenda_item_id == AgendaItem.id)
        .join(LiveSession, Poll.session_id == LiveSession.id)
        .where(LiveSession.process_id == process.id, Poll.state.in_(states))
        .order_by(LiveSession.held_on, LiveSession.id, AgendaItem.position, Poll.id)
    )
    if verdicts_only:
        query = query.where(
            Poll.method.in_(VERDICT_METHODS),
            AgendaItem.item_type.not_in(UNAUTHORED_TYPES),
            AgendaItem.item_id.is_not(None),
        )
    rows = db.session.execute(query).all()
    counts = counts_for_polls([poll.id for poll, _, _ in rows])
    rule = OutcomeRule.from_process(process)
    territories = {t.id: t.name for t in process.territories}
    results = []
    for poll, item, live in rows:
        grouped = counts.get(poll.id, {})
        summary = summarize(
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
            )
        )
    return results


def item_outcomes(
    process: Process, results: list[PollResult] | None = None
) -> dict[tuple[str, int], ItemOutcome]:
    """(item_type, item_id) → its decisive outcome, for every authored item put to a vote."""
    if results is None:
        results = poll_results(process, verdicts_only=True)
    by_item: dict[tuple[str, int], list[PollResult]] = defaultdict(list)
    for result in results:
        if result.item_id is None or result.item_type in UNAUTHORED_TYPES:
            continue
        if result.method not in VERDICT_METHODS:
            continue
        by_item[(result.item_type, result.item_id)].append(result)

    rule = OutcomeRule.from_process(process)
    outcomes: dict[tuple[str, int], ItemOutcome] = {}
    for key, votes in by_item.items():
        assembly = [v for v in votes if v.session_kind == "assembly"]
        if assembly:
            decisive = assembly[-1]
            outcomes[key] = ItemOutcome(
                key[0], key[1], "assembly", decisive.method, decisive.summary, tuple(votes)
            )
            continue
        method = votes[-1].method
        same = [v for v in votes if v.method == method]
        if len(same) == 1:
            summary = same[0].summary
        else:
            merged = merge_grouped(*(v.counts_by_group for v in same))
            options = _options_of(same[-1])
            summary = summarize(method, merged, rule, options, labels_for(process, method))
        where = "workshop" if len(same) == 1 else "workshops"
        outcomes[key] = ItemOutcome(
            key[0], key[1], where, method, summary, tuple(votes), workshops=len(same)
        )
    return outcomes


def _options_of(result: PollResult) -> list[dict[str, Any]]:
    poll = db.session.get(Poll, result.poll_id)
    return list(poll.options or []) if poll else []


def outcome_line(outcome: ItemOutcome, language: str) -> str:
    """E.g. "Validé en assemblée générale — 84 % de soutien, 212 votes"."""
    w = words(language)
    verdict = w.get(f"outcome_{outcome.outcome}", outcome.outcome or "")
    if outcome.where == "assembly":
        place = w["in_assembly"]
    elif outcome.where == "workshops":
        place = w["workshops"].format(n=outcome.workshops)
    else:
        place = w["in_workshop"]
    parts = []
    if outcome.support_percent is not None:
        parts.append(w["support"].format(percent=format_percent(outcome.support_percent, language)))
    n = outcome.ballots
    parts.append((w["vote"] if n == 1 else w["votes"]).format(n=n))
    return f"{verdict} {place} — {', '.join(parts)}"
