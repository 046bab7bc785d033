"""Majority judgment (Balinski & Laraki) on published examples and hand-derived cases.

Grade distributions below are written from the WORST grade to the best, as the sources
print them, and reversed into the tally's best→worst order by ``best_first``. Grades are
integers 0 (worst) … 6 (best) for the 7-grade French scale (À rejeter, Insuffisant,
Passable, Assez bien, Bien, Très bien, Excellent).
"""

import random

import pytest

from deliberation.methods import summarize
from deliberation.tally import OutcomeRule
from deliberation.tally.majority_judgment import (
    GRADES,
    compare,
    majority_gauge,
    majority_grade,
    majority_grades,
    rank,
)


def best_first(worst_first: list[int]) -> list[int]:
    return list(reversed(worst_first))


def grade_score(distribution: list[int]) -> int:
    """Majority grade as 0 = worst … len-1 = best (the sources' numbering)."""
    index = majority_grade(distribution)
    assert index is not None
    return len(distribution) - 1 - index


# French Wikipedia, article "Jugement majoritaire", first example (percentages × 100, so
# 10 000 "voters"; 6 grades used, Excellent empty). Expected there: A and B both get
# "Assez bien" (3), C gets "Insuffisant" (1), and A wins the tie-break with B.
# Figures as transcribed in the test suite of an independent OCaml implementation (the
# Wikipedia page itself could not be opened from here).
WIKI_FR_A = best_first([1484, 1763, 912, 1971, 2128, 1742, 0])
WIKI_FR_B = best_first([2427, 1158, 1342, 1295, 2073, 1705, 0])
WIKI_FR_C = best_first([2500, 2500, 1500, 1500, 1000, 1000, 0])


def test_french_wikipedia_first_example() -> None:
    assert [grade_score(d) for d in (WIKI_FR_A, WIKI_FR_B, WIKI_FR_C)] == [3, 3, 1]
    assert rank({"A": WIKI_FR_A, "B": WIKI_FR_B, "C": WIKI_FR_C}) == {"A": 1, "B": 2, "C": 3}
    # Majority gauge, derived by hand: both are "Assez bien −" (more below than above);
    # A has fewer grades below (41.59 % against 49.27 %) so A is ahead.
    assert majority_gauge(WIKI_FR_A) == (3, 1742 + 2128, 1484 + 1763 + 912)
    assert majority_gauge(WIKI_FR_B) == (3, 1705 + 2073, 2427 + 1158 + 1342)


@pytest.mark.parametrize(
    ("worst_first", "expected"),
    [
        # French Wikipedia, second example (5 voters): E loses to F.
        ([0, 1, 2, 2, 0, 0, 0], (2, 2, 3, 1, 3)),
        ([0, 0, 3, 2, 0, 0, 0], (2, 2, 3, 2, 3)),
        # French Wikipedia, third example (6 voters, even: the lower median is taken).
        ([1, 0, 2, 2, 1, 0, 0], (2, 3, 2, 3, 0, 4)),
        ([0, 1, 2, 3, 0, 0, 0], (2, 3, 2, 3, 1, 3)),
    ],
)
def test_majority_value_sequences_of_french_wikipedia(worst_first, expected) -> None:
    assert tuple(majority_grades(best_first(worst_first))) == expected


def test_french_wikipedia_tie_breaks_by_iterative_removal() -> None:
    # Same majority grade and the same first removals; the sequences differ later.
    second = {"E": best_first([0, 1, 2, 2, 0, 0, 0]), "F": best_first([0, 0, 3, 2, 0, 0, 0])}
    third = {"E": best_first([1, 0, 2, 2, 1, 0, 0]), "F": best_first([0, 1, 2, 3, 0, 0, 0])}
    assert rank(second) == {"F": 1, "E": 2}
    assert rank(third) == {"F": 1, "E": 2}


# French Wikipedia, "Jugement majoritaire": the 2011 OpinionWay / Terra Nova poll of the
# 2012 presidential candidates (about 1 000 respondents, 7 grades), as transcribed in the
# same independent test suite. Published: Aubry wins, and the majority grades below.
POLL_2011 = {
    "aubry": [184, 114, 196, 126, 170, 129, 82],
    "borloo": [185, 159, 196, 223, 153, 62, 22],
    "villepin": [219, 174, 207, 204, 119, 58, 20],
    "bayrou": [193, 166, 261, 192, 128, 47, 12],
    "joly": [309, 190, 203, 145, 74, 47, 32],
    "sarkozy": [413, 118, 135, 95, 111, 87, 41],
    "chevenement": [322, 247, 228, 129, 58, 11, 5],
    "melenchon": [418, 214, 165, 112, 50, 27, 13],
    "besancenot": [442, 204, 161, 99, 69, 17, 8],
    "dupont_aignan": [467, 277, 139, 70, 27, 14, 5],
    "arthaud": [480, 261, 137, 77, 34, 9, 1],
    "le_pen": [556, 93, 78, 72, 70, 65, 68],
}
POLL_2011_GRADES = {
    "aubry": 3,
    "borloo": 2,
    "villepin": 2,
    "bayrou": 2,
    "joly": 2,
    "sarkozy": 1,
    "chevenement": 1,
    "melenchon": 1,
    "besancenot": 1,
    "dupont_aignan": 1,
    "arthaud": 1,
    "le_pen": 0,
}


def test_2011_poll_majority_grades_and_winner() -> None:
    distributions = {name: best_first(row) for name, row in POLL_2011.items()}
    assert {name: grade_score(d) for name, d in distributions.items()} == POLL_2011_GRADES
    ranks = rank(distributions)
    assert [name for name, r in ranks.items() if r == 1] == ["aubry"]
    # Within "Passable" (2), order derived by hand from the majority gauge: three "+"
    # ranked by their share above (46.0 %, 40.1 %, 37.9 %), then Joly "−".
    order = sorted(distributions, key=ranks.get)
    assert order[1:5] == ["borloo", "villepin", "bayrou", "joly"]
    assert order[-1] == "le_pen"


# English Wikipedia / electowiki, "Majority judgment", Tennessee capital example with four
# grades (Excellent, Good, Fair, Poor), each voter giving the four grades to the four
# cities in order of preference; voters: 42 % Memphis, 26 % Nashville, 15 % Chattanooga,
# 17 % Knoxville. Published: Nashville and Chattanooga both "Good", Nashville wins.
TENNESSEE = {
    "memphis": [42, 0, 0, 58],
    "nashville": [26, 42, 32, 0],
    "chattanooga": [15, 43, 42, 0],
    "knoxville": [17, 15, 26, 42],
}


def test_tennessee_example() -> None:
    assert {city: majority_grade(d) for city, d in TENNESSEE.items()} == {
        "memphis": 3,  # Poor
        "nashville": 1,  # Good
        "chattanooga": 1,  # Good
        "knoxville": 2,  # Fair
    }
    assert rank(TENNESSEE) == {"nashville": 1, "chattanooga": 2, "knoxville": 3, "memphis": 4}


def test_lower_median_when_even() -> None:
    # Two voters: one "excellent", one "reject": the lower middle grade is "reject".
    assert majority_grade([1, 0, 0, 0, 0, 1]) == GRADES.index("reject")
    # Four voters: very_good, very_good, fair, fair → "fair".
    assert majority_grade([0, 2, 0, 2, 0, 0]) == GRADES.index("fair")
    assert majority_grade([0] * 6) is None
    assert tuple(majority_grades([0] * 6)) == ()


def mj_counts(group: str = "", ballots: int | None = None, **grades: dict) -> dict:
    counts: dict[str, int] = {}
    for option, by_grade in grades.items():
        for grade, n in by_grade.items():
            counts[f"{option}:{grade}"] = n
    total = max(sum(g.values()) for g in grades.values())
    counts["#ballots"] = total if ballots is None else ballots
    return {group: counts}


def test_single_item_outcomes() -> None:
    def outcome(**by_grade: int) -> str:
        result = summarize("majority_judgment", mj_counts(item=by_grade), OutcomeRule())
        return result["outcome"]

    assert outcome(excellent=1, very_good=1, good=1, fair=1, poor=1) == "validated"  # good
    assert outcome(good=2, fair=3) == "rework"
    assert outcome(excellent=2, poor=3) == "rework"
    assert outcome(very_good=2, reject=3) == "rejected"
    assert summarize("majority_judgment", {}, OutcomeRule())["outcome"] == "no_votes"
    one = [{"key": "item", "label": "Item"}]
    empty = summarize("majority_judgment", {}, OutcomeRule(), options=one)
    assert empty["outcome"] == "no_votes" and empty["ranking"] == []
    assert empty["answers"][0]["majority_grade"] is None


def test_summary_of_several_options() -> None:
    options = [{"key": "a", "label": "Path A"}, {"key": "b", "label": "Path B"}]
    counts = mj_counts(
        a={"good": 3, "fair": 2},  # good, p = 0 < q = 2 → good −
        b={"very_good": 2, "good": 2, "poor": 1},  # good, p = 2 > q = 1 → good +
    )
    result = summarize("majority_judgment", counts, OutcomeRule(), options=options)
    assert result["ballots"] == 5
    assert result["outcome"] is None  # several options: a ranking, not a verdict
    assert [(r["key"], r["rank"], r["sign"]) for r in result["ranking"]] == [
        ("b", 1, "+"),
        ("a", 2, "-"),
    ]
    assert result["majority_grade"] == "good"
    a = result["answers"][0]
    assert a["label"] == "Path A" and a["majority_grade"] == "good"
    assert a["better_percent"] == 0.0 and a["worse_percent"] == 40.0
    assert a["support_percent"] == 60.0  # good or better
    assert [g["count"] for g in a["grades"]] == [0, 0, 3, 2, 0, 0]
    assert a["outcome"] == "validated"


def test_identical_distributions_tie() -> None:
    counts = mj_counts(a={"good": 2, "poor": 1}, b={"good": 2, "poor": 1})
    result = summarize("majority_judgment", counts, OutcomeRule())
    assert [(r["key"], r["rank"], r["tied"]) for r in result["ranking"]] == [
        ("a", 1, True),
        ("b", 1, True),
    ]


def test_an_option_left_ungraded_counts_as_reject() -> None:
    # 4 ballots; option b graded by only 2 of them ("excellent").
    counts = {"": {"#ballots": 4, "a:good": 4, "b:excellent": 2}}
    result = summarize("majority_judgment", counts, OutcomeRule())
    b = next(a for a in result["answers"] if a["key"] == "b")
    assert b["count"] == 2 and b["not_graded"] == 2
    assert b["majority_grade"] == "reject"  # lower median of E, E, R, R
    assert result["ranking"][0]["key"] == "a"


def test_property_lazy_comparison_agrees_with_the_full_majority_value() -> None:
    rng = random.Random(2011)
    for _ in range(2000):
        size = rng.choice([4, 6, 7])
        first = [rng.randint(0, 5) for _ in range(size)]
        second = [rng.randint(0, 5) for _ in range(size)]
        full_first, full_second = tuple(majority_grades(first)), tuple(majority_grades(second))
        expected = (full_first > full_second) - (full_first < full_second)
        assert compare(first, second) == expected == -compare(second, first)
        # The majority value is a reordering of all the grades: a tie means same grades.
        assert (expected == 0) == (first == second)
        assert sorted(full_first) == sorted(
            len(first) - 1 - grade for grade, n in enumerate(first) for _ in range(n)
        )
