"""Dot voting: each participant spreads k dots over action paths, to prioritise them.

Totals per option, share of all dots given (the base), and a ranking where equal totals
share the same rank ("1, 2, 2, 4"). There is no outcome: dot voting orders, it does not
validate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from .rules import BALLOTS_KEY, ballots_cast, count, label_for, percent, share


def option_keys(counts: Mapping[str, int], options: Sequence[Mapping[str, Any]]) -> list[str]:
    """The poll's options in their order, then any counted key the options do not list."""
    keys = [str(option["key"]) for option in options]
    extra = sorted(k for k in counts if k != BALLOTS_KEY and ":" not in k and k not in keys)
    return keys + extra


def competition_ranks(values: Sequence[Any]) -> list[int]:
    """Rank of each value (higher is better) where ties share a rank: 10, 7, 7, 3 → 1, 2, 2, 4."""
    return [1 + sum(1 for other in values if other > value) for value in values]


def summarize_scores(
    counts: Mapping[str, int],
    options: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str] | None,
    base_note: str,
) -> tuple[dict[str, Any], dict[str, Fraction]]:
    """Options ranked by a score kept in their counters (dots given, Borda points…): each
    option's score and share of all points given, ranks where equal scores tie."""
    keys = option_keys(counts, options)
    option_labels = {str(o["key"]): str(o.get("label") or "") for o in options}
    totals = {key: count(counts, key) for key in keys}
    dots_given = sum(totals.values())
    ballots = ballots_cast(counts)
    answers = [
        {
            "key": key,
            "label": label_for(key, labels, option_labels.get(key)),
            "count": totals[key],
            "percent": percent(totals[key], dots_given),
        }
        for key in keys
    ]
    ranks = competition_ranks([totals[key] for key in keys])
    ranking = sorted(
        (
            {"key": key, "rank": rank, "count": totals[key], "tied": ranks.count(rank) > 1}
            for key, rank in zip(keys, ranks, strict=True)
        ),
        key=lambda entry: (entry["rank"], keys.index(entry["key"])),
    )
    top = [entry["key"] for entry in ranking if entry["rank"] == 1 and entry["count"] > 0]
    summary = {
        "ballots": ballots,
        "base": dots_given,
        "base_note": base_note,
        "answers": answers,
        "outcome": None,
        "support_percent": None,
        "block_percent": None,
        "ranking": ranking,
        "top": top,
    }
    metrics = {}
    for key in keys:
        key_share = share(totals[key], dots_given)
        if key_share is not None:
            metrics[key] = key_share
    return summary, metrics


def summarize_counts(
    counts: Mapping[str, int],
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Fraction]]:
    return summarize_scores(counts, options, labels, base_note="dots_given")
