"""Organisers' screens for many territories and one assembly: the consolidation, building the
general assembly, traceability, and the second grid."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import methods
from ..extensions import db
from ..methods import verdict
from ..methods.majority_judgment import grade_labels
from ..models import Field, Process
from ..services.authoring.text import render_markdown
from ..services.consolidation import assembly, consolidation, grid, outcomes, traceability
from ..services.live.proposal_display import status_labels
from ..services.people.access import Capability
from .common import process_or_404
from .guard import requires
from .live_common import group_labels, item_type_labels, method_labels, outcome_labels
from .once import once_per_form

bp = Blueprint("consolidate", __name__, url_prefix="/organize/<slug>")
# Each verdict has its icon beside its word and colour (never colour alone).
OUTCOME_ICONS = {"validated": "✓", "rework": "↻", "rejected": "✗", "no_votes": "–"}


def whole_percents(counts: list[int]) -> list[int]:
    """Whole percents of ``counts`` that add up to exactly 100 (largest remainders): the
    bars are drawn with one class per percent (``w-0`` … ``w-100``), as the
    Content-Security-Policy refuses ``style=`` attributes."""
    total = sum(counts)
    if total <= 0:
        return [0 for _count in counts]
    exact = [count * 100 / total for count in counts]
    whole = [int(value) for value in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - whole[i], reverse=True)
    for index in by_remainder[: 100 - sum(whole)]:
        whole[index] += 1
    return whole


def bar_segments(result: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Widths (whole percents of the bar) of each answer, from counts, adding up to 100."""
    if not result:
        return []
    answers = [a for a in result.get("answers") or [] if a.get("count")]
    if sum(a["count"] for a in answers) <= 0:
        return []
    widths = whole_percents([a["count"] for a in answers])
    return [
        {
            "key": a["key"],
            "label": a.get("label") or a["key"],
            "count": a["count"],
            "width": width,
        }
        for a, width in zip(answers, widths, strict=True)
    ]


def stance_names() -> dict[str, str]:
    return {"supports": _("supports"), "nuances": _("nuances"), "contradicts": _("contradicts")}


def version_kinds() -> dict[str, str]:
    return {
        "created": _("created"),
        "edited": _("edited"),
        "imported": _("imported"),
        "amendment": _("amendment adopted"),
        "rollback": _("rolled back"),
    }


def _helpers(process: Process) -> dict[str, Any]:
    return {
        "status_labels": status_labels(),
        "stance_names": stance_names(),
        "version_kinds": version_kinds(),
        "process": process,
        "md": render_markdown,
        "type_labels": item_type_labels(),
        "method_labels": method_labels(),
        "group_labels": group_labels(),
        "outcome_labels": outcome_labels(),
        "outcome_icons": OUTCOME_ICONS,
        "grade_labels": grade_labels(),
        "worded": lambda found: verdict.worded(found, grade_labels()),
        "bar_segments": bar_segments,
        "vote_methods": methods.BY_KEY,
        "verdict_methods": methods.VERDICT_METHODS,
        "traced_types": traceability.TRACED_TYPES,
    }


# -- consolidation ------------------------------------------------------------------------


@bp.get("/consolidation")
@requires(Capability.VIEW)
def index(slug: str):
    process = process_or_404(slug)
    field_id = request.args.get("field", type=int)
    if field_id is not None and db.session.get(Field, field_id) not in process.fields:
        flash(_("This field is not in the process: showing every field."), "error")
        field_id = None
    items = outcomes.consolidation_page(process, field_id=field_id)
    return render_template(
        "consolidate/index.html",
        items=items,
        field_id=field_id,
        **_helpers(process),
    )


# -- the general assembly -----------------------------------------------------------------


@bp.route("/assembly/new", methods=["GET", "POST"])
@requires(Capability.EDIT)
@once_per_form
def new_assembly(slug: str):
    process = process_or_404(slug)
    pool = assembly.candidates(process)
    form: dict[str, Any] = {
        "rule": "validated_or_amended",
        "title": "",
        "held_on": "",
        "place": "",
        "chosen": set(),
    }
    status = 200
    if request.method == "POST":
        form.update(
            rule=request.form.get("rule", ""),
            title=request.form.get("title", ""),
            held_on=request.form.get("held_on", ""),
            place=request.form.get("place", ""),
            chosen=set(request.form.getlist("items")),
        )
        try:
            held_on = _date_or_none(form["held_on"])
            chosen = assembly.parse_keys(sorted(form["chosen"]))
            session = assembly.build_assembly(
                process, form["rule"], chosen, form["title"], held_on, form["place"]
            )
        except assembly.AssemblyError as error:
            flash(str(error.message), "error")
            status = 400
        else:
            flash(_("General assembly created with %(n)d items.", n=len(session.agenda)), "success")
            if "facilitate.console" in current_app.view_functions:
                return redirect(url_for("facilitate.console", session_id=session.id))
            return redirect(url_for("consolidate.index", slug=process.slug))
    preselected = {f"{c.key[0]}:{c.key[1]}" for c in assembly.select(pool, "validated_or_amended")}
    return render_template(
        "consolidate/assembly.html",
        candidates=pool,
        form=form,
        preselected=preselected,
        **_helpers(process),
    ), status


def _date_or_none(raw: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise assembly.AssemblyError(_("Give the date as YYYY-MM-DD.")) from error


# -- traceability -------------------------------------------------------------------------


@bp.get("/traceability")
@requires(Capability.VIEW)
def traces(slug: str):
    process = process_or_404(slug)
    items = consolidation.outline_items(process, ("finding", *traceability.TRACED_TYPES))
    statuses = assembly.final_status(process)
    return render_template(
        "consolidate/traces.html", items=items, statuses=statuses, **_helpers(process)
    )


@bp.get("/trace/<item_type>/<int:item_id>")
@requires(Capability.VIEW)
def trace(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    try:
        found = traceability.trace(process, item_type, item_id)
    except traceability.TraceError:
        abort(404)
    return render_template("consolidate/trace.html", trace=found, **_helpers(process))


# -- the second grid ----------------------------------------------------------------------


@bp.route("/grid", methods=["GET", "POST"])
@requires(Capability.EDIT)
def grid_settings(slug: str):
    process = process_or_404(slug)
    current = grid.get_grid(process)
    form = {
        "rows_name": current.rows.name,
        "rows_values": "\n".join(current.rows.values),
        "cols_name": current.cols.name,
        "cols_values": "\n".join(current.cols.values),
    }
    status = 200
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in form}
        try:
            grid.set_axes(
                process,
                form["rows_name"],
                grid.parse_values(form["rows_values"]),
                form["cols_name"],
                grid.parse_values(form["cols_values"]),
            )
        except grid.GridError as error:
            flash(str(error), "error")
            status = 400
        else:
            flash(_("The grid is saved."), "success")
            return redirect(url_for("consolidate.grid_tags", slug=process.slug))
    return render_template("consolidate/grid_settings.html", form=form, **_helpers(process)), status


@bp.route("/grid/tags", methods=["GET", "POST"])
@requires(Capability.EDIT)
def grid_tags(slug: str):
    process = process_or_404(slug)
    items = list(grid.grid_items(process))
    status = 200
    submitted: dict[str, tuple[str, str]] = {}
    if request.method == "POST":
        tags = []
        for item in items:
            name = f"{item.item_type}-{item.item_id}"
            if f"{name}-row" not in request.form and f"{name}-col" not in request.form:
                continue
            row = request.form.get(f"{name}-row", item.row)
            col = request.form.get(f"{name}-col", item.col)
            submitted[name] = (row, col)
            tags.append((item.item_type, item.item_id, row, col))
        try:
            changed = grid.tag_items(process, tags)
        except grid.GridError as error:
            flash(str(error), "error")
            status = 400
        else:
            flash(_("%(n)d items re-tagged.", n=changed), "success")
            return redirect(url_for("consolidate.grid_table", slug=process.slug))
    return render_template(
        "consolidate/grid_tags.html",
        items=items,
        grid=grid.get_grid(process),
        submitted=submitted,
        **_helpers(process),
    ), status


@bp.get("/grid/table")
@requires(Capability.VIEW)
def grid_table(slug: str):
    process = process_or_404(slug)
    return render_template(
        "consolidate/grid_table.html", table=grid.cross_table(process), **_helpers(process)
    )
