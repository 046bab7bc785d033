"""Dot voting tallies: totals, shares of dots, ranking with ties kept."""

import random

from deliberation.methods import summarize
from deliberation.tally import OutcomeRule

OPTIONS = [
    {"key": "housing", "label": "Housing first"},
    {"key": "mobility", "label": "Mobility aid"},
    {"key": "childcare", "label": "Childcare"},
    {"key": "training", "label": "Training"},
]


def dots(counts: dict, options=OPTIONS) -> dict:
    return summarize("dot", counts, OutcomeRule(), options=options)


def test_totals_shares_and_ranking_with_ties() -> None:
    # 6 participants × 3 dots = 18 dots.
    counts = {"": {"#ballots": 6, "housing": 7, "mobility": 4, "childcare": 4, "training": 3}}
    result = dots(counts)
    assert result["ballots"] == 6
    assert result["base"] == 18 and result["base_note"] == "dots_given"
    assert result["outcome"] is None
    assert [(a["key"], a["label"], a["count"], a["percent"]) for a in result["answers"]] == [
        ("housing", "Housing first", 7, 38.8),
        ("mobility", "Mobility aid", 4, 22.2),
        ("childcare", "Childcare", 4, 22.2),
        ("training", "Training", 3, 16.6),
    ]
    assert [(r["key"], r["rank"], r["tied"]) for r in result["ranking"]] == [
        ("housing", 1, False),
        ("mobility", 2, True),
        ("childcare", 2, True),
        ("training", 4, False),
    ]
    assert result["top"] == ["housing"]


def test_tie_at_the_top_is_kept() -> None:
    counts = {"": {"#ballots": 2, "housing": 3, "training": 3}}
    result = dots(counts)
    assert result["top"] == ["housing", "training"]
    assert [r["rank"] for r in result["ranking"]] == [1, 1, 3, 3]


def test_no_dots_yet() -> None:
    result = dots({})
    assert result["ballots"] == 0 and result["base"] == 0
    assert all(a["count"] == 0 and a["percent"] is None for a in result["answers"])
    assert result["top"] == []
    assert all(r["rank"] == 1 for r in result["ranking"])


def test_counted_key_missing_from_options_is_still_shown() -> None:
    counts = {"": {"#ballots": 1, "housing": 2, "late_addition": 1}}
    result = dots(counts)
    assert result["answers"][-1]["key"] == "late_addition"
    assert result["answers"][-1]["label"] == "late_addition"


def test_labels_override_option_labels() -> None:
    result = dots({"": {"#ballots": 1, "housing": 3}}, options=OPTIONS[:1])
    assert result["answers"][0]["label"] == "Housing first"
    relabelled = summarize(
        "dot",
        {"": {"#ballots": 1, "housing": 3}},
        OutcomeRule(),
        options=OPTIONS[:1],
        labels={"housing": "Logement d'abord"},
    )
    assert relabelled["answers"][0]["label"] == "Logement d'abord"


def test_property_shares_add_up_and_groups_never_change_totals() -> None:
    # Seeded random property check: displayed shares are truncated, so they add up to at
    # most 100 and lose less than 0.1 point per option; splitting the same dots over
    # groups never changes the overall totals.
    rng = random.Random(20261122)
    keys = [o["key"] for o in OPTIONS]
    for _ in range(300):
        groups = rng.sample(["users", "workers", "employers", "", "other"], rng.randint(1, 5))
        counts_by_group: dict[str, dict[str, int]] = {}
        overall = dict.fromkeys(keys, 0)
        participants = 0
        for group in groups:
            people = rng.randint(0, 8)
            participants += people
            bucket = {"#ballots": people}
            for _ in range(people * 3):
                key = rng.choice(keys)
                bucket[key] = bucket.get(key, 0) + 1
                overall[key] += 1
            counts_by_group[group] = bucket
        result = dots(counts_by_group)
        assert result["ballots"] == participants
        assert {a["key"]: a["count"] for a in result["answers"]} == overall
        if participants:
            total = sum(a["percent"] for a in result["answers"])
            assert 100 - 0.1 * len(keys) < total <= 100.0 + 1e-9
        assert sum(row["ballots"] for row in result["groups"]) in (0, participants)
