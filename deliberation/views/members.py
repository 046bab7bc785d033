"""The members page of a process: who may touch it, invitations, and the record of changes.

Co-organisers read it; owners (and administrators) invite, change roles and remove. Each
action is one call to :mod:`services.people.membership`; the access check is ``views.guard``'s.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from ..live.revoke import recheck_facilitators
from ..models import MEMBER_ROLES, TITLE_MAX, Process
from ..services.people import membership
from ..services.people.access import Capability
from ..services.people.membership import MembershipError
from ..translated import once_per_locale
from .common import process_or_404
from .guard import requires
from .once import once_per_form

bp = Blueprint("members", __name__, url_prefix="/organize/<slug>/members")

# The key under which the link just created waits for the page that shows it, once.
NEW_LINK_KEY = "new_invitation_link"


@once_per_locale  # every page's templates are given it (_labels below): built once
def member_role_labels() -> dict[str, str]:
    return {
        "owner": _("Owner"),
        "co_organizer": _("Co-organiser"),
        "facilitator": _("Facilitator"),
    }


def event_labels() -> dict[str, str]:
    return {
        "invited": _("invitation created"),
        "invitation_withdrawn": _("invitation withdrawn"),
        "joined": _("joined through an invitation"),
        "added": _("member added"),
        "role_changed": _("role changed"),
        "removed": _("member removed"),
    }


@bp.app_context_processor
def _labels() -> dict:
    return {"member_role_labels": member_role_labels()}


class RoleForm(FlaskForm):
    # The service checks the values and says what is wrong (a territory for a co-organiser…).
    role = SelectField(_l("Role"), validate_choice=False)
    territory_id = SelectField(_l("Territory (facilitators only)"), validate_choice=False)


class InviteForm(RoleForm):
    label = StringField(
        _l("For whom (a name or an e-mail, to remember)"), render_kw={"maxlength": TITLE_MAX}
    )


def _prepare(form: RoleForm, process: Process) -> RoleForm:
    labels = member_role_labels()
    form.role.choices = [(role, labels[role]) for role in MEMBER_ROLES]
    form.territory_id.choices = [("", _("Every session of the process"))] + [
        (str(t.id), t.name) for t in process.territories
    ]
    return form


def _territory_id(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def _back(process: Process, anchor: str = ""):
    return redirect(url_for("members.index", slug=process.slug, _anchor=anchor or None))


@bp.get("")
@requires(Capability.VIEW)
def index(slug: str):
    process = process_or_404(slug)
    new_link = session.pop(NEW_LINK_KEY, None)
    return render_template(
        "members/index.html",
        process=process,
        members=membership.members(process),
        invitations=membership.pending_invitations(process),
        events=membership.history(process),
        event_labels=event_labels(),
        invite_form=_prepare(InviteForm(formdata=None), process),
        role_form=_prepare(RoleForm(formdata=None), process),
        new_link=new_link if isinstance(new_link, str) else None,
        days=membership.invitation_days(),
    )


@bp.post("/invitations")
@requires(Capability.MANAGE_MEMBERS)
@once_per_form
def invite(slug: str):
    process = process_or_404(slug)
    form = _prepare(InviteForm(), process)
    if not form.validate_on_submit():
        flash(_("Choose a role: owner, co-organiser or facilitator."), "error")
        return _back(process, "invite")
    try:
        created = membership.invite(
            process,
            current_user.email,
            request.form.get("role"),
            territory_id=_territory_id(request.form.get("territory_id")),
            label=request.form.get("label", ""),
        )
    except MembershipError as error:
        flash(error.message, "error")
        return _back(process, "invite")
    session[NEW_LINK_KEY] = url_for("invitations.show", token=created.token, _external=True)
    flash(_("Invitation created: copy the link below and send it."), "success")
    return _back(process, "new-link")


@bp.post("/invitations/<int:invitation_id>/withdraw")
@requires(Capability.MANAGE_MEMBERS)
def withdraw(slug: str, invitation_id: int):
    process = process_or_404(slug)
    if FlaskForm().validate_on_submit():
        try:
            membership.withdraw_invitation(process, current_user.email, invitation_id)
        except MembershipError as error:
            flash(error.message, "error")
        else:
            flash(_("Invitation withdrawn: its link no longer works."), "success")
    return _back(process, "invitations")


@bp.post("/<int:membership_id>/role")
@requires(Capability.MANAGE_MEMBERS)
def change_role(slug: str, membership_id: int):
    process = process_or_404(slug)
    form = _prepare(RoleForm(), process)
    if form.validate_on_submit():
        try:
            changed = membership.change_role(
                process,
                current_user.email,
                membership_id,
                request.form.get("role"),
                territory_id=_territory_id(request.form.get("territory_id")),
            )
        except MembershipError as error:
            flash(error.message, "error")
        else:
            recheck_facilitators(process.id)
            flash(_("Role of %(email)s changed.", email=changed.organizer.email), "success")
    else:
        flash(_("Choose a role: owner, co-organiser or facilitator."), "error")
    return _back(process, "members")


@bp.post("/<int:membership_id>/remove")
@requires(Capability.MANAGE_MEMBERS)
def remove(slug: str, membership_id: int):
    process = process_or_404(slug)
    if FlaskForm().validate_on_submit():
        try:
            removed = membership.remove_member(process, current_user.email, membership_id)
        except MembershipError as error:
            flash(error.message, "error")
        else:
            recheck_facilitators(process.id)
            flash(_("%(email)s is no longer a member.", email=removed.email), "success")
            if removed.organizer_id == current_user.id and not current_user.is_admin:
                return redirect(url_for("organize.index"))
    return _back(process, "members")
