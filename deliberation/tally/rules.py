"""The outcome rule of a process and the small arithmetic shared by every vote method.

Every comparison with a threshold is made on exact fractions, so that 7 ballots out of 10
reach a 70 % threshold exactly. Displayed percentages are truncated to one decimal (never
rounded up), so that a figure shown as 70.0 % always means the threshold is reached and a
block rate shown as 4.9 % is really below 5 %.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

BALLOTS_KEY = "#ballots"
OTHER_GROUP = "other"
NO_GROUP = ""


@dataclass(frozen=True)
class OutcomeRule:
    """Thresholds in percent of the base (see docs/vote-methods.md)."""

    validated: int = 70
    rework: int = 50
    block: int = 5
    divergence: int = 25
    min_group: int = 3

    def __post_init__(self) -> None:
        for name in ("validated", "rework", "block", "divergence"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 100:
                raise ValueError(f"{name} threshold must be a whole percentage from 0 to 100")
        if self.rework > self.validated:
            raise ValueError("the rework threshold cannot be above the validated threshold")
        if not isinstance(self.min_group, int) or self.min_group < 1:
            raise ValueError("the smallest group shown must be at least 1 ballot")

    @classmethod
    def from_process(cls, process: Any, min_group: int | None = None) -> OutcomeRule:
        """Read the thresholds of a Process (or anything with the same attribute names)."""
        defaults = cls()

        def read(attribute: str, default: int) -> int:
            value = getattr(process, attribute, None)
            return default if value is None else int(value)

        return cls(
            validated=read("threshold_validated", defaults.validated),
            rework=read("threshold_rework", defaults.rework),
            block=read("threshold_block", defaults.block),
            divergence=read("divergence_points", defaults.divergence),
            min_group=defaults.min_group if min_group is None else min_group,
        )


def share(part: int, whole: int) -> Fraction | None:
    """Exact share of ``part`` in ``whole`` (None when the base is empty)."""
    if whole <= 0:
        return None
    return Fraction(part, whole)


def percent(part: int, whole: int) -> float | None:
    """Percentage truncated to one decimal, JSON-ready (None when the base is empty)."""
    if whole <= 0:
        return None
    return (part * 1000 // whole) / 10


def points(fraction: Fraction | None) -> float | None:
    """A share (0..1) as percentage points truncated to one decimal."""
    if fraction is None:
        return None
    return (fraction.numerator * 1000 // fraction.denominator) / 10


def reaches(fraction: Fraction | None, threshold_percent: int) -> bool:
    return fraction is not None and fraction >= Fraction(threshold_percent, 100)


def count(counts: Mapping[str, int], key: str) -> int:
    """A counter value; missing counters are 0 and a negative counter (never expected from
    the incremental tally) is read as 0 rather than making a displayed share negative."""
    return max(0, int(counts.get(key, 0) or 0))


def ballots_cast(counts: Mapping[str, int], fallback: int = 0) -> int:
    """Ballots cast according to the ``#ballots`` counter, or ``fallback`` if it is absent."""
    if BALLOTS_KEY in counts:
        return count(counts, BALLOTS_KEY)
    return fallback


def label_for(key: str, labels: Mapping[str, str] | None, default: str | None = None) -> str:
    if labels and key in labels and labels[key]:
        return str(labels[key])
    return default if default else key
