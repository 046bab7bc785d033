"""Consolidation: the same items put to the vote in several territories, read together.

For each item of the process that was on a workshop's agenda, and for each territory:

* the vote that counts in a session is its latest poll on the item that is closed or
  published (a poll still open or in draft is not a result yet);
* a territory's figure adds up the counters of those polls over its sessions (each
  participant votes once per session, so the ballots of two workshops in one territory
  simply add up);
* the overall figure adds up every territory's counters — every ballot weighs the same,
  whatever the size of its workshop — and then applies the same outcome rule (the process
  thresholds) as a single poll would; ``methods.summarize`` does the arithmetic;
* territories disagree when, among those with ballots, their outcomes differ or their
  support (yes share for yes/no) is ``divergence_points`` or more apart.

Sessions that voted with another method than the item's main one (the method most polls
used; consensus first on a tie) are listed but kept out of the sums: counters of different
methods cannot be added.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from ... import methods
from ...extensions import db
from ...methods import order_of, summarize, summarize_bucket
from ...models import (
    TREE_ITEM_TYPES,
    AgendaItem,
    LiveSession,
    Poll,
    PollCount,
    Process,
    Proposal,
)
from ...tally import OutcomeRule, merge_grouped, total_counts
from ..authoring.numbering import OutlineItem, outline_items  # noqa: F401  (its API)

FINAL_POLL_STATES = ("closed", "published")
NO_TERRITORY = None


# -- pure arithmetic over counters --------------------------------------------------------

CountsByGroup = Mapping[str, Mapping[str, int]]


def exact_share(method: str, counts_by_group: CountsByGroup, rule: OutcomeRule) -> Fraction | None:
    """The method's share compared across territories (support for consensus, the yes share
    for yes/no) as an exact fraction; None for a method without one."""
    metric = methods.method(method).share_metric
    if metric is None:
        return None
    _summary, metrics = summarize_bucket(method, total_counts(counts_by_group), rule)
    return metrics.get(metric)


def territory_divergence(
    outcomes: Mapping[str, str],
    shares: Mapping[str, Fraction | None],
    threshold: int,
) -> dict[str, Any] | None:
    """Where territories disagree, or None. Territories without ballots are left out.

    ``outcomes`` maps a territory name to its outcome; ``shares`` to its exact support.
    """
    voted = {name: outcome for name, outcome in outcomes.items() if outcome != "no_votes"}
    differ = len(set(voted.values())) > 1
    measured = {name: share for name, share in shares.items() if share is not None}
    gap: Fraction | None = None
    high = low = None
    if len(measured) >= 2:
        high = max(measured, key=lambda n: (measured[n], n))
        low = min(measured, key=lambda n: (measured[n], n))
        gap = measured[high] - measured[low]
    wide = gap is not None and gap >= Fraction(threshold, 100)
    if not differ and not wide:
        return None
    return {
        "outcomes_differ": differ,
        "outcomes": dict(voted),
        "gap_points": _points(gap),
        "wide_gap": wide,
        "highest": high,
        "lowest": low,
        "highest_percent": _points(measured.get(high)) if high else None,
        "lowest_percent": _points(measured.get(low)) if low else None,
        "threshold": threshold,
    }


def _points(fraction: Fraction | None) -> float | None:
    if fraction is None:
        return None
    return (fraction.numerator * 1000 // fraction.denominator) / 10


def consolidate_counts(
    method: str,
    counts_by_territory: Mapping[str, CountsByGroup],
    rule: OutcomeRule,
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Each territory's result, the overall result (all ballots added up, same rule) and
    where territories disagree. Pure: counters in, JSON-ready dict out."""
    per_territory = {
        name: summarize(method, counts, rule, options, labels)
        for name, counts in counts_by_territory.items()
    }
    overall = summarize(method, merge_grouped(*counts_by_territory.values()), rule, options, labels)
    divergence = territory_divergence(
        {name: result["outcome"] for name, result in per_territory.items() if result["outcome"]},
        {name: exact_share(method, c, rule) for name, c in counts_by_territory.items()},
        rule.divergence,
    )
    return {"territories": per_territory, "overall": overall, "divergence": divergence}


# -- reading the database -----------------------------------------------------------------


@dataclass
class SessionVote:
    """One workshop that had the item on its agenda, and its counting poll (if any)."""

    session_id: int
    title: str
    held_on: date | None
    demo: bool
    poll_id: int | None = None
    poll_state: str | None = None
    method: str | None = None
    options: list = field(default_factory=list)
    counts_by_group: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ballots(self) -> int:
        return sum(counts.get("#ballots", 0) for counts in self.counts_by_group.values())


@dataclass
class TerritoryResult:
    territory_id: int | None
    name: str
    sessions: list[SessionVote] = field(default_factory=list)
    result: dict[str, Any] | None = None
    # Sessions counted with another method than the item's, kept out of the figure.
    other_method: list[SessionVote] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def ballots(self) -> int:
        return self.result["ballots"] if self.result else 0

    @property
    def outcome(self) -> str | None:
        """Its verdict; None for a vote that ranks options (dots, ranking, majority judgment
        of several options): those have ballots but no outcome, never "no votes"."""
        if self.ballots and (self.result or {}).get("outcome") is None:
            return None
        return (self.result or {}).get("outcome") or "no_votes"

    @property
    def support_percent(self) -> float | None:
        return (self.result or {}).get("support_percent")

    @property
    def counted_sessions(self) -> list[SessionVote]:
        """The workshops whose ballots make the figure: a poll closed with no ballot is not
        a workshop that voted."""
        return [
            s
            for s in self.sessions
            if s.poll_id is not None and s not in self.other_method and s.ballots > 0
        ]


@dataclass
class ItemConsolidation:
    item: OutlineItem
    method: str | None
    territories: list[TerritoryResult]
    overall: dict[str, Any] | None
    divergence: dict[str, Any] | None
    not_discussed: list[str]
    # The general assembly's final status of the item once it decided
    # (``assembly.FinalStatus``, set by ``outcomes.consolidation_page``), else None.
    final: Any = None

    @property
    def key(self) -> tuple[str, int]:
        return self.item.key

    @property
    def proposals(self) -> list[Proposal]:
        return [p for t in self.territories for p in t.proposals]

    @property
    def outcome_counts(self) -> dict[str, int]:
        """How many territories reached each outcome (territories with ballots only)."""
        return dict(Counter(t.outcome for t in self.territories if t.ballots and t.outcome))

    @property
    def validated_somewhere(self) -> bool:
        return any(t.outcome == "validated" for t in self.territories)

    @property
    def has_votes(self) -> bool:
        return any(t.ballots for t in self.territories)


def _main_method(votes: Iterable[SessionVote]) -> str | None:
    used = Counter(v.method for v in votes if v.method)
    if not used:
        return None
    return max(used, key=lambda m: (used[m], -order_of(m)))


def counts_for(poll_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    counts: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    ids = list(poll_ids)
    if not ids:
        return counts
    for row in db.session.scalars(db.select(PollCount).filter(PollCount.poll_id.in_(ids))):
        counts[row.poll_id].setdefault(row.group or "", {})[row.key] = row.count
    return counts


def _workshop_votes(process: Process) -> dict[tuple[str, int], dict[int | None, list]]:
    """(item_type, item_id) → territory id → SessionVote list, for every workshop agenda."""
    rows = db.session.execute(
        db.select(AgendaItem, LiveSession)
        .join(LiveSession, AgendaItem.session_id == LiveSession.id)
        .filter(
            LiveSession.process_id == process.id,
            LiveSession.kind == "workshop",
            AgendaItem.item_type.in_(TREE_ITEM_TYPES),
        )
        .order_by(LiveSession.held_on, LiveSession.id, AgendaItem.position)
    ).all()
    agenda_ids = [agenda.id for agenda, _session in rows]
    latest: dict[int, Poll] = {}
    if agenda_ids:
        polls = db.session.scalars(
            db.select(Poll)
            .filter(Poll.agenda_item_id.in_(agenda_ids), Poll.state.in_(FINAL_POLL_STATES))
            .order_by(Poll.id)
        )
        for poll in polls:
            latest[poll.agenda_item_id] = poll
    counts = counts_for(poll.id for poll in latest.values())

    by_item: dict[tuple[str, int], dict[int | None, list]] = defaultdict(lambda: defaultdict(list))
    seen: dict[tuple[tuple[str, int], int], SessionVote] = {}
    for agenda, session in rows:
        key = (agenda.item_type, agenda.item_id)
        vote = seen.get((key, session.id))
        if vote is None:
            vote = SessionVote(session.id, session.title, session.held_on, bool(session.demo))
            seen[(key, session.id)] = vote
            by_item[key][session.territory_id].append(vote)
        poll = latest.get(agenda.id)
        # The same item twice on one agenda: the later poll is the one that counts.
        if poll is not None and (vote.poll_id is None or poll.id > vote.poll_id):
            vote.poll_id, vote.poll_state, vote.method = poll.id, poll.state, poll.method
            vote.options = list(poll.options or [])
            vote.counts_by_group = counts.get(poll.id, {})
    return by_item


def _workshop_proposals(process: Process) -> dict[tuple[str, int], dict[int | None, list]]:
    rows = db.session.execute(
        db.select(Proposal, LiveSession.territory_id)
        .join(LiveSession, Proposal.session_id == LiveSession.id)
        .filter(LiveSession.process_id == process.id, LiveSession.kind == "workshop")
        .order_by(Proposal.id)
    ).all()
    found: dict[tuple[str, int], dict[int | None, list]] = defaultdict(lambda: defaultdict(list))
    for proposal, territory_id in rows:
        if proposal.item_id is not None:
            found[(proposal.item_type, proposal.item_id)][territory_id].append(proposal)
    return found


def consolidate(
    process: Process, field_id: int | None = None, only: Iterable[tuple[str, int]] | None = None
) -> list[ItemConsolidation]:
    """The consolidation of every item that was on a workshop agenda, in field order."""
    rule = OutcomeRule.from_process(process)
    votes = _workshop_votes(process)
    proposals = _workshop_proposals(process)
    names = {t.id: t.name for t in process.territories}
    territory_order = [t.id for t in process.territories] + [NO_TERRITORY]
    wanted = set(only) if only is not None else None
    consolidated = []
    for item in outline_items(process):
        if field_id is not None and item.field_id != field_id:
            continue
        if wanted is not None and item.key not in wanted:
            continue
        by_territory = votes.get(item.key)
        if not by_territory:
            continue
        consolidated.append(
            _consolidate_item(
                process, item, by_territory, proposals.get(item.key, {}), names,
                territory_order, rule,
            )
        )  # fmt: skip
    return consolidated


def _consolidate_item(
    process: Process,
    item: OutlineItem,
    by_territory: Mapping[int | None, list[SessionVote]],
    proposals: Mapping[int | None, list[Proposal]],
    names: Mapping[int, str],
    territory_order: list[int | None],
    rule: OutcomeRule,
) -> ItemConsolidation:
    all_votes = [v for votes in by_territory.values() for v in votes]
    method = _main_method(all_votes)
    options = next((v.options for v in all_votes if v.method == method and v.options), [])
    labels = methods.method(method).document_labels(process) if method else None
    territories: list[TerritoryResult] = []
    counts_by_territory: dict[str, dict[str, dict[str, int]]] = {}
    for territory_id in territory_order:
        if territory_id not in by_territory:
            continue
        name = names.get(territory_id, "") if territory_id is not None else ""
        result = TerritoryResult(territory_id, name, sessions=list(by_territory[territory_id]))
        result.proposals = list(proposals.get(territory_id, []))
        counted = [v for v in result.sessions if v.poll_id is not None and v.method == method]
        result.other_method = [
            v for v in result.sessions if v.poll_id is not None and v.method != method
        ]
        if counted:
            counts = merge_grouped(*(v.counts_by_group for v in counted))
            counts_by_territory[_territory_key(territory_id)] = counts
        territories.append(result)
    overall = divergence = None
    if method is not None and counts_by_territory:
        figures = consolidate_counts(method, counts_by_territory, rule, options, labels)
        for result in territories:
            result.result = figures["territories"].get(_territory_key(result.territory_id))
        overall = figures["overall"]
        divergence = figures["divergence"]
        if divergence:
            divergence = _named_divergence(divergence, names)
    discussed = set(by_territory)
    not_discussed = [t.name for t in process.territories if t.id not in discussed]
    return ItemConsolidation(item, method, territories, overall, divergence, not_discussed)


def _territory_key(territory_id: int | None) -> str:
    return "-" if territory_id is None else str(territory_id)


def _named_divergence(divergence: dict[str, Any], names: Mapping[int, str]) -> dict[str, Any]:
    """Turn the territory keys used in the arithmetic back into territory names."""

    def name(key: str | None) -> str | None:
        if key is None:
            return None
        return "" if key == "-" else names.get(int(key), key)

    renamed = dict(divergence)
    renamed["highest"] = name(divergence["highest"])
    renamed["lowest"] = name(divergence["lowest"])
    renamed["outcomes"] = {name(k): v for k, v in divergence["outcomes"].items()}
    return renamed
