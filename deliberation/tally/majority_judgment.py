"""Majority judgment (Balinski & Laraki, *Majority Judgment*, MIT Press, 2011).

Each participant gives every option one grade on a common scale, from best to worst:
excellent, very_good, good, fair, poor, reject (Excellent, Très bien, Bien, Assez bien,
Passable, À rejeter).

* Majority grade: the median grade; with an even number of grades, the LOWER of the two
  middle grades. It is the best grade that a majority (more than half) of the participants
  give "at least", and the worst grade a majority give "at most".
* Ranking: by the majority value (Balinski & Laraki): the sequence of majority grades
  obtained by repeatedly removing one copy of the majority grade from the option's grades.
  Options are ordered by comparing these sequences lexicographically. Two options tie only
  when their grade distributions are identical (same counts); ties are kept as ties.
* Majority gauge (for display): p = share of grades strictly better than the majority
  grade, q = share strictly worse. The majority grade is shown "+" when p > q and "−" when
  q > p. Among options with the same majority grade, a "+" comes before a "−"; among "+",
  the larger p first; among "−", the smaller q first — this agrees with the majority value.
* A participant who did not grade an option counts as "reject" for it, as Balinski & Laraki
  did in the 2007 Orsay experiment, so that every option is judged by the same number of
  participants.
* Outcome of a graded option: validated when its majority grade is "good" or better,
  rework for "fair" or "poor", rejected for "reject".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from itertools import zip_longest
from typing import Any

from .rules import BALLOTS_KEY, ballots_cast, count, label_for, percent, points, share

GRADES = ("excellent", "very_good", "good", "fair", "poor", "reject")
VALIDATED_FROM = "good"
REJECTED_AT = "reject"


def majority_grade(distribution: Sequence[int]) -> int | None:
    """Index (0 = best) of the lower-median grade of ``distribution`` (counts best→worst)."""
    total = sum(distribution)
    if total <= 0:
        return None
    position = (total + 1) // 2  # lower median, counted from the worst grade
    seen = 0
    for index in range(len(distribution) - 1, -1, -1):
        seen += distribution[index]
        if seen >= position:
            return index
    raise AssertionError("unreachable: the counts add up to the total")


def majority_gauge(distribution: Sequence[int]) -> tuple[int | None, int, int]:
    """(majority grade index, p = grades strictly better, q = grades strictly worse)."""
    grade = majority_grade(distribution)
    if grade is None:
        return None, 0, 0
    return grade, sum(distribution[:grade]), sum(distribution[grade + 1 :])


def majority_grades(distribution: Sequence[int]) -> Iterator[int]:
    """The Balinski–Laraki majority value, lazily, as scores (higher is better).

    The sequence of majority grades obtained by removing, one at a time, a copy of the
    current majority grade. Comparing two options' sequences lexicographically gives the
    majority ranking; they usually differ after a few grades, hence the lazy generator.
    """
    remaining = list(distribution)
    worst = len(remaining) - 1
    while True:
        grade = majority_grade(remaining)
        if grade is None:
            return
        yield worst - grade
        remaining[grade] -= 1


def compare(first: Sequence[int], second: Sequence[int]) -> int:
    """1 if ``first`` is ranked above ``second`` by majority value, -1 if below, 0 if tied."""
    if list(first) == list(second):
        return 0
    for a, b in zip_longest(majority_grades(first), majority_grades(second)):
        if a is None or b is None:  # only when the numbers of grades differ
            return -1 if a is None else 1
        if a != b:
            return 1 if a > b else -1
    return 0


def rank(distributions: Mapping[str, Sequence[int]]) -> dict[str, int]:
    """Competition rank (1 = best, ties share a rank) of each option by majority value."""
    keys = list(distributions)
    better = dict.fromkeys(keys, 0)
    for i, first in enumerate(keys):
        for second in keys[i + 1 :]:
            outcome = compare(distributions[first], distributions[second])
            if outcome > 0:
                better[second] += 1
            elif outcome < 0:
                better[first] += 1
    return {key: 1 + better[key] for key in keys}


def option_keys(counts: Mapping[str, int], options: Sequence[Mapping[str, Any]]) -> list[str]:
    keys = [str(option["key"]) for option in options]
    for counter in sorted(counts):
        option, _, grade = counter.rpartition(":")
        if counter != BALLOTS_KEY and option and grade in GRADES and option not in keys:
            keys.append(option)
    return keys


def outcome(grade_index: int | None) -> str:
    if grade_index is None:
        return "no_votes"
    if grade_index <= GRADES.index(VALIDATED_FROM):
        return "validated"
    if grade_index >= GRADES.index(REJECTED_AT):
        return "rejected"
    return "rework"


def summarize_counts(
    counts: Mapping[str, int],
    options: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Fraction]]:
    keys = option_keys(counts, options)
    option_labels = {str(o["key"]): str(o.get("label") or "") for o in options}
    graded = {key: [count(counts, f"{key}:{grade}") for grade in GRADES] for key in keys}
    ballots = ballots_cast(counts, fallback=max((sum(d) for d in graded.values()), default=0))
    distributions: dict[str, list[int]] = {}
    for key, distribution in graded.items():
        judged = list(distribution)
        judged[-1] += max(0, ballots - sum(distribution))  # not graded counts as reject
        distributions[key] = judged
    ranks = rank(distributions)
    answers: list[dict[str, Any]] = []
    metrics: dict[str, Fraction] = {}
    good_or_better = GRADES.index(VALIDATED_FROM) + 1
    for key in keys:
        distribution = distributions[key]
        judges = sum(distribution)
        grade, better, worse = majority_gauge(distribution)
        supporters = sum(distribution[:good_or_better])
        support = share(supporters, judges)
        if support is not None:
            metrics[key] = support
        answers.append(
            {
                "key": key,
                "label": label_for(key, labels, option_labels.get(key)),
                "count": sum(graded[key]),
                "percent": points(support),
                "not_graded": judges - sum(graded[key]),
                "grades": [
                    {"grade": g, "count": c, "percent": percent(c, judges)}
                    for g, c in zip(GRADES, distribution, strict=True)
                ],
                "majority_grade": None if grade is None else GRADES[grade],
                "sign": None
                if grade is None
                else ("+" if better > worse else "-" if worse > better else ""),
                "better_percent": percent(better, judges),
                "worse_percent": percent(worse, judges),
                "support_percent": points(support),
                "rank": ranks[key] if judges else None,
                "outcome": outcome(grade),
            }
        )
    ranking = [
        {
            "key": a["key"],
            "rank": a["rank"],
            "majority_grade": a["majority_grade"],
            "sign": a["sign"],
            "tied": [b["rank"] for b in answers].count(a["rank"]) > 1,
        }
        for a in sorted(answers, key=lambda a: (a["rank"] or 0, keys.index(a["key"])))
        if a["rank"] is not None
    ]
    single = answers[0] if len(answers) == 1 else None
    summary = {
        "ballots": ballots,
        "base": ballots,
        "base_note": "ballots_cast",
        "answers": answers,
        "outcome": "no_votes" if ballots == 0 else (single["outcome"] if single else None),
        "support_percent": single["support_percent"] if single else None,
        "block_percent": None,
        "majority_grade": ranking[0]["majority_grade"] if ranking else None,
        "ranking": ranking,
    }
    return summary, metrics
