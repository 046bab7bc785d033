"""Ranking by the Borda count, on published worked examples (sources cited with each)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from deliberation import methods
from deliberation.methods import InvalidChoice
from deliberation.tally import OutcomeRule, borda

RANKING = methods.method("ranking")


def counters_of(ballots: list[tuple[int, list[str]]], keys: list[str]) -> dict[str, int]:
    """Counters as the voting service keeps them: each ballot's points, added one by one."""
    counts: Counter[str] = Counter()
    for voters, order in ballots:
        for _ in range(voters):
            _cleaned, counters = RANKING.clean_choice({"ranking": order}, keys, 3)
            counts.update(counters)
            counts["#ballots"] += 1
    return dict(counts)


# English Wikipedia, "Borda count", section "Example" (the Tennessee capital election, also
# in "Effects of different voting systems under similar circumstances", electowiki.org):
# 100 voters, 42 % near Memphis (M > N > C > K), 26 % near Nashville (N > C > K > M), 15 %
# near Chattanooga (C > K > N > M), 17 % near Knoxville (K > C > N > M). With 3, 2, 1, 0
# points the article gives Nashville 194, Chattanooga 173, Memphis 126, Knoxville 107:
# Nashville wins.
TENNESSEE = [
    (42, ["memphis", "nashville", "chattanooga", "knoxville"]),
    (26, ["nashville", "chattanooga", "knoxville", "memphis"]),
    (15, ["chattanooga", "knoxville", "nashville", "memphis"]),
    (17, ["knoxville", "chattanooga", "nashville", "memphis"]),
]
CITIES = [
    {"key": "memphis", "label": "Memphis"},
    {"key": "nashville", "label": "Nashville"},
    {"key": "chattanooga", "label": "Chattanooga"},
    {"key": "knoxville", "label": "Knoxville"},
]


def test_tennessee_capital_wikipedia_example() -> None:
    keys = [city["key"] for city in CITIES]
    counts = counters_of(TENNESSEE, keys)
    result = methods.summarize("ranking", {"": counts}, OutcomeRule(), options=CITIES)
    points = {answer["key"]: answer["count"] for answer in result["answers"]}
    assert points == {"nashville": 194, "chattanooga": 173, "memphis": 126, "knoxville": 107}
    assert [(entry["key"], entry["rank"]) for entry in result["ranking"]] == [
        ("nashville", 1),
        ("chattanooga", 2),
        ("memphis", 3),
        ("knoxville", 4),
    ]
    assert result["top"] == ["nashville"]
    # Base: every ballot gives 3 + 2 + 1 + 0 = 6 points; shares truncated to one decimal.
    assert result["ballots"] == 100 and result["base"] == 600
    assert result["base_note"] == "borda_points"
    assert {a["key"]: a["percent"] for a in result["answers"]}["nashville"] == 32.3
    assert result["outcome"] is None  # a ranking orders; it validates nothing


# David Lippman, *Math in Society*, chapter "Voting Theory", section "Borda Count" (the
# mathematicians' conference: 51 voters Seattle > Tacoma > Olympia > Puyallup, 25 Tacoma >
# Puyallup > Olympia > Seattle, 10 Puyallup > Tacoma > Olympia > Seattle, 14 Olympia >
# Tacoma > Puyallup > Seattle). With 4, 3, 2, 1 points the book gives Seattle 253, Tacoma 325,
# Puyallup 194, Olympia 228: Tacoma wins although a majority ranks Seattle first (Borda
# fails the majority criterion). Our n − 1 … 0 points are the book's minus one per voter, so
# every score is 100 lower and the order is the same.
CONFERENCE = [
    (51, ["seattle", "tacoma", "olympia", "puyallup"]),
    (25, ["tacoma", "puyallup", "olympia", "seattle"]),
    (10, ["puyallup", "tacoma", "olympia", "seattle"]),
    (14, ["olympia", "tacoma", "puyallup", "seattle"]),
]


def test_lippman_conference_example() -> None:
    keys = ["seattle", "tacoma", "puyallup", "olympia"]
    counts = counters_of(CONFERENCE, keys)
    summary, _shares = borda.summarize_counts(counts, [{"key": k, "label": k} for k in keys])
    book = {"seattle": 253, "tacoma": 325, "puyallup": 194, "olympia": 228}
    voters = counts["#ballots"]
    assert {a["key"]: a["count"] + voters for a in summary["answers"]} == book
    assert summary["top"] == ["tacoma"]
    assert [entry["key"] for entry in summary["ranking"]] == [
        "tacoma",
        "seattle",
        "olympia",
        "puyallup",
    ]


def test_equal_scores_share_a_rank_and_keep_the_poll_order() -> None:
    # Two voters in opposite orders: a and c tie on 2 points, b has 2 as well — all tied.
    keys = ["a", "b", "c"]
    counts = counters_of([(1, ["a", "b", "c"]), (1, ["c", "b", "a"])], keys)
    summary, _ = borda.summarize_counts(counts, [{"key": k, "label": k} for k in keys])
    assert [(e["key"], e["rank"], e["tied"]) for e in summary["ranking"]] == [
        ("a", 1, True),
        ("b", 1, True),
        ("c", 1, True),
    ]
    assert summary["top"] == ["a", "b", "c"]
    # One more ballot b > a > c: b 4, a 3, c 2.
    counts = counters_of([(1, ["a", "b", "c"]), (1, ["c", "b", "a"]), (1, ["b", "a", "c"])], keys)
    summary, _ = borda.summarize_counts(counts, [{"key": k, "label": k} for k in keys])
    assert [(e["key"], e["rank"]) for e in summary["ranking"]] == [("b", 1), ("a", 2), ("c", 3)]


def test_points_are_n_minus_one_down_to_zero() -> None:
    assert borda.points(["x", "y", "z", "w"]) == {"x": 3, "y": 2, "z": 1, "w": 0}
    # The last option gets no counter at all: nothing to add.
    _cleaned, counters = RANKING.clean_choice({"ranking": ["y", "x"]}, ["x", "y"], 3)
    assert counters == {"y": 1}


def test_changing_a_vote_moves_the_counters_like_a_recount() -> None:
    """The service adds a ballot's counters and takes an old ballot's out: after any mix of
    votes and changes, the counters equal the points of the ballots that remain."""
    keys = ["a", "b", "c", "d"]
    rng = random.Random(12)
    ballots: dict[int, list[str]] = {}
    counts: Counter[str] = Counter()
    for _ in range(300):
        voter = rng.randrange(40)
        order = rng.sample(keys, len(keys))
        if voter in ballots:
            counts.subtract(RANKING.clean_choice({"ranking": ballots[voter]}, keys, 3)[1])
        counts.update(RANKING.clean_choice({"ranking": order}, keys, 3)[1])
        ballots[voter] = order
    recount: Counter[str] = Counter()
    for order in ballots.values():
        recount.update(borda.points(order))
    assert {k: counts[k] for k in keys} == {k: recount[k] for k in keys}


@pytest.mark.parametrize(
    "choice",
    [
        {"ranking": ["a", "a", "b"]},  # duplicate
        {"ranking": ["a", "b", "z"]},  # unknown option
        {"ranking": ["a", "b"]},  # missing option
        {"ranking": ["a", "b", "c", "a"]},  # too long
        {"ranking": "a,b,c"},  # wrong type
        {"ranking": ["a", "b", 3]},
        {"ranking": [["a"], "b", "c"]},
        {"ranking": {"a": 1, "b": 2, "c": 3}},
        {"ranking": None},
        {"answer": "a"},
        ["a", "b", "c"],
    ],
)
def test_invalid_rankings_are_refused(choice) -> None:
    with pytest.raises(InvalidChoice):
        RANKING.clean_choice(choice, ["a", "b", "c"], 3)


def test_groups_are_compared_option_by_option() -> None:
    keys = ["a", "b"]
    by_group = {
        "service_user": counters_of([(4, ["a", "b"])], keys),
        "employer": counters_of([(4, ["b", "a"])], keys),
        # Too small to be shown alone: merged with those without a group into "other".
        "expert": counters_of([(1, ["a", "b"])], keys),
        "": counters_of([(2, ["b", "a"])], keys),
    }
    result = methods.summarize(
        "ranking",
        by_group,
        OutcomeRule(),
        options=[
            {"key": "a", "label": "A"},
            {"key": "b", "label": "B"},
        ],
    )
    shown = {group["group"]: group for group in result["groups"]}
    assert shown["service_user"]["top"] == ["a"] and shown["employer"]["top"] == ["b"]
    assert "expert" not in shown and shown["other"]["ballots"] == 3
    assert sum(group["ballots"] for group in result["groups"]) == 11
    assert result["divergence"] is not None and result["divergence"]["gap_points"] == 100.0
