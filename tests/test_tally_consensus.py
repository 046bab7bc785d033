"""Outcome rules of the consensus scale and of yes / no / abstain (deliberation.tally)."""

from types import SimpleNamespace

import pytest

from deliberation.methods import summarize
from deliberation.tally import OutcomeRule, merge_counts, merge_grouped

RULE = OutcomeRule()  # 70 / 50 / block under 5 %


def consensus(**counts: int) -> dict:
    ballots = sum(counts.values())
    return summarize("consensus", {"": {"#ballots": ballots, **counts}}, RULE)


def answer(result: dict, key: str) -> dict:
    return next(a for a in result["answers"] if a["key"] == key)


def test_rule_defaults_and_from_process() -> None:
    assert OutcomeRule() == OutcomeRule(validated=70, rework=50, block=5, divergence=25)
    process = SimpleNamespace(
        threshold_validated=80, threshold_rework=60, threshold_block=10, divergence_points=30
    )
    rule = OutcomeRule.from_process(process)
    assert (rule.validated, rule.rework, rule.block, rule.divergence) == (80, 60, 10, 30)
    assert rule.min_group == 3
    # Duck-typed: missing or unset attributes fall back to the defaults.
    assert OutcomeRule.from_process(SimpleNamespace(threshold_validated=None)) == OutcomeRule()


@pytest.mark.parametrize(
    "kwargs",
    [{"validated": 101}, {"rework": -1}, {"validated": 60, "rework": 70}, {"min_group": 0}],
)
def test_rule_refuses_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        OutcomeRule(**kwargs)


def test_no_ballots_means_no_votes() -> None:
    result = summarize("consensus", {}, RULE)
    assert result["outcome"] == "no_votes"
    assert result["ballots"] == 0
    assert result["support_percent"] is None
    assert all(a["percent"] is None and a["count"] == 0 for a in result["answers"])
    assert result["groups"] == [] and result["divergence"] is None


def test_exactly_seventy_percent_is_validated() -> None:
    result = consensus(full=4, reservations=3, mixed=2, disagree=1)
    assert result["support_percent"] == 70.0
    assert result["outcome"] == "validated"
    assert result["base_note"] == "ballots_cast" and result["base"] == 10


def test_just_under_seventy_is_rework_and_never_displayed_as_seventy() -> None:
    # 142 / 203 = 69.95… %: rounding would show 70.0 % for a threshold not reached.
    result = consensus(full=142, disagree=61)
    assert result["outcome"] == "rework"
    assert result["support_percent"] == 69.9


def test_exactly_fifty_percent_is_rework_and_below_is_rejected() -> None:
    assert consensus(full=1, reservations=4, mixed=5)["outcome"] == "rework"
    assert consensus(full=49, disagree=51)["outcome"] == "rejected"


def test_blocks_at_the_threshold_prevent_validation() -> None:
    # 19 of 20 support (95 %) but 1 block = 5 %: blocks must stay strictly under 5 %.
    result = consensus(full=19, block=1)
    assert result["block_percent"] == 5.0
    assert result["outcome"] == "rework"
    # 1 block in 21 ballots is 4.76 %: under the threshold, validated.
    result = consensus(full=20, block=1)
    assert result["block_percent"] == 4.7
    assert result["outcome"] == "validated"


def test_answers_keep_scale_order_counts_and_labels() -> None:
    labels = {"full": "Tout à fait d'accord", "block": "Blocage"}
    counts = {"": {"#ballots": 3, "full": 1, "mixed": 1, "block": 1}}
    result = summarize("consensus", counts, RULE, labels=labels)
    assert [a["key"] for a in result["answers"]] == [
        "full",
        "reservations",
        "mixed",
        "disagree",
        "block",
    ]
    assert answer(result, "full")["label"] == "Tout à fait d'accord"
    assert answer(result, "mixed")["label"] == "mixed"  # no label given: the key
    assert answer(result, "block")["count"] == 1
    assert answer(result, "block")["percent"] == 33.3


def test_custom_thresholds_apply() -> None:
    rule = OutcomeRule(validated=60, rework=40, block=20)
    counts = {"": {"#ballots": 10, "full": 6, "block": 1, "disagree": 3}}
    assert summarize("consensus", counts, rule)["outcome"] == "validated"
    assert summarize("consensus", counts, RULE)["outcome"] == "rework"


def test_yes_no_base_excludes_abstentions() -> None:
    counts = {"": {"#ballots": 20, "yes": 7, "no": 3, "abstain": 10}}
    result = summarize("yes_no", counts, RULE)
    assert result["base"] == 10 and result["base_note"] == "expressed"
    assert result["support_percent"] == 70.0
    assert result["outcome"] == "validated"
    assert answer(result, "yes")["percent"] == 70.0
    assert answer(result, "no")["percent"] == 30.0
    # Abstentions are reported against the ballots cast.
    assert answer(result, "abstain")["percent"] == 50.0
    assert answer(result, "abstain")["base"] == "ballots_cast"


def test_yes_no_thresholds_and_abstentions_only() -> None:
    def outcome(yes: int, no: int, abstain: int = 0) -> str:
        counts = {"": {"#ballots": yes + no + abstain, "yes": yes, "no": no, "abstain": abstain}}
        return summarize("yes_no", counts, RULE)["outcome"]

    assert outcome(1, 1) == "rework"
    assert outcome(2, 3) == "rejected"
    assert outcome(0, 0, abstain=4) == "no_votes"
    assert outcome(0, 0) == "no_votes"


def test_missing_ballot_counter_falls_back_to_answers() -> None:
    result = summarize("consensus", {"": {"full": 3, "disagree": 1}}, RULE)
    assert result["ballots"] == 4
    assert result["support_percent"] == 75.0


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vote method"):
        summarize("borda", {}, RULE)


def test_merging_territories_sums_counts() -> None:
    lyon = {"users": {"#ballots": 3, "full": 3}, "": {"#ballots": 1, "block": 1}}
    lille = {"users": {"#ballots": 2, "full": 1, "disagree": 1}}
    merged = merge_grouped(lyon, lille)
    assert merged == {
        "users": {"#ballots": 5, "full": 4, "disagree": 1},
        "": {"#ballots": 1, "block": 1},
    }
    assert merge_counts({"a": 1}, {"a": 2, "b": 1}) == {"a": 3, "b": 1}
    result = summarize("consensus", merged, RULE)
    assert result["ballots"] == 6
    assert result["support_percent"] == 66.6
