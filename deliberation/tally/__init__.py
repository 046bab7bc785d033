"""Pure vote tallies: outcome rules, majority judgment, dot votes, group breakdown.

One entry point, :func:`summarize`, reached through :func:`deliberation.methods.summarize`
(which knows each method's bucket tally) by the voting service, the projector and the
documents. Inputs are the incremental counters kept in the database (``PollCount``) grouped
by participant group; the output is a JSON-ready dict. No Flask, no database here. The
rules are described for organisers in ``docs/vote-methods.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from functools import partial
from typing import Any

from .groups import breakdown, merge_counts, merge_grouped, total_counts
from .rules import OutcomeRule

# One flat bucket of counters → (summary, shares compared between groups). Each vote method
# has one (deliberation.methods points at the modules of this package).
BucketTally = Callable[..., tuple[dict[str, Any], dict[str, Fraction]]]

__all__ = [
    "BucketTally",
    "OutcomeRule",
    "merge_counts",
    "merge_grouped",
    "summarize",
    "total_counts",
]


def summarize(
    method: str,
    summarize_bucket: BucketTally,
    counts_by_group: Mapping[str, Mapping[str, int]],
    rule: OutcomeRule | None = None,
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The result of a poll, overall and per group, as a JSON-ready dict.

    ``summarize_bucket`` is the method's tally of one bucket of counters (called as
    ``summarize_bucket(counts, rule, options, labels)``); ``method`` is its key, echoed in
    the result. Callers use :func:`deliberation.methods.summarize`, which passes both.

    ``counts_by_group`` maps a participant group ("" when none was given) to its counters
    (``#ballots`` and the method's keys). ``options`` lists ``{"key", "label"}`` for
    majority judgment and dot voting; ``labels`` maps answer keys to display labels (labels
    are the caller's business: this module works on keys).
    """
    rule = rule or OutcomeRule()
    bucket = partial(summarize_bucket, rule=rule, options=options, labels=labels)
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
