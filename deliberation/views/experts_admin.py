"""The organisers' side of experts' inputs: invite an expert to a field (the personal link
shown once), renew or withdraw the link, review what they submit (accept, ask for changes
with a comment, decline). Rules in ``services.experts.invitations``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..models import EXPERT_ROLES, JUSTIFICATION_MAX, TITLE_MAX, ExpertInvitation, Process
from ..services.experts import invitations, writing
from ..services.experts.writing import ExpertError
from ..services.people.access import Capability
from .common import process_or_404
from .experts import state_labels
from .guard import requires
from .once import once_per_form
from .organize_forms import ROLE_LABELS, STANCE_LABELS

bp = Blueprint("experts_admin", __name__, url_prefix="/organize/<slug>/experts")

# The link just made waits under this key for the page that shows it, once.
NEW_LINK_KEY = "new_expert_link"


def _index(process: Process, errors: dict | None = None, values: dict | None = None, status=200):
    new_link = session.pop(NEW_LINK_KEY, None)
    return (
        render_template(
            "experts/admin.html",
            process=process,
            invitations=invitations.invitations_of(process),
            new_link=new_link if isinstance(new_link, dict) else None,
            roles=[(role, ROLE_LABELS[role]) for role in EXPERT_ROLES],
            states=state_labels(),
            errors=errors or {},
            values=values or {},
            name_max=120,
            title_max=TITLE_MAX,
        ),
        status,
        {"Cache-Control": "no-store"},
    )


def _invitation_or_404(process: Process, invitation_id: int) -> ExpertInvitation:
    invitation = invitations.invitation_of(process, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


def _show_link(invitation: ExpertInvitation, token: str) -> None:
    session[NEW_LINK_KEY] = {
        "name": invitation.name,
        "url": url_for("experts.write", token=token, _external=True),
    }


@bp.get("")
@requires(Capability.VIEW)
def index(slug: str):
    return _index(process_or_404(slug))


@bp.post("")
@requires(Capability.EDIT)
@once_per_form
def invite(slug: str):
    process = process_or_404(slug)
    try:
        invitation, token = invitations.invite(process, request.form.to_dict(), current_user.email)
    except ExpertError as error:
        return _index(process, error.errors, request.form.to_dict(), 422)
    _show_link(invitation, token)
    flash(_("Invitation created: copy the link below and send it to the expert."), "success")
    return redirect(url_for("experts_admin.index", slug=process.slug, _anchor="new-link"))


@bp.get("/<int:expert_id>")
@requires(Capability.VIEW)
def review_page(slug: str, expert_id: int):
    process = process_or_404(slug)
    invitation = _invitation_or_404(process, expert_id)
    return render_template(
        "experts/review.html",
        process=process,
        invitation=invitation,
        questions=writing.hypotheses_of(invitation),
        states=state_labels(),
        stance_labels=STANCE_LABELS,
        why_max=JUSTIFICATION_MAX,
        errors={},
    )


def _back(process: Process, invitation: ExpertInvitation):
    return redirect(
        url_for("experts_admin.review_page", slug=process.slug, expert_id=invitation.id), 303
    )


@bp.post("/<int:expert_id>/review")
@requires(Capability.EDIT)
def review(slug: str, expert_id: int):
    process = process_or_404(slug)
    invitation = _invitation_or_404(process, expert_id)
    decision = request.form.get("decision", "")
    try:
        invitations.review(
            process, invitation.id, decision, request.form.get("comment", ""), current_user.email
        )
    except ExpertError as error:
        for message in error.errors.values():
            flash(message, "error")
        return _back(process, invitation)
    flash(
        {
            "accepted": _(
                "Accepted: the input is now in the outline, and the link no longer works."
            ),
            "changes_requested": _("The expert will read your comment on their page."),
            "declined": _("Declined: the expert will read it on their page."),
        }[decision],
        "success",
    )
    return _back(process, invitation)


@bp.post("/<int:expert_id>/link")
@requires(Capability.EDIT)
def new_link(slug: str, expert_id: int):
    process = process_or_404(slug)
    invitation = _invitation_or_404(process, expert_id)
    try:
        token = invitations.new_link(process, invitation.id)
    except ExpertError as error:
        flash(error.errors[""], "error")
    else:
        _show_link(invitation, token)
        flash(_("A new link was made: the old one no longer works."), "success")
    return redirect(url_for("experts_admin.index", slug=process.slug, _anchor="new-link"), 303)


@bp.post("/<int:expert_id>/withdraw")
@requires(Capability.EDIT)
def withdraw(slug: str, expert_id: int):
    process = process_or_404(slug)
    invitation = _invitation_or_404(process, expert_id)
    try:
        invitations.withdraw(process, invitation.id)
    except ExpertError as error:
        flash(error.errors[""], "error")
    else:
        flash(_("Invitation withdrawn: its link no longer works."), "success")
    return redirect(url_for("experts_admin.index", slug=process.slug), 303)
