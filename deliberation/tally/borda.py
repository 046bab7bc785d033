"""Ranking by the Borda count (Jean-Charles de Borda, *Mémoire sur les élections au
scrutin*, 1781; the rule as the English Wikipedia article "Borda count" states it).

Each participant orders all the options. With n options, the option a participant puts
first gets n − 1 points, the second n − 2, … the last 0. An option's score is the sum of its
points over all ballots; the options are ranked by score.

* Counters: one per option, holding its points (and ``#ballots``). A ballot adds its points
  and a change of vote takes them out again, so the counters are never recounted.
* Base: the points given; each option shows its points and its share of them. Every ballot
  gives n(n − 1)/2 points, so shares compare the same way as scores.
* Ties: equal scores share the same rank, shown as a tie ("1, 2, 2, 4"), and keep the order
  of the poll's options between them. No option is declared first by chance, and no
  secondary rule breaks a tie: the room sees it and decides.
* No outcome: a ranking orders priorities; it does not validate or reject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from .dots import summarize_scores


def points(ranking: Sequence[str]) -> dict[str, int]:
    """The points one ballot gives: n − 1 to the first option of ``ranking`` … 0 to the last."""
    last = len(ranking) - 1
    return {key: last - position for position, key in enumerate(ranking)}


def summarize_counts(
    counts: Mapping[str, int],
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Fraction]]:
    # Scores are points here; the summary is the one of every scored method (dots.py).
    return summarize_scores(counts, options, labels, base_note="borda_points")
