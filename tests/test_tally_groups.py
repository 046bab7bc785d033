"""Per-group breakdown: small groups merged into "other", secrecy, divergence signal."""

import random

from deliberation.methods import summarize
from deliberation.tally import OutcomeRule

RULE = OutcomeRule()  # min_group 3, divergence 25 points


def consensus_group(support: int, against: int) -> dict[str, int]:
    return {"#ballots": support + against, "full": support, "disagree": against}


def rows(result: dict) -> list[tuple[str, int, bool]]:
    return [(row["group"], row["ballots"], row["hidden"]) for row in result["groups"]]


def test_groups_shown_by_name_with_their_figures() -> None:
    counts = {
        "service_user": consensus_group(3, 7),
        "social_worker": consensus_group(8, 2),
    }
    result = summarize("consensus", counts, RULE)
    assert rows(result) == [("service_user", 10, False), ("social_worker", 10, False)]
    users, workers = result["groups"]
    assert users["support_percent"] == 30.0 and users["outcome"] == "rejected"
    assert workers["support_percent"] == 80.0 and workers["outcome"] == "validated"
    assert users["answers"][0] == {"key": "full", "label": "full", "count": 3, "percent": 30.0}
    assert result["divergence"] == {
        "item": "support",
        "groups": ["social_worker", "service_user"],
        "percents": [80.0, 30.0],
        "gap_points": 50.0,
        "threshold": 25,
    }


def test_small_groups_no_group_and_real_other_are_merged() -> None:
    counts = {
        "service_user": consensus_group(4, 1),
        "social_worker": consensus_group(3, 2),
        "employer": consensus_group(1, 1),  # 2 ballots: too few to be shown alone
        "": consensus_group(0, 1),
        "other": consensus_group(1, 0),
    }
    result = summarize("consensus", counts, RULE)
    assert rows(result) == [
        ("service_user", 5, False),
        ("social_worker", 5, False),
        ("other", 4, False),
    ]
    other = result["groups"][-1]
    assert other["is_other"] and other["support_percent"] == 50.0
    assert "employer" not in {row["group"] for row in result["groups"]}


def test_a_small_other_takes_the_smallest_group_with_it() -> None:
    # One participant gave no group. Hiding "other" would not be enough: the overall result
    # minus the two named groups would reveal that person's vote. So the smallest named
    # group is shown together with them under "other".
    counts = {
        "service_user": consensus_group(6, 0),
        "social_worker": consensus_group(2, 2),
        "": consensus_group(0, 1),
    }
    result = summarize("consensus", counts, RULE)
    assert rows(result) == [("service_user", 6, False), ("other", 5, False)]
    assert result["groups"][1]["support_percent"] == 40.0


def test_all_groups_small_means_no_breakdown() -> None:
    counts = {"service_user": consensus_group(1, 1), "expert": consensus_group(1, 0)}
    result = summarize("consensus", counts, RULE)
    assert result["ballots"] == 3
    assert result["groups"] == []
    assert result["divergence"] is None


def test_nobody_gave_a_group() -> None:
    result = summarize("consensus", {"": consensus_group(5, 5)}, RULE)
    assert result["groups"] == [] and result["divergence"] is None


def test_a_single_group_gives_no_breakdown() -> None:
    result = summarize("consensus", {"service_user": consensus_group(2, 1)}, RULE)
    assert result["groups"] == [] and result["divergence"] is None
    # One group and a big enough "other": two buckets, shown.
    counts = {"service_user": consensus_group(2, 1), "": consensus_group(3, 0)}
    assert rows(summarize("consensus", counts, RULE)) == [
        ("service_user", 3, False),
        ("other", 3, False),
    ]


def test_divergence_threshold_is_inclusive_and_ignores_other() -> None:
    # 75 % against 50 %: exactly 25 points.
    counts = {"a": consensus_group(3, 1), "b": consensus_group(2, 2)}
    assert summarize("consensus", counts, RULE)["divergence"]["gap_points"] == 25.0
    # 75 % against 50.1…% : under 25 points, no signal.
    counts = {"a": consensus_group(3, 1), "b": consensus_group(501, 499)}
    assert summarize("consensus", counts, RULE)["divergence"] is None
    # "other" mixes people: it never triggers the signal.
    counts = {"a": consensus_group(3, 0), "": consensus_group(0, 3)}
    result = summarize("consensus", counts, RULE)
    assert rows(result) == [("a", 3, False), ("other", 3, False)]
    assert result["divergence"] is None


def test_divergence_uses_process_points() -> None:
    counts = {"a": consensus_group(3, 1), "b": consensus_group(2, 2)}
    assert summarize("consensus", counts, OutcomeRule(divergence=30))["divergence"] is None


def test_yes_no_groups_compare_yes_share_of_expressed_votes() -> None:
    counts = {
        "a": {"#ballots": 5, "yes": 3, "no": 0, "abstain": 2},
        "b": {"#ballots": 4, "yes": 1, "no": 3},
    }
    result = summarize("yes_no", counts, RULE)
    assert [row["support_percent"] for row in result["groups"]] == [100.0, 25.0]
    assert result["divergence"]["item"] == "yes"
    assert result["divergence"]["gap_points"] == 75.0


def test_majority_judgment_groups_show_their_majority_grade() -> None:
    counts = {
        "a": {"#ballots": 3, "p:excellent": 2, "p:poor": 1},
        "b": {"#ballots": 3, "p:poor": 2, "p:good": 1},
    }
    result = summarize("majority_judgment", counts, RULE)
    assert [row["majority_grade"] for row in result["groups"]] == ["excellent", "poor"]
    assert result["divergence"]["item"] == "p"
    assert result["divergence"]["groups"] == ["a", "b"]


def test_dot_groups_show_their_top_option() -> None:
    counts = {
        "a": {"#ballots": 3, "x": 9},
        "b": {"#ballots": 3, "x": 3, "y": 6},
    }
    result = summarize("dot", counts, RULE, options=[{"key": "x"}, {"key": "y"}])
    assert [row["top"] for row in result["groups"]] == [["x"], ["y"]]
    assert result["divergence"]["gap_points"] == 66.6


def test_property_no_shown_group_is_small_and_totals_are_kept() -> None:
    rng = random.Random(3)
    names = ["service_user", "social_worker", "employer", "official", "expert", "other", ""]
    for _ in range(500):
        counts = {}
        for name in rng.sample(names, rng.randint(1, len(names))):
            counts[name] = consensus_group(rng.randint(0, 4), rng.randint(0, 3))
        min_group = rng.randint(1, 5)
        result = summarize("consensus", counts, OutcomeRule(min_group=min_group))
        total = sum(c["#ballots"] for c in counts.values())
        assert result["ballots"] == total
        shown = result["groups"]
        if shown:
            # The buckets shown partition the ballots, and none is small enough to expose
            # anyone — including by subtraction from the overall result.
            assert sum(row["ballots"] for row in shown) == total
            assert all(row["ballots"] >= min_group or row["hidden"] for row in shown)
            assert len(shown) >= 2 and not any(row["hidden"] for row in shown)
            for row in shown:
                if not row["is_other"]:
                    assert row["ballots"] == counts[row["group"]]["#ballots"]
                    assert row["group"] not in ("", "other")
