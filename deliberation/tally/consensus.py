"""Consensus scale: fully agree / agree with reservations / mixed / disagree / block.

Base: ballots cast. Support = fully agree + agree with reservations.
Outcome: validated when support reaches ``rule.validated`` % AND blocks stay strictly under
``rule.block`` %; rework when support reaches ``rule.rework`` % (this includes a text that
reached the validated threshold but met too many blocks: the objections must be heard and the
text reworked, it is neither adopted over a block nor thrown away); rejected below;
no_votes when no ballot was cast.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .rules import OutcomeRule, ballots_cast, count, label_for, percent, points, reaches, share

OPTIONS = ("full", "reservations", "mixed", "disagree", "block")
SUPPORT = ("full", "reservations")
BLOCK = "block"


def outcome(support: Fraction | None, blocks: Fraction | None, rule: OutcomeRule) -> str:
    if support is None:
        return "no_votes"
    blocks_ok = blocks is None or blocks < Fraction(rule.block, 100)
    if reaches(support, rule.validated) and blocks_ok:
        return "validated"
    if reaches(support, rule.rework):
        return "rework"
    return "rejected"


def summarize_counts(
    counts: Mapping[str, int], rule: OutcomeRule, labels: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Fraction]]:
    """The public summary of one bucket of counts, and the shares used for divergence."""
    answer_counts = {key: count(counts, key) for key in OPTIONS}
    ballots = ballots_cast(counts, fallback=sum(answer_counts.values()))
    supporters = sum(answer_counts[key] for key in SUPPORT)
    support = share(supporters, ballots)
    blocks = share(answer_counts[BLOCK], ballots)
    summary = {
        "ballots": ballots,
        "base": ballots,
        "base_note": "ballots_cast",
        "answers": [
            {
                "key": key,
                "label": label_for(key, labels),
                "count": answer_counts[key],
                "percent": percent(answer_counts[key], ballots),
            }
            for key in OPTIONS
        ],
        "outcome": outcome(support, blocks, rule),
        "support_count": supporters,
        "support_percent": points(support),
        "block_percent": points(blocks),
    }
    metrics = {} if support is None else {"support": support}
    return summary, metrics
