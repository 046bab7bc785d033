"""The follow-up of recommendations: the organisers' screens and the public « Suivi » pages.

Two audiences, two blueprints. ``followup`` (``/organize/<slug>/followup``): members read the
follow-up, co-organisers and owners record status changes, the body addressed and links to
decisions — each form is one call to :mod:`services.publishing.followup`. ``published_followup``
(``/p/<slug>/followup``, its Atom feed and its open data): anyone, once the synthesis is
published, like ``/p/<slug>``; a 404 before.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..documents.tree import load_process_tree
from ..models import FOLLOWUP_STATUSES, Process
from ..services.authoring.text import render_inline
from ..services.people.access import Capability
from ..services.publishing import followup, opendata
from ..services.publishing.feed import ATOM_TYPE, atom_feed
from ..services.publishing.followup import FollowUpError
from .common import data_response, process_or_404, published_or_404
from .guard import requires
from .once import once_per_form

bp = Blueprint("followup", __name__, url_prefix="/organize/<slug>/followup")
public_bp = Blueprint("published_followup", __name__, url_prefix="/p/<slug>")


def _labels() -> dict:
    return {
        "status_labels": followup.STATUS_LABELS,
        "item_labels": followup.ITEM_LABELS,
        "statuses": FOLLOWUP_STATUSES,
        "markdown_inline": render_inline,
        "format_date": format_date,
    }


# -- organisers ---------------------------------------------------------------------------


@bp.get("")
@requires(Capability.VIEW)
def index(slug: str):
    process = load_process_tree(process_or_404(slug))
    return render_template(
        "organize/followup.html",
        process=process,
        overview=followup.overview(process),
        **_labels(),
    )


@bp.get("/<item_type>/<int:item_id>")
@requires(Capability.VIEW)
def item(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    try:
        followed = followup.followed_item(process, item_type, item_id)
        follow_up = followup.follow_up_of(process, item_type, item_id)
    except FollowUpError:
        abort(404)
    latest = follow_up.latest if follow_up else None
    return render_template(
        "organize/followup_item.html",
        process=process,
        item_type=item_type,
        item=followed,
        follow_up=follow_up,
        current_progress=latest.progress if latest else 0,
        note_max=followup.NOTE_MAX,
        today=date.today().isoformat(),
        **_labels(),
    )


def _back(process: Process, item_type: str, item_id: int, anchor: str):
    return redirect(
        url_for(
            "followup.item", slug=process.slug, item_type=item_type, item_id=item_id, _anchor=anchor
        )  # fmt: skip
    )


def _apply(action, success: str) -> None:
    """Run one service call for a posted form; its refusal becomes the flashed message."""
    if not FlaskForm().validate_on_submit():
        flash(_("The form could not be accepted: reload the page and send it again."), "error")
        return
    try:
        action()
    except FollowUpError as error:
        flash(error.message, "error")
    else:
        flash(success, "success")


@bp.post("/<item_type>/<int:item_id>/status")
@requires(Capability.EDIT)
@once_per_form
def record_status(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    form = request.form
    _apply(
        lambda: followup.record_status(
            process,
            item_type,
            item_id,
            status=form.get("status"),
            happened_on=form.get("happened_on"),
            note=form.get("note"),
            progress=form.get("progress"),
            actor=current_user.email,
        ),
        _("Status recorded: it is in the history and the public feed."),
    )
    return _back(process, item_type, item_id, "history")


@bp.post("/<item_type>/<int:item_id>/addressed")
@requires(Capability.EDIT)
def set_addressed_to(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    _apply(
        lambda: followup.set_addressed_to(
            process, item_type, item_id, request.form.get("addressed_to")
        ),
        _("Saved."),
    )
    return _back(process, item_type, item_id, "addressed")


@bp.post("/<item_type>/<int:item_id>/links")
@requires(Capability.EDIT)
@once_per_form
def add_link(slug: str, item_type: str, item_id: int):
    process = process_or_404(slug)
    _apply(
        lambda: followup.add_link(
            process, item_type, item_id, request.form.get("url"), request.form.get("label")
        ),
        _("Link added."),
    )
    return _back(process, item_type, item_id, "links")


@bp.post("/<item_type>/<int:item_id>/links/<int:link_id>/remove")
@requires(Capability.EDIT)
def remove_link(slug: str, item_type: str, item_id: int, link_id: int):
    process = process_or_404(slug)
    _apply(lambda: followup.remove_link(process, link_id), _("Link removed."))
    return _back(process, item_type, item_id, "links")


# -- the public ---------------------------------------------------------------------------


@public_bp.get("/followup")
def page(slug: str):
    process = load_process_tree(published_or_404(slug))
    return render_template(
        "published/followup.html",
        process=process,
        overview=followup.overview(process),
        **_labels(),
    )


@public_bp.get("/followup.atom")
def feed(slug: str):
    process = published_or_404(slug)
    body = atom_feed(
        process,
        page_url=url_for("published_followup.page", slug=process.slug, _external=True),
        feed_url=url_for("published_followup.feed", slug=process.slug, _external=True),
    )
    return Response(body, mimetype=ATOM_TYPE)


@public_bp.get("/followup.csv")
def as_csv(slug: str):
    process = published_or_404(slug)
    return data_response(opendata.followup_csv(process), "text/csv", f"{process.slug}-followup.csv")


@public_bp.get("/followup.json")
def as_json(slug: str):
    process = published_or_404(slug)
    return data_response(opendata.followup_json(process), "application/json")
