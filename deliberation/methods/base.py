"""What a vote method is: the one object every layer asks about a method.

A :class:`VoteMethod` holds everything that differs from one method to another — its key, how
a choice is checked and which counters it moves, which pure tally summarises the counters,
whether its result is a verdict on the item, its labels, how the phone asks for a choice, how
the projector and console draw the result, and how the documents describe it. The rest of
the code never tests a method's name: it asks the method (``registry.method(key)``).

This package sits beside :mod:`deliberation.tally` (which it points at) and below the
models and services: it imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..tally import OutcomeRule

# (counts of one bucket, rule, options, labels) → (summary, shares compared between groups)
BucketTally = Callable[
    [Mapping[str, int], OutcomeRule, Sequence[Mapping[str, Any]], Mapping[str, str] | None],
    tuple[dict[str, Any], dict[str, Fraction]],
]


def by_rule(summarize: Callable[..., Any]) -> BucketTally:
    """A tally of fixed answers, judged by the process's rule: ``summarize(counts, rule,
    labels)`` (consensus, yes/no)."""
    return lambda counts, rule, options, labels: summarize(counts, rule, labels)


def by_options(summarize: Callable[..., Any]) -> BucketTally:
    """A tally of the poll's own options, with no rule to judge by: ``summarize(counts,
    options, labels)`` (dots, ranking, majority judgment)."""
    return lambda counts, rule, options, labels: summarize(counts, options, labels)


# (choice sent by a phone, the poll's option keys, the poll's dots) → (cleaned, counters)
ChoiceCheck = Callable[[Any, Sequence[str], int], tuple[dict[str, Any], dict[str, int]]]
# (cleaned choice, option key → label, answer or grade key → label) → the choice in words
ChoiceWords = Callable[[Mapping[str, Any], Mapping[str, str], Mapping[str, str]], str]


class InvalidChoice(ValueError):
    """A choice the method refuses; the voting service answers it with ``invalid_choice``."""


@dataclass(frozen=True)
class Display:
    """How the projector, the console and the phone draw a result (sent to the scripts as
    data: ``results_strings()["displays"]``).

    ``chart``: ``"bars"`` (one bar per answer or option) or ``"grades"`` (a stacked bar of
    grades per option). ``ranked``: bars in ranking order with their rank. ``group_cell``:
    what a group's row shows — ``"bars"`` (its answer bars), ``"top"`` (its first option(s))
    or ``"leader"`` (its first option and majority grade). ``support_column``: the group table
    has a support column. ``per_option``: a divergence is about one option (named with it).
    ``colours``: answer key → colour of its part in a group's bar.

    On the projector (a slide, ``static/js/slide-charts.js``) each method is drawn as its
    practitioners draw it: ``slide`` is ``"scale"`` (one stacked bar of the answers, the
    answers outside the base drawn apart), ``"profile"`` (a merit profile per option: grades
    stacked from best to worst, the median line, the majority grade in words) or ``"bars"``
    (one bar per option, in ranking order when ``ranked``). ``marks``: the rule's thresholds
    marked on the scale, as (rule key, side it is measured from: ``"start"`` or ``"end"``) —
    support reaches the validation threshold from the left, blocks the block threshold from
    the right.
    """

    chart: str = "bars"
    ranked: bool = False
    group_cell: str = "bars"
    support_column: bool = False
    per_option: bool = False
    colours: Mapping[str, str] = field(default_factory=dict)
    slide: str = "bars"
    marks: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "chart": self.chart,
            "ranked": self.ranked,
            "group_cell": self.group_cell,
            "support_column": self.support_column,
            "per_option": self.per_option,
            "colours": dict(self.colours),
            "slide": self.slide,
            "marks": [list(mark) for mark in self.marks],
        }


@dataclass(frozen=True)
class DocumentText:
    """How the documents (Synthèse, Actes) name and explain a method, in one language.

    ``rule`` is formatted with the process thresholds (``{validated}``, ``{rework}``,
    ``{block}``, ``{min_group}``, ``{divergence}``); ``count`` heads the count column of the
    Actes' result table.
    """

    title: str
    rule: str
    count: str


@dataclass(frozen=True)
class VoteMethod:
    """One vote method. Registered once in :mod:`deliberation.methods.registry`."""

    key: str
    # Console, projector, consolidation: in the reader's locale (lazy strings).
    label: Any
    # Phone: the legend above the ballot (lazy string) and the form the phone builds.
    legend: Any
    phone_form: str
    summarize_counts: BucketTally
    clean_choice: ChoiceCheck
    choice_words: ChoiceWords
    documents: Mapping[str, DocumentText]
    display: Display = field(default_factory=Display)
    # Fixed answers (consensus, yes/no) and grades (majority judgment), keys in order.
    answer_keys: tuple[str, ...] = ()
    grade_keys: tuple[str, ...] = ()
    # Labels of the answers or grades: (process) → key → label, in the reader's locale and in
    # the process language (documents).
    answer_labels: Callable[[Any], dict[str, str]] = lambda process: {}
    document_labels: Callable[[Any], dict[str, str] | None] = lambda process: None
    # The base notes of the summary this method makes → their line on the live screens.
    base_notes: Mapping[str, Any] = field(default_factory=dict)
    # Easy-to-read mode (docs/phones.md): answer key → the pictogram drawn beside its words on
    # the phone (a name of templates/live/_pictograms.html); an answer without one has none.
    pictograms: Mapping[str, str] = field(default_factory=dict)
    # Strings the phone's ballot form and the live results renderer need for this method
    # (lazy strings, merged into the strings each page sends its script).
    phone_strings: Mapping[str, Any] = field(default_factory=dict)
    result_strings: Mapping[str, Any] = field(default_factory=dict)
    # The result is a verdict on the item (validated / to rework / rejected); else it ranks.
    verdict: bool = False
    # Why a summary has its outcome, by this method's rule (deliberation.methods.verdict);
    # None for a method that ranks.
    explain: Callable[[Mapping[str, Any], OutcomeRule], dict[str, Any] | None] | None = None
    # The exact share the consolidation compares across territories (a metric key), if any.
    share_metric: str | None = None
    # Options: whether the poll has them, how many at least, and whether the item itself
    # stands for the single option when it offers none (majority judgment of one text).
    uses_options: bool = False
    min_options: int = 0
    item_as_option: bool = False
    # Dot voting: each participant has ``poll.dots`` dots to give.
    uses_dots: bool = False
    # The consolidation charts the method's result over territories, heads the column of its
    # share (lazy string; None: "Result") and states its rule over territories (a lazy
    # string formatted with %(v)d, %(b)d, %(r)d: the validated, block and rework thresholds).
    charted: bool = False
    share_header: Any = None
    consolidation_rule: Any = ""

    def document_text(self, language: str) -> DocumentText:
        return self.documents.get(language) or self.documents["en"]
