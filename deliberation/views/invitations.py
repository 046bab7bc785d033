"""Following an invitation link: ``/invite/<token>``.

Logged in, the invitee accepts and becomes a member. Without an account, they create one
on the same page (the command line's password rules) or log in first. A link that was
used, withdrawn or has expired says so and reveals nothing about the process.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..extensions import db, limiter
from ..models import Invitation, Process
from ..services.people import access, membership
from ..services.people.access import Capability
from ..services.people.membership import MembershipError
from .guard import SIGNED_IN, requires

bp = Blueprint("invitations", __name__, url_prefix="/invite")


class AcceptForm(FlaskForm):
    pass


class RegisterForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Your name (shown to the other members)"), validators=[Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


def _invalid_page():
    return render_template("members/invitation_invalid.html"), 404


def _page(invitation: Invitation, token: str, form: RegisterForm, status: int = 200):
    return render_template(
        "members/invitation.html",
        invitation=invitation,
        token=token,
        form=form,
        accept_form=AcceptForm(formdata=None),
    ), status


def _welcome(process_id: int):
    """The new member lands where their role works: the outline, or the live sessions."""
    process = db.session.get(Process, process_id)
    if process is None:
        return redirect(url_for("organize.index"))
    if access.can(current_user, process, Capability.VIEW):
        return redirect(url_for("organize.outline", slug=process.slug))
    return redirect(url_for("facilitate.session_list", slug=process.slug))


@bp.get("/<token>")
@limiter.limit("30 per minute")
def show(token: str):
    invitation = membership.valid_invitation(token)
    if invitation is None:
        return _invalid_page()
    return _page(invitation, token, RegisterForm(formdata=None))


@bp.post("/<token>")
@requires(SIGNED_IN)
def accept(token: str):
    if not AcceptForm().validate_on_submit():
        return redirect(url_for("invitations.show", token=token))
    try:
        joined = membership.accept(token, current_user)
    except MembershipError as error:
        flash(error.message, "error")
        return redirect(url_for("organize.index"))
    flash(_("Welcome: you are now a member of this process."), "success")
    return _welcome(joined.process_id)


@bp.post("/<token>/register")
@limiter.limit("10 per minute")
def register(token: str):
    invitation = membership.valid_invitation(token)
    if invitation is None:
        return _invalid_page()
    if current_user.is_authenticated:
        return redirect(url_for("invitations.show", token=token))
    form = RegisterForm()
    if not form.validate_on_submit():
        return _page(invitation, token, form, 400)
    try:
        organizer = membership.register_and_accept(
            token, form.email.data or "", form.password.data or "", form.name.data or ""
        )
    except MembershipError as error:
        flash(error.message, "error")
        return _page(invitation, token, form, 400)
    process_id = invitation.process_id
    login_user(organizer)
    flash(_("Your account is created and you are now a member of this process."), "success")
    return _welcome(process_id)
