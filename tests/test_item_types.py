"""The item-type registry (deliberation/models/item_types.py) and the one numbering
(deliberation/services/authoring/numbering.py): every screen, page and document that
numbers an item prints the number the numbering gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import inspect as sa_inspect

from deliberation.models import ITEM_TYPES, TREE_ITEM_TYPES, Process
from deliberation.models.item_types import (
    AGENDA_ITEM_TYPES,
    AMENDABLE_TYPES,
    GRID_TYPES,
    TRACED_TYPES,
    TREE_TYPES,
    VERSIONED_TYPES,
)
from deliberation.services.authoring import authoring
from deliberation.services.authoring.numbering import (
    finding_numbers,
    item_number,
    numbered_label,
    outline_items,
)
from deliberation.services.consolidation import grid
from deliberation.services.live import amendments, sessions
from deliberation.services.live.items import present_item
from deliberation.views.facilitate import process_tree
from tests.live_fixtures import make_process, workshop

ROOT = Path(__file__).resolve().parent.parent


def test_each_tree_type_names_its_table_and_hangs_under_its_parent():
    for key in TREE_TYPES:
        entry = ITEM_TYPES[key]
        assert entry.model.__tablename__ == key
        parent = ITEM_TYPES[entry.parent].model
        relationships = sa_inspect(parent).relationships
        assert relationships[entry.siblings].mapper.class_ is entry.model, key
        assert entry.parent_key in sa_inspect(entry.model).columns, key
        for relation in entry.children:
            assert relation in sa_inspect(entry.model).relationships, (key, relation)
    for key in VERSIONED_TYPES:
        columns = sa_inspect(ITEM_TYPES[key].model).columns
        assert all(name in columns for name in ITEM_TYPES[key].versioned), key


def test_the_derived_lists_are_the_ones_the_rules_need():
    assert TREE_ITEM_TYPES == (
        "hypothesis",
        "finding",
        "recommendation",
        "action_path",
        "action_paths",
        "implementation_condition",
    )
    assert (*TREE_ITEM_TYPES, "free", "amendment") == AGENDA_ITEM_TYPES
    assert set(AMENDABLE_TYPES) == set(TREE_ITEM_TYPES) - {"action_paths"}
    assert GRID_TYPES == ("hypothesis", "recommendation", "action_path", "implementation_condition")
    assert TRACED_TYPES == ("recommendation", "action_path", "implementation_condition")
    assert [ITEM_TYPES[key].grid_prefix for key in GRID_TYPES] == ["H", "R", "A", "C"]


def test_the_protocol_lists_the_agenda_item_types_of_the_registry():
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    line = text[text.index("`type` ∈") : text.index("`context` is")]
    assert set(re.findall(r"`([a-z_]+)`", line)) - {"type", "item_id"} == set(AGENDA_ITEM_TYPES)


def test_no_module_but_the_registry_maps_item_types_to_models():
    models = "|".join(
        sorted({entry.model.__name__ for entry in ITEM_TYPES.values() if entry.model})
    )
    mapping = re.compile(rf'"([a-z_]+)":\s*\(?\s*({models})\b')
    found = {
        (path.relative_to(ROOT).as_posix(), key)
        for path in (ROOT / "deliberation").rglob("*.py")
        if path.name != "item_types.py"
        for key, _model in mapping.findall(path.read_text(encoding="utf-8"))
    }
    assert found == set()


@pytest.fixture
def tree(app):
    with app.app_context():
        process = make_process(language="en")
        yield process


def _second_of_each(process: Process):
    field = process.fields[0]
    finding = field.findings[1]
    return {
        "question": field.questions[1],
        "hypothesis": field.questions[1].hypotheses[1],
        "finding": finding,
        "recommendation": finding.recommendations[1],
        "action_path": finding.action_paths[1],
        "action_paths": finding,
        "implementation_condition": finding.conditions[0],
    }


def test_findings_are_numbered_across_the_process_in_field_order(tree):
    numbers = finding_numbers(tree)
    findings = [finding for field in tree.fields for finding in field.findings]
    assert numbers == {finding.id: n for n, finding in enumerate(findings, start=1)}
    assert list(numbers.values()) == [1, 2, 3]


def test_each_type_is_numbered_by_its_scheme(tree):
    numbers = finding_numbers(tree)
    items = _second_of_each(tree)
    printed = {key: item_number(key, item, numbers) for key, item in items.items()}
    assert printed == {
        "question": "2",
        "hypothesis": "2.2",
        "finding": "2",
        "recommendation": "2.2",
        "action_path": "2.2",
        "action_paths": "2",
        "implementation_condition": "2.1",
    }
    assert item_number("note", tree.fields[0].findings[0], numbers) == ""
    assert item_number("free", None, numbers) == ""


def test_a_move_renumbers_everywhere(tree):
    first, second = tree.fields[0].findings
    authoring.move(second, -1)
    numbers = finding_numbers(tree)
    assert (numbers[second.id], numbers[first.id]) == (1, 2)
    assert item_number("action_path", second.action_paths[0], numbers) == "1.1"


def test_the_outline_is_numbered_by_the_numbering(tree):
    numbers = finding_numbers(tree)
    outline = outline_items(tree)
    # 4 hypotheses; 2 findings with 2 recommendations, 2 paths, their dot vote, 1 condition;
    # the second field's finding.
    assert len(outline) == 4 + 2 * (1 + 2 + 2 + 1 + 1) + 1
    assert [entry.number for entry in outline[:6]] == ["1.1", "1.2", "2.1", "2.2", "1", "1.1"]
    for entry in outline:
        assert entry.number == item_number(entry.item_type, entry.item, numbers)


def test_every_place_prints_the_same_number(app, tree):
    """The console's tree, the screens, the grid, the proposals and the labels agree."""
    items = _second_of_each(tree)
    numbers = finding_numbers(tree)
    session = workshop(tree)
    console = {
        (item_type, item_id): number
        for field in process_tree(tree)
        for group in (*field["questions"], *field["findings"])
        for item_type, item_id, number, _text in group["entries"]
    }
    grid_labels = {(g.item_type, g.item_id): g.label for g in grid.grid_items(tree)}
    with app.test_request_context(), force_locale("en"):
        for item_type in TREE_ITEM_TYPES:
            item = items[item_type]
            number = item_number(item_type, item, numbers)
            assert console[(item_type, item.id)] == number
            agenda_item = sessions.add_agenda_item(session, item_type, item.id)
            label = numbered_label(item_type, item, numbers)
            assert number in label
            assert present_item(agenda_item)["title"] == label
            if item_type in GRID_TYPES:
                prefix = ITEM_TYPES[item_type].grid_prefix
                assert grid_labels[(item_type, item.id)] == f"{prefix}{number}"
            if item_type in AMENDABLE_TYPES:
                assert amendments.item_label(item_type, item) == label
        assert numbered_label("action_path", items["action_path"], numbers) == "Action path 2.2"
