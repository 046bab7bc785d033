"""The organisers' screens: processes, the outline of one process, and every item's form."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import inputs, methods
from ..documents import jobs
from ..extensions import db
from ..live.revoke import recheck_facilitators
from ..models import STANCES, ExpertInput, Process, Territory, item_type_of
from ..models.item_types import AUTHORED_TYPES, ITEM_TYPES, TRACED_TYPES, TREE_TYPES
from ..refusals import Refused
from ..services.authoring import authoring, numbering
from ..services.authoring.authoring import ConfirmationRequired, ValidationError
from ..services.authoring.processes import CONSENSUS_KEYS
from ..services.authoring.text import render_inline, render_markdown
from ..services.authoring.textdiff import diff_words, render_html
from ..services.authoring.versions import decode, history
from ..services.people import access, membership
from ..services.people.access import Capability
from . import organize_errors
from .common import markdown_preview, process_or_404, refusal_response
from .cooperative import render_template_cooperatively
from .guard import SIGNED_IN, requires
from .live_common import item_type_labels
from .once import once_per_form
from .organize_forms import (
    FORMS,
    ROLE_LABELS,
    STANCE_LABELS,
    ConfirmForm,
    ExpertInputForm,
    FindingForm,
    ProcessCreateForm,
    ProcessSettingsForm,
    TerritoryForm,
    groups_as_lines,
    groups_from_lines,
)

bp = Blueprint("organize", __name__, url_prefix="/organize")
organize_errors.register(bp)


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "markdown": render_markdown,
        "markdown_inline": render_inline,
        "item_type_labels": item_type_labels(),
        "traced_types": TRACED_TYPES,
        "stance_labels": STANCE_LABELS,
        "role_labels": ROLE_LABELS,
    }


def _author() -> str:
    return current_user.email


def _item(process: Process, item_type: str, item_id: int) -> Any:
    if item_type not in AUTHORED_TYPES:
        abort(404)
    item = authoring.get_item(item_type, item_id)
    if item is None or authoring.process_of(item).id != process.id:
        abort(404)
    return item


def _anchor(item: Any) -> str:
    return f"{item_type_of(item)}-{item.id}"


def _outline_url(process: Process, item: Any | None = None) -> str:
    anchor = _anchor(item) if item is not None and not isinstance(item, Process) else None
    return url_for("organize.outline", slug=process.slug, _anchor=anchor)


def _form_values(form: FlaskForm) -> dict[str, Any]:
    return {name: value for name, value in form.data.items() if name not in ("csrf_token",)}


# -- processes ---------------------------------------------------------------------------


@bp.get("/")
@requires(SIGNED_IN)
def index():
    listed = access.visible_processes(current_user)
    return render_template(
        "organize/index.html",
        listed=listed,
        ownerless=membership.ownerless([process for process, _role in listed]),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(SIGNED_IN)
@once_per_form
def new_process():
    form = ProcessCreateForm()
    if form.validate_on_submit():
        try:
            process = authoring.create_process(
                _author(), owner=current_user._get_current_object(), **_form_values(form)
            )
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("Process created."), "success")
            return redirect(url_for("organize.outline", slug=process.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("organize/process_new.html", form=form), status


@bp.get("/<slug>")
@requires(Capability.VIEW)
def outline(slug: str):
    process_id = process_or_404(slug).id

    def context() -> dict[str, Any]:
        process = db.session.get(Process, process_id)
        return {
            "process": process,
            "numbers": numbering.finding_numbers(process),
            "move_form": ConfirmForm(),
        }

    # Every item of the process on one page: seconds of rendering for a large one, never
    # in one stretch on the event loop.
    return render_template_cooperatively("organize/outline.html", context)


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@requires(Capability.EDIT)
def settings(slug: str):
    process = process_or_404(slug)
    form = ProcessSettingsForm(obj=process)
    form.priority_method.choices = [
        (key, str(methods.method(key).label)) for key in methods.PRIORITY_METHODS
    ]
    if request.method == "GET":
        labels = process.consensus_labels or {}
        for key in CONSENSUS_KEYS:
            getattr(form, f"label_{key}").data = labels.get(key, "")
        form.groups.data = groups_as_lines(process.groups or [])
        form.priority_method.data = process.priority_method or methods.OPTIONS_METHOD
    if form.validate_on_submit():
        values = _form_values(form)
        values["consensus_labels"] = {key: values.pop(f"label_{key}") for key in CONSENSUS_KEYS}
        values["groups"] = groups_from_lines(values["groups"] or "")
        try:
            authoring.update_process(process, _author(), **values)
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("organize.outline", slug=process.slug))
    return render_template(
        "organize/settings.html",
        process=process,
        form=form,
        territory_form=TerritoryForm(formdata=None),
        defaults=process.labels() if not process.consensus_labels else {},
        consensus_keys=CONSENSUS_KEYS,
        delete_form=ConfirmForm(),
    ), (400 if request.method == "POST" else 200)


@bp.post("/<slug>/territories")
@requires(Capability.EDIT)
@once_per_form
def add_territory(slug: str):
    process = process_or_404(slug)
    form = TerritoryForm()
    if form.validate_on_submit():
        try:
            authoring.add_territory(process, form.name.data or "")
            flash(_("Territory added."), "success")
        except ValidationError as error:
            flash(error.message, "error")
    return redirect(url_for("organize.settings", slug=slug, _anchor="territories"))


@bp.post("/<slug>/territories/<int:territory_id>")
@requires(Capability.EDIT)
def rename_territory(slug: str, territory_id: int):
    territory = _territory(slug, territory_id)
    form = TerritoryForm()
    if form.validate_on_submit():
        try:
            authoring.rename_territory(territory, form.name.data or "")
            flash(_("Territory renamed."), "success")
        except ValidationError as error:
            flash(error.message, "error")
    return redirect(url_for("organize.settings", slug=slug, _anchor="territories"))


@bp.route("/<slug>/territories/<int:territory_id>/delete", methods=["GET", "POST"])
@requires(Capability.EDIT)
def delete_territory(slug: str, territory_id: int):
    territory = _territory(slug, territory_id)
    form = ConfirmForm()
    impact = authoring.Impact(sessions=authoring.territory_sessions(territory))
    if form.validate_on_submit():
        process_id = territory.process_id
        authoring.delete_territory(territory, confirm=True)
        recheck_facilitators(process_id)  # its facilitators' memberships went with it
        flash(_("Territory deleted."), "success")
        return redirect(url_for("organize.settings", slug=slug, _anchor="territories"))
    return render_template(
        "organize/delete.html",
        process=territory.process,
        item=territory,
        deleted_label=_("Territory"),
        name=territory.name,
        impact=impact,
        form=form,
        cancel_url=url_for("organize.settings", slug=slug),
    )


def _territory(slug: str, territory_id: int) -> Territory:
    process = process_or_404(slug)
    territory = db.session.get(Territory, territory_id)
    if territory is None or territory.process_id != process.id:
        abort(404)
    return territory


# -- items -------------------------------------------------------------------------------


def _parent_for_new(process: Process, item_type: str) -> Any:
    spec = ITEM_TYPES[item_type]
    if spec.parent == "process":
        return process
    parent_id = request.values.get("parent", type=int)
    if parent_id is None:
        abort(404)
    return _item(process, spec.parent, parent_id)


def _prepare_form(form: FlaskForm, item_type: str, field_: Any) -> None:
    if isinstance(form, FindingForm):
        form.question_id.choices = [("", _("(none)"))] + [
            (str(q.id), authoring.label(q, 100)) for q in field_.questions
        ]


def _field_of(parent_or_item: Any) -> Any:
    current = parent_or_item
    while current is not None and item_type_of(current) not in ("field", "process"):
        current = authoring.parent_of(current)
    return current


def _stances_from_request() -> dict[int, str]:
    return {
        int(key.removeprefix("stance-")): value
        for key, value in request.form.items()
        if key.startswith("stance-") and key.removeprefix("stance-").isdigit()
    }


@bp.route("/<slug>/<item_type>/new", methods=["GET", "POST"])
@requires(Capability.EDIT)
@once_per_form
def new_item(slug: str, item_type: str):
    process = process_or_404(slug)
    if item_type not in TREE_TYPES:
        abort(404)
    parent = _parent_for_new(process, item_type)
    form = FORMS[item_type]()
    _prepare_form(form, item_type, _field_of(parent))
    if form.validate_on_submit():
        try:
            item = authoring.create_item(item_type, parent, _author(), **_form_values(form))
            if isinstance(item, ExpertInput):
                authoring.set_stances(item, _stances_from_request())
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("%(kind)s added.", kind=_(ITEM_TYPES[item_type].label)), "success")
            return redirect(_outline_url(process, item))
    return _render_item_form(process, item_type, form, parent=parent, item=None)


@bp.route("/<slug>/<item_type>/<int:item_id>/edit", methods=["GET", "POST"])
@requires(Capability.EDIT)
def edit_item(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    if item_type == "process":
        return redirect(url_for("organize.settings", slug=slug))
    item = _item(process, item_type, item_id)
    form = FORMS[item_type](obj=item)
    _prepare_form(form, item_type, _field_of(item))
    if request.method == "GET" and isinstance(form, FindingForm):
        form.question_id.data = str(item.question_id or "")
    if form.validate_on_submit():
        try:
            authoring.update_item(item, _author(), **_form_values(form))
            if isinstance(item, ExpertInput):
                authoring.set_stances(item, _stances_from_request())
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("Saved."), "success")
            return redirect(_outline_url(process, item))
    return _render_item_form(process, item_type, form, parent=authoring.parent_of(item), item=item)


def _render_item_form(process: Process, item_type: str, form: FlaskForm, parent: Any, item: Any):
    hypotheses, stances = [], {}
    if isinstance(form, ExpertInputForm):
        field_ = _field_of(parent if item is None else item)
        hypotheses = [h for q in field_.questions for h in q.hypotheses]
        stances = {s.hypothesis_id: s.stance for s in item.stances} if item else {}
        if request.method == "POST":
            stances = _stances_from_request()
    return render_template(
        "organize/item_form.html",
        process=process,
        item_type=item_type,
        form=form,
        parent=parent,
        item=item,
        hypotheses=hypotheses,
        stances=stances,
        stance_choices=STANCES,
        label=authoring.label,
    ), (400 if request.method == "POST" else 200)


@bp.post("/<slug>/<item_type>/<int:item_id>/move")
@requires(Capability.EDIT)
def move_item(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    if item_type not in TREE_TYPES:
        abort(404)
    item = _item(process, item_type, item_id)
    if ConfirmForm().validate_on_submit():
        authoring.move(item, -1 if request.form.get("direction") == "up" else 1)
    return redirect(_outline_url(process, item))


@bp.post("/<slug>/<item_type>/reorder")
@requires(Capability.EDIT)
def reorder(slug: str, item_type: str):
    process = process_or_404(slug)
    if item_type not in TREE_TYPES:
        abort(404)
    payload = request.get_json(silent=True) or {}
    spec = ITEM_TYPES[item_type]
    ids, parent_id = payload.get("ids"), payload.get("parent_id")
    if not isinstance(ids, list) or (spec.parent != "process" and not inputs.is_id(parent_id)):
        return refusal_response(Refused("bad_request", _("The new order is not a list of items.")))
    parent = process if spec.parent == "process" else _item(process, spec.parent, parent_id)
    try:
        authoring.reorder(parent, item_type, ids)
    except ValidationError as error:
        return refusal_response(Refused("order_changed", error.message))
    return jsonify(ok=True)


@bp.route("/<slug>/<item_type>/<int:item_id>/delete", methods=["GET", "POST"])
@requires(Capability.EDIT)
def delete_item(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    if item_type == "process":
        # Deleting the whole process is the owners' (delete_process), never this route's.
        return redirect(url_for("organize.delete_process", slug=slug))
    item = _item(process, item_type, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        parent = authoring.parent_of(item)
        try:
            authoring.delete_item(item, confirm=request.form.get("confirm") == "yes")
        except ConfirmationRequired:
            flash(_("Please confirm the deletion below."), "error")
        else:
            flash(_("%(kind)s deleted.", kind=_(ITEM_TYPES[item_type].label)), "success")
            return redirect(_outline_url(process, parent))
    return render_template(
        "organize/delete.html",
        process=process,
        item=item,
        deleted_label=_(ITEM_TYPES[item_type].label),
        name=authoring.label(item, 200),
        impact=authoring.deletion_impact(item),
        form=form,
        cancel_url=_outline_url(process, item),
    )


@bp.route("/<slug>/delete", methods=["GET", "POST"])
@requires(Capability.DELETE)
def delete_process(slug: str):
    process = process_or_404(slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        process_id = process.id
        try:
            authoring.delete_item(process, confirm=request.form.get("confirm") == "yes")
        except ConfirmationRequired:
            flash(_("Please confirm the deletion below."), "error")
        else:
            # Its documents go too: a later process with the same address must not list them.
            jobs.forget_process(current_app.config["EXPORTS_DIR"], process_id)
            flash(_("%(kind)s deleted.", kind=_(ITEM_TYPES["process"].label)), "success")
            return redirect(url_for("organize.index"))
    return render_template(
        "organize/delete.html",
        process=process,
        item=process,
        deleted_label=_(ITEM_TYPES["process"].label),
        name=authoring.label(process, 200),
        impact=authoring.deletion_impact(process),
        form=form,
        cancel_url=url_for("organize.settings", slug=slug),
    )


@bp.get("/<slug>/<item_type>/<int:item_id>/history")
@requires(Capability.VIEW)
def item_history(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    item = _item(process, item_type, item_id)
    versions = history(item)
    entries = []
    previous: dict[str, str] = {}
    for version in versions:
        values = decode(version)
        changes = {
            name: render_html(diff_words(previous.get(name, ""), value))
            for name, value in values.items()
            if value != previous.get(name, "")
        }
        entries.append({"version": version, "fields": values, "changes": changes})
        previous = values
    return render_template(
        "organize/history.html",
        process=process,
        item_type=item_type,
        item=item,
        name=authoring.label(item, 200),
        entries=list(reversed(entries)),
        form=ConfirmForm(),
    )


@bp.post("/<slug>/<item_type>/<int:item_id>/rollback/<int:number>")
@requires(Capability.EDIT)
def rollback(slug: str, item_type: str, item_id: int, number: int):
    process = process_or_404(slug)
    item = _item(process, item_type, item_id)
    if ConfirmForm().validate_on_submit():
        try:
            authoring.rollback(item, number, _author())
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("Version %(n)d is back, as a new version.", n=number), "success")
    return redirect(
        url_for("organize.item_history", slug=process.slug, item_type=item_type, item_id=item.id)
    )


@bp.post("/preview")
@requires(SIGNED_IN)
def preview():
    return markdown_preview(request.get_json(silent=True))
