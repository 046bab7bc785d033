"""Organiser log-in, log-out and "change my password"."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ..extensions import login_manager
from ..live import broadcast
from ..models import Organizer
from ..services.people import accounts, throttles
from ..services.people.passwords import MAX_LENGTH
from .guard import SIGNED_IN, requires

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_organizer(login_id: str) -> Organizer | None:
    # "<id>:<epoch>" (Organizer.get_id): a cookie from before the last log-out is refused.
    return accounts.organizer_for_login_id(login_id)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField(_l("Stay logged in on this computer (30 days at most)"))


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    new = PasswordField(
        _l("New password"),
        description=_l(
            "At least 10 characters; a few words you will remember make a good one. Not your "
            "e-mail address, not a common password."
        ),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so a crafted link cannot send the organiser elsewhere."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("organize.index")


def _too_many_attempts(seconds: int) -> str:
    minutes = throttles.minutes(seconds)
    return ngettext(
        "Too many log-in attempts for this account or from this network. "
        "Try again in %(num)d minute.",
        "Too many log-in attempts for this account or from this network. "
        "Try again in %(num)d minutes.",
        minutes,
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "POST":
        # Counted before the password is checked: the right password after too many
        # attempts is refused too, so the throttle cannot be used to test guesses.
        wait = throttles.login_attempt(
            throttles.address_key(request.remote_addr), request.form.get("email") or ""
        )
        if wait:
            flash(_too_many_attempts(wait), "error")
            return render_template("auth/login.html", form=form), 429
    if form.validate_on_submit():
        organizer = accounts.authenticate(form.email.data or "", form.password.data or "")
        if organizer is not None:
            login_user(organizer, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=organizer.name or organizer.email), "success")
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@requires(SIGNED_IN)
def logout():
    """Log out everywhere: every session and remember-me cookie of this organiser stops
    working, and their console sockets are disconnected."""
    organizer = current_user._get_current_object()
    accounts.end_sessions(organizer)
    broadcast.organizer_signed_out(organizer.id)
    logout_user()
    flash(_("You are logged out, on every device."), "info")
    return redirect(url_for("public.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(SIGNED_IN)  # one's own account, no process concerned
def change_password():
    organizer = current_user._get_current_object()
    form = PasswordForm()
    if request.method == "POST":
        wait = throttles.login_attempt(throttles.address_key(request.remote_addr), organizer.email)
        if wait:
            flash(_too_many_attempts(wait), "error")
            return render_template("auth/password.html", form=form), 429
    if form.validate_on_submit():
        try:
            accounts.change_password(organizer, form.current.data or "", form.new.data or "")
        except accounts.AccountError as error:
            target = form.current if error.code == "wrong_password" else form.new
            target.errors = [*target.errors, str(error.message)]
        else:
            broadcast.organizer_signed_out(organizer.id)
            # The epoch moved on: this browser gets cookies of the new one, the others none.
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(organizer, remember=remembered in request.cookies)
            flash(
                _(
                    "Your password is changed. Every other session of yours has ended; "
                    "reload any console page still open."
                ),
                "success",
            )
            return redirect(url_for("organize.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
