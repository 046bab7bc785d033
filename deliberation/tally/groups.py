"""Breakdown per participant group, without ever exposing a secret ballot.

Display buckets:

* every group with at least ``rule.min_group`` ballots is shown under its own name;
* groups with fewer ballots, the ballots that gave no group ("") and the real "other" group
  are merged into one "other" bucket;
* if that "other" bucket is still below ``rule.min_group`` while named groups are shown,
  the smallest named group is folded into "other" too, until "other" is big enough. Merely
  hiding a small "other" would not protect it: its figures could be recovered by subtracting
  the named groups from the overall result, which is always shown;
* with fewer than two buckets to show (one group only, "other" alone, nobody gave a group)
  there is no breakdown: it would only repeat the overall result.

Each row carries ``hidden`` ("too few to show": ballots counted, no figures) for displays;
it is true only for a bucket below ``rule.min_group``, which the rules above never show.

Divergence: for each pair of named groups shown (not "other", which mixes people), the gap
between their shares of the same item — support (consensus), yes (yes/no, of expressed
votes), good-or-better (majority judgment, per option), share of dots (dot voting, per
option). The largest gap is reported when it reaches ``rule.divergence`` points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from itertools import combinations
from typing import Any

from .rules import NO_GROUP, OTHER_GROUP, OutcomeRule, points

BucketSummary = Callable[[Mapping[str, int]], tuple[dict[str, Any], dict[str, Fraction]]]

# Figures a group row carries when it is shown (taken from the bucket's summary).
SHOWN_FIELDS = (
    "base",
    "answers",
    "outcome",
    "support_percent",
    "block_percent",
    "majority_grade",
    "ranking",
    "top",
)


def merge_counts(*buckets: Mapping[str, int]) -> dict[str, int]:
    """Sum flat counters (key → count)."""
    merged: dict[str, int] = {}
    for bucket in buckets:
        for key, value in bucket.items():
            merged[key] = merged.get(key, 0) + int(value or 0)
    return merged


def merge_grouped(*grouped: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """Sum counts per group (e.g. to consolidate the same poll across territories)."""
    merged: dict[str, dict[str, int]] = {}
    for counts_by_group in grouped:
        for group, counts in counts_by_group.items():
            key = group or NO_GROUP
            merged[key] = merge_counts(merged.get(key, {}), counts)
    return merged


def total_counts(counts_by_group: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    return merge_counts(*counts_by_group.values())


def display_buckets(
    counts_by_group: Mapping[str, Mapping[str, int]],
    ballots_of: Callable[[Mapping[str, int]], int],
    min_group: int,
) -> list[tuple[str, dict[str, int]]]:
    """The (group, counts) buckets that may be shown, named groups by name, "other" last."""
    buckets = fold_small_groups(counts_by_group, ballots_of, min_group)
    if len(buckets) < 2:
        return []  # a single bucket would only repeat the overall result
    return buckets


def fold_small_groups(
    counts_by_group: Mapping[str, Mapping[str, int]],
    ballots_of: Callable[[Mapping[str, int]], int],
    min_group: int,
) -> list[tuple[str, dict[str, int]]]:
    """Every ballot in a bucket of at least ``min_group`` ballots (or in "other"), by the
    rules above: named groups by name, "other" last. What a secret poll keeps once closed."""
    merged = merge_grouped(counts_by_group)
    names = bucket_names({group: ballots_of(counts) for group, counts in merged.items()}, min_group)
    buckets: dict[str, dict[str, int]] = {}
    for group, counts in merged.items():
        buckets[names[group]] = merge_counts(buckets.get(names[group], {}), counts)
    other = buckets.pop(OTHER_GROUP, {})
    ordered = [
        (group, buckets[group]) for group in sorted(buckets, key=lambda g: (g.casefold(), g))
    ]
    if ballots_of(other) > 0:
        ordered.append((OTHER_GROUP, other))
    return ordered


def bucket_names(ballots_by_group: Mapping[str, int], min_group: int) -> dict[str, str]:
    """group → the bucket its ballots are shown in: the group itself, or "other"."""
    named = {
        group: ballots
        for group, ballots in ballots_by_group.items()
        if group not in (NO_GROUP, OTHER_GROUP) and ballots >= min_group
    }
    other = sum(ballots for group, ballots in ballots_by_group.items() if group not in named)
    while named and 0 < other < min_group:
        smallest = min(named, key=lambda g: (named[g], g.casefold(), g))
        other += named.pop(smallest)
    return {group: group if group in named else OTHER_GROUP for group in ballots_by_group}


def breakdown(
    counts_by_group: Mapping[str, Mapping[str, int]],
    summarize_bucket: BucketSummary,
    rule: OutcomeRule,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Rows per displayable group, and the divergence signal (or None)."""

    # Merging asks for the ballots of the same bucket several times: summarise each once.
    summaries: dict[tuple[tuple[str, int], ...], tuple[dict[str, Any], dict[str, Fraction]]] = {}

    def summary_of(counts: Mapping[str, int]) -> tuple[dict[str, Any], dict[str, Fraction]]:
        key = tuple(sorted(counts.items()))
        if key not in summaries:
            summaries[key] = summarize_bucket(counts)
        return summaries[key]

    def ballots_of(counts: Mapping[str, int]) -> int:
        return summary_of(counts)[0]["ballots"]

    rows: list[dict[str, Any]] = []
    shares: dict[str, dict[str, Fraction]] = {}
    for group, counts in display_buckets(counts_by_group, ballots_of, rule.min_group):
        summary, metrics = summary_of(counts)
        hidden = summary["ballots"] < rule.min_group
        row: dict[str, Any] = {
            "group": group,
            "is_other": group == OTHER_GROUP,
            "ballots": summary["ballots"],
            "hidden": hidden,
        }
        if not hidden:
            row.update({field: summary[field] for field in SHOWN_FIELDS if field in summary})
            if group != OTHER_GROUP:
                shares[group] = metrics
        rows.append(row)
    return rows, divergence(shares, rule.divergence)


def divergence(
    shares: Mapping[str, Mapping[str, Fraction]], threshold: int
) -> dict[str, Any] | None:
    """The widest gap between two groups on one item, if it reaches ``threshold`` points."""
    widest: tuple[Fraction, str, str, str] | None = None
    for first, second in combinations(shares, 2):
        for item in shares[first]:
            if item not in shares[second]:
                continue
            high, low = (first, second)
            if shares[second][item] > shares[first][item]:
                high, low = second, first
            gap = shares[high][item] - shares[low][item]
            if widest is None or gap > widest[0]:
                widest = (gap, item, high, low)
    if widest is None or widest[0] < Fraction(threshold, 100):
        return None
    gap, item, high, low = widest
    return {
        "item": item,
        "groups": [high, low],
        "percents": [points(shares[high][item]), points(shares[low][item])],
        "gap_points": points(gap),
        "threshold": threshold,
    }
