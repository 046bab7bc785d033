"""Pure vote tallies: outcome rules, majority judgment, dot votes, group breakdown.

One entry point, :func:`summarize`, used by the voting service, the projector and the
documents. Inputs are the incremental counters kept in the database (``PollCount``) grouped
by participant group; the output is a JSON-ready dict. No Flask, no database here. The
rules are described for organisers in ``docs/vote-methods.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import partial
from typing import Any

from . import consensus, dots, majority_judgment, yes_no
from .groups import breakdown, merge_counts, merge_grouped, total_counts
from .rules import OutcomeRule

METHODS = ("consensus", "yes_no", "majority_judgment", "dot")

__all__ = [
    "METHODS",
    "OutcomeRule",
    "merge_counts",
    "merge_grouped",
    "summarize",
    "summarize_bucket",
    "total_counts",
]


def summarize_bucket(
    method: str,
    counts: Mapping[str, int],
    rule: OutcomeRule,
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Fraction]]:
    """Summary of one flat set of counters, and the shares used to compare groups."""
    if method == "consensus":
        return consensus.summarize_counts(counts, rule, labels)
    if method == "yes_no":
        return yes_no.summarize_counts(counts, rule, labels)
    if method == "majority_judgment":
        return majority_judgment.summarize_counts(counts, options, labels)
    if method == "dot":
        return dots.summarize_counts(counts, options, labels)
    raise ValueError(f"unknown vote method: {method!r}")


def summarize(
    method: str,
    counts_by_group: Mapping[str, Mapping[str, int]],
    rule: OutcomeRule | None = None,
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The result of a poll, overall and per group, as a JSON-ready dict.

    ``counts_by_group`` maps a participant group ("" when none was given) to its counters
    (``#ballots`` and the method's keys). ``options`` lists ``{"key", "label"}`` for
    majority judgment and dot voting; ``labels`` maps answer keys to display labels (labels
    are the caller's business: this module works on keys).
    """
    rule = rule or OutcomeRule()
    bucket = partial(summarize_bucket, method, rule=rule, options=options, labels=labels)
    overall, _ = bucket(total_counts(counts_by_group))
    groups, divergence = breakdown(counts_by_group, bucket, rule)
    return {
        "method": method,
        "ballots": overall["ballots"],
        "base": overall["base"],
        "base_note": overall["base_note"],
        "answers": overall["answers"],
        "outcome": overall["outcome"],
        "support_percent": overall.get("support_percent"),
        "block_percent": overall.get("block_percent"),
        "majority_grade": overall.get("majority_grade"),
        "ranking": overall.get("ranking"),
        "top": overall.get("top"),
        "rule": {
            "validated": rule.validated,
            "rework": rule.rework,
            "block": rule.block,
            "divergence": rule.divergence,
            "min_group": rule.min_group,
        },
        "groups": groups,
        "divergence": divergence,
    }
