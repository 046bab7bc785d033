"""The vote-method registry: one entry per method, and everything that asks it agrees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from deliberation import methods
from deliberation.methods import InvalidChoice, UnknownMethod
from deliberation.tally import OutcomeRule
from deliberation.views.live_common import method_strings, results_strings

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = [{"key": "a", "label": "Option A"}, {"key": "b", "label": "Option B"}]
# Choices no method accepts: wrong types at every level.
GARBAGE = [
    None,
    "full",
    3,
    [],
    {},
    {"answer": None},
    {"answer": ["full"]},
    {"grades": "good"},
    {"grades": {"a": 3}},
    {"dots": {"a": "1"}},
    {"dots": {"a": True}},
    {"ranking": "a,b"},
    {"ranking": [1, 2]},
]


def test_each_method_is_registered_once_in_order() -> None:
    keys = [method.key for method in methods.METHODS]
    assert len(keys) == len(set(keys))
    assert tuple(keys) == methods.METHOD_KEYS
    assert keys[0] == methods.DEFAULT_METHOD
    assert methods.OPTIONS_METHOD in keys
    assert tuple(m.key for m in methods.METHODS if m.verdict) == methods.VERDICT_METHODS
    assert [methods.order_of(key) for key in keys] == list(range(len(keys)))
    assert methods.order_of("nothing") == len(keys)


def test_unknown_keys_are_refused() -> None:
    for key in ("borda", "", None, 3, ["dot"]):
        assert not methods.known(key)
        with pytest.raises(UnknownMethod, match="unknown vote method"):
            methods.method(key)
    assert all(methods.known(key) for key in methods.METHOD_KEYS)


def test_the_initial_migration_lists_the_same_methods() -> None:
    """The model's constraint comes from the registry; the one migration must repeat it
    (``make schema`` regenerates it), or ``flask db upgrade`` builds a different database."""
    (migration,) = (ROOT / "migrations" / "versions").glob("*_initial_schema.py")
    constraint = re.search(r'CheckConstraint\("(method IN [^"]*)"', migration.read_text())
    assert constraint is not None
    assert constraint.group(1) == methods.check_constraint()


@pytest.mark.parametrize("key", methods.METHOD_KEYS)
def test_garbage_choices_are_invalid(key: str) -> None:
    method = methods.method(key)
    for choice in GARBAGE:
        with pytest.raises(InvalidChoice):
            method.clean_choice(choice, ["a", "b"], 3)


@pytest.mark.parametrize("key", methods.METHOD_KEYS)
def test_an_empty_count_has_no_ballot_and_its_base_is_described(app, key: str) -> None:
    method = methods.method(key)
    summary, metrics = method.summarize_counts({}, OutcomeRule(), OPTIONS, None)
    assert summary["ballots"] == 0
    assert metrics == {}
    with app.test_request_context():
        assert summary["base_note"] in results_strings()["bases"]


@pytest.mark.parametrize("key", methods.METHOD_KEYS)
def test_every_method_is_described_everywhere(app, key: str) -> None:
    method = methods.method(key)
    with app.test_request_context(), force_locale("fr"):
        strings = results_strings()
        assert strings["methods"][key] == str(method.label) and str(method.label)
        assert str(method.legend)
        assert strings["displays"][key]["chart"] in ("bars", "grades")
        assert strings["displays"][key]["group_cell"] in ("bars", "top", "leader")
        display = strings["displays"][key]
        assert display["slide"] in ("scale", "profile", "bars")
        # A threshold is marked only on a scale, and only a threshold of the rule.
        assert not display["marks"] or display["slide"] == "scale"
        assert all(
            rule in ("validated", "rework", "block") and side in ("start", "end")
            for rule, side in display["marks"]
        )
        assert str(method.consolidation_rule)
    for language in ("fr", "en"):
        text = method.document_text(language)
        assert text.title and text.count
        assert "{" not in text.rule.format(
            validated=70, rework=50, block=5, divergence=25, min_group=3
        )
    # The phone has a form of the kind this method asks for.
    phone = (ROOT / "static" / "js" / "phone.js").read_text()
    assert re.search(rf"\b{method.phone_form}: \{{ build:", phone), method.phone_form


def test_method_strings_merge_every_method(app) -> None:
    with app.test_request_context():
        phone = method_strings("phone_strings")
    for method in methods.METHODS:
        assert set(method.phone_strings) <= set(phone)


def test_summarize_echoes_the_method_and_uses_its_tally() -> None:
    counts = {"": {"#ballots": 4, "yes": 3, "no": 1}}
    result = methods.summarize("yes_no", counts, OutcomeRule())
    assert result["method"] == "yes_no"
    assert result["support_percent"] == 75.0 and result["outcome"] == "validated"
    summary, metrics = methods.summarize_bucket("yes_no", counts[""], OutcomeRule())
    assert summary["support_percent"] == 75.0 and float(metrics["yes"]) == 0.75
