"""The second grid: axes, tags and the cross-table."""

from __future__ import annotations

import pytest
from consolidation_data import build_tree, log_in, make_organizer
from flask_babel import force_locale

from deliberation.extensions import db
from deliberation.models import Process
from deliberation.services.consolidation import grid


def test_axes_are_checked_and_stored(app):
    # The messages are read in English; the default (French) has its own test below.
    with app.app_context(), force_locale("en"):
        tree = build_tree()
        stored = grid.set_axes(
            tree.process, "Theme", [" Participation ", "", "Housing"], "Policy", ["Employment"]
        )
        assert stored.rows.values == ("Participation", "Housing")
        assert tree.process.grid["cols"] == {"name": "Policy", "values": ["Employment"]}
        assert grid.get_grid(tree.process).is_set

        with pytest.raises(grid.GridError, match="twice"):
            grid.set_axes(tree.process, "Theme", ["A", "a"], "Policy", ["X"])
        with pytest.raises(grid.GridError, match="needs a name"):
            grid.set_axes(tree.process, "", ["A"], "Policy", ["X"])
        # A refused change leaves the stored axes as they were.
        db.session.rollback()
        assert grid.get_grid(tree.process).rows.values == ("Participation", "Housing")


def test_parse_values_one_per_line():
    assert grid.parse_values("A\r\n\n  B  \nC") == ["A", "B", "C"]


def test_cross_table_counts_cells_totals_and_leftovers(app):
    with app.app_context():
        tree = build_tree()
        grid.set_axes(tree.process, "Theme", ["T1", "T2"], "Policy", ["P1", "P2"])
        changed = grid.tag_items(
            tree.process,
            [
                ("recommendation", tree.recommendations[0].id, "T1", "P1"),
                ("action_path", tree.action_paths[0].id, "T1", "P1"),
                ("action_path", tree.action_paths[1].id, "T2", "P1"),
                ("hypothesis", tree.hypotheses[0].id, "T2", ""),
            ],
        )
        assert changed == 4
        table = grid.cross_table(tree.process)
        assert table.count("T1", "P1") == 2
        assert table.count("T2", "P1") == 1
        assert table.count("T2", "P2") == 0
        assert table.row_totals == {"T1": 2, "T2": 1}
        assert table.col_totals == {"P1": 3, "P2": 0}
        assert [i.item_id for i in table.partly_tagged] == [tree.hypotheses[0].id]
        # 2 hypotheses + 3 recommendations + 2 action paths + 1 condition in the tree.
        assert table.total == 8
        assert len(table.untagged) == 8 - 4
        # Cells list items in field order with labels numbered across the process.
        assert [i.label for i in table.cells[("T1", "P1")]] == ["R1.1", "A1.1"]


def test_removing_a_value_keeps_the_tag_off_grid(app):
    # The messages are read in English; the default (French) has its own test below.
    with app.app_context(), force_locale("en"):
        tree = build_tree()
        grid.set_axes(tree.process, "Theme", ["T1", "T2"], "Policy", ["P1"])
        grid.tag_items(tree.process, [("recommendation", tree.recommendations[0].id, "T2", "P1")])
        grid.set_axes(tree.process, "Theme", ["T1"], "Policy", ["P1"])
        table = grid.cross_table(tree.process)
        assert [i.item_id for i in table.off_grid] == [tree.recommendations[0].id]
        assert tree.recommendations[0].grid_row == "T2"
        # Saving the outdated tag unchanged is allowed; a new unknown value is not.
        grid.tag_items(tree.process, [("recommendation", tree.recommendations[0].id, "T2", "P1")])
        with pytest.raises(grid.GridError, match="not a value"):
            grid.tag_items(
                tree.process, [("recommendation", tree.recommendations[0].id, "T9", "P1")]
            )


def test_bulk_tagging_is_all_or_nothing(app):
    with app.app_context():
        tree = build_tree()
        grid.set_axes(tree.process, "Theme", ["T1"], "Policy", ["P1"])
        with pytest.raises(grid.GridError):
            grid.tag_items(
                tree.process,
                [
                    ("recommendation", tree.recommendations[0].id, "T1", "P1"),
                    ("recommendation", tree.recommendations[1].id, "nope", "P1"),
                ],
            )
        db.session.rollback()
        assert tree.recommendations[0].grid_row == ""


def test_items_of_another_process_or_type_are_refused(app):
    # The messages are read in English; the default (French) has its own test below.
    with app.app_context(), force_locale("en"):
        tree = build_tree()
        other = build_tree(slug="other", territories=())
        grid.set_axes(tree.process, "Theme", ["T1"], "Policy", ["P1"])
        with pytest.raises(grid.GridError, match="No such item"):
            grid.tag_items(
                tree.process, [("recommendation", other.recommendations[0].id, "T1", "")]
            )
        with pytest.raises(grid.GridError, match="cannot be tagged"):
            grid.tag_items(tree.process, [("finding", tree.findings[0].id, "T1", "")])


def test_refusals_speak_the_organiser_language(app):
    """French is the default: a refused axis says why in French."""
    with app.app_context():
        tree = build_tree()
        with pytest.raises(grid.GridError, match="figure deux fois sur l’axe des lignes"):
            grid.set_axes(tree.process, "Thème", ["A", "a"], "Politique", ["X"])


# -- the pages ---------------------------------------------------------------------------


def test_grid_pages_set_axes_tag_items_and_show_the_cross_table(app, client):
    with app.app_context():
        tree = build_tree()
        organizer = make_organizer(tree.process)
        slug, organizer_id = tree.process.slug, organizer.id
        rec1, path1 = tree.recommendations[0].id, tree.action_paths[0].id
    base = f"/organize/{slug}/grid"
    assert client.get(base).status_code == 302
    log_in(client, organizer_id)
    client.post("/lang/en")
    assert "needs values on both axes" in client.get(f"{base}/table").text

    refused = client.post(base, data={"rows_name": "", "rows_values": "A\nB", "cols_name": "P"})
    assert refused.status_code == 400
    assert "A\nB" in refused.text  # what was typed is still in the form
    saved = client.post(
        base,
        data={"rows_name": "Theme", "rows_values": "Housing\nHealth",
              "cols_name": "Policy", "cols_values": "Employment\nTraining"},
    )  # fmt: skip
    assert saved.status_code == 302

    tags_page = client.get(f"{base}/tags")
    assert tags_page.status_code == 200 and "Housing" in tags_page.text
    bad = client.post(f"{base}/tags", data={f"recommendation-{rec1}-row": "Nope"})
    assert bad.status_code == 400
    tagged = client.post(
        f"{base}/tags",
        data={f"recommendation-{rec1}-row": "Health", f"recommendation-{rec1}-col": "Training",
              f"action_path-{path1}-row": "Health", f"action_path-{path1}-col": "Training"},
    )  # fmt: skip
    assert tagged.status_code == 302
    table = client.get(f"{base}/table")
    assert table.status_code == 200
    assert "Theme × Policy" in table.text
    assert "<strong>2</strong>" in table.text  # the Health × Training cell
    assert "Recommendation one" in table.text


def test_grid_form_is_csrf_protected(tmp_path):
    from conftest import make_app

    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        tree = build_tree()
        organizer = make_organizer(tree.process)
        slug, organizer_id, process_id = tree.process.slug, organizer.id, tree.process.id
    log_in(client, organizer_id)
    data = {"rows_name": "Theme", "rows_values": "A", "cols_name": "Policy", "cols_values": "B"}
    assert client.post(f"/organize/{slug}/grid", data=data).status_code == 400
    page = client.get(f"/organize/{slug}/grid")
    assert 'name="csrf_token"' in page.text
    with app.app_context():
        assert grid.get_grid(db.session.get(Process, process_id)).rows.values == ()
        db.session.remove()
        db.engine.dispose()
