"""Yes / no / abstain.

Base: yes + no (the votes expressed). Abstentions are reported, with their share of the
ballots cast, but are not in the base: abstaining neither helps nor hinders a proposal.
Outcome with the process thresholds applied to the yes share: validated from
``rule.validated`` %, rework from ``rule.rework`` %, rejected below; no_votes when nobody
answered yes or no (no ballot, or abstentions only). There is no block in this method.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from . import consensus
from .rules import OutcomeRule, ballots_cast, count, label_for, percent, points, share

OPTIONS = ("yes", "no", "abstain")


def outcome(yes_share: Fraction | None, rule: OutcomeRule) -> str:
    """The consensus thresholds applied to the yes share; yes/no has no blocks."""
    return consensus.outcome(yes_share, None, rule)


def summarize_counts(
    counts: Mapping[str, int], rule: OutcomeRule, labels: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Fraction]]:
    answer_counts = {key: count(counts, key) for key in OPTIONS}
    ballots = ballots_cast(counts, fallback=sum(answer_counts.values()))
    expressed = answer_counts["yes"] + answer_counts["no"]
    yes_share = share(answer_counts["yes"], expressed)
    answers = [
        {
            "key": key,
            "label": label_for(key, labels),
            "count": answer_counts[key],
            "percent": percent(answer_counts[key], expressed),
            "base": "expressed",
        }
        for key in ("yes", "no")
    ]
    answers.append(
        {
            "key": "abstain",
            "label": label_for("abstain", labels),
            "count": answer_counts["abstain"],
            "percent": percent(answer_counts["abstain"], ballots),
            "base": "ballots_cast",
        }
    )
    summary = {
        "ballots": ballots,
        "base": expressed,
        "base_note": "expressed",
        "answers": answers,
        "outcome": outcome(yes_share, rule),
        "support_count": answer_counts["yes"],
        "support_percent": points(yes_share),
        "block_percent": None,
    }
    metrics = {} if yes_share is None else {"yes": yes_share}
    return summary, metrics
