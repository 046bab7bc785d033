"""The vote methods, in one table (the way Loomio keeps its poll types).

Every layer asks this table about a method instead of testing its name: the models (the
``poll_method_known`` constraint), the voting service (choice checks, counters, labels), the
consolidation and the documents (verdict or ranking, labels in the process language), the
live pages (the phone's form, the projector's chart) and the console (options, dots).
Adding a method: docs/vote-methods.md, "Adding a method".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..tally import OutcomeRule
from ..tally import summarize as tally_summarize
from .base import VoteMethod
from .consensus import CONSENSUS
from .dot import DOT
from .majority_judgment import MAJORITY_JUDGMENT
from .ranking import RANKING
from .yes_no import YES_NO

# In the order the console offers them; the first is the default.
METHODS: tuple[VoteMethod, ...] = (CONSENSUS, YES_NO, MAJORITY_JUDGMENT, DOT, RANKING)
BY_KEY: dict[str, VoteMethod] = {method.key: method for method in METHODS}
METHOD_KEYS: tuple[str, ...] = tuple(BY_KEY)
DEFAULT_METHOD: str = METHODS[0].key
# What the console suggests for an item that offers several options (action paths), unless
# the process chose another of the methods that prioritise options (organiser settings).
OPTIONS_METHOD: str = DOT.key
PRIORITY_METHODS: tuple[str, ...] = tuple(
    m.key for m in METHODS if m.uses_options and not m.verdict
)
# Methods whose result is a verdict on the item (the others rank options).
VERDICT_METHODS: tuple[str, ...] = tuple(m.key for m in METHODS if m.verdict)


class UnknownMethod(ValueError):
    """No method has this key (a caller's mistake: inputs are checked with :func:`known`)."""


def method(key: str) -> VoteMethod:
    """The method of that key; :class:`UnknownMethod` for an unknown one."""
    try:
        return BY_KEY[key]
    except (KeyError, TypeError):
        raise UnknownMethod(f"unknown vote method: {key!r}") from None


def known(key: Any) -> bool:
    return isinstance(key, str) and key in BY_KEY


def check_constraint() -> str:
    """The SQL of the ``poll_method_known`` constraint (the initial migration repeats it)."""
    return "method IN (" + ", ".join(f"'{key}'" for key in METHOD_KEYS) + ")"


def summarize(
    key: str,
    counts_by_group: Mapping[str, Mapping[str, int]],
    rule: OutcomeRule | None = None,
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The result of a poll, overall and per group: :func:`deliberation.tally.summarize`
    with the method's own tally of a bucket of counters, and the verdict of the whole and of
    each group shown (:func:`explain`)."""
    rule = rule or OutcomeRule()
    result = tally_summarize(
        key, method(key).summarize_counts, counts_by_group, rule, options=options, labels=labels
    )
    result["verdict"] = explain(key, result, rule)
    for row in result["groups"]:
        if not row.get("hidden"):
            row["verdict"] = explain(key, row, rule)
    return result


def explain(key: str, summary: Mapping[str, Any], rule: OutcomeRule) -> dict[str, Any] | None:
    """THE verdict of a summary by its method's rule (:mod:`.verdict`); None for a method
    that ranks, or a majority judgment of several options (each option has its own)."""
    explained = method(key).explain
    return explained(summary, rule) if explained is not None else None


def summarize_bucket(
    key: str,
    counts: Mapping[str, int],
    rule: OutcomeRule,
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict]:
    """One flat set of counters: the summary, and the shares used to compare groups."""
    return method(key).summarize_counts(counts, rule, options, labels)


def order_of(key: str | None) -> int:
    """Position of a method in the table (unknown keys last): for stable choices."""
    return METHOD_KEYS.index(key) if key in BY_KEY else len(METHOD_KEYS)
