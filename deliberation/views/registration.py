"""The public side of registration: the form (phone first), the confirmation page with the
personal ticket, the private link to change or cancel, and the ticket link its QR code
opens (with an organiser logged in, it checks the person in). The rules are in
``services.registration``; each view turns its input into one call."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..extensions import db, limiter
from ..models import Process, Registration
from ..offload import run_blocking
from ..services.live import admission, sessions
from ..services.people import access
from ..services.people.access import Capability
from ..services.registration import events, mail, registrations
from ..services.registration.errors import RegistrationError
from .live_common import group_choices, group_labels
from .once import once_per_form

bp = Blueprint("registration", __name__)


def _registration_limit() -> str:
    """Per address (config.PUBLIC_LIMITS): an office registering its team passes, a script
    filling an event's places does not."""
    return current_app.config["REGISTRATION_LIMIT"]


@bp.errorhandler(429)
def too_many(error: Any):
    message = _("Too many registrations from your network: please wait a little.")
    page = render_template("errors/400.html", title=_("Please wait"), message=message)
    return page, 429


def _process_taking_registrations(slug: str) -> Process:
    """The process, if it ever opened registration; otherwise a 404 that reveals nothing."""
    process = db.session.scalar(db.select(Process).filter_by(slug=slug))
    if process is None or not events.ever_opened(process):
        abort(404)
    return process


def form_context(process: Process, values: Any = None, errors: Any = None, **extra: Any) -> dict:
    listed = events.events_of(process)
    return {
        "process": process,
        "events": listed,
        "left": events.places_left(listed),
        "groups": group_choices(process),
        "values": values if values is not None else {},
        "chosen": {int(v) for v in (values.getlist("event_ids") if values else []) if v.isdigit()},
        "errors": errors or {},
        **extra,
    }


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = request.form.to_dict()
    data["event_ids"] = request.form.getlist("event_ids")
    return data


@bp.get("/p/<slug>/register")
def form(slug: str):
    process = _process_taking_registrations(slug)
    return render_template(
        "registration/form.html", **form_context(process, is_open=events.is_open(process))
    )


@bp.post("/p/<slug>/register")
@limiter.limit(_registration_limit)
@once_per_form
def submit(slug: str):
    process = _process_taking_registrations(slug)
    try:
        registration = registrations.register(process, _form_data())
    except RegistrationError as error:
        page = render_template(
            "registration/form.html",
            **form_context(
                process,
                request.form,
                error.errors,
                is_open=events.is_open(process),
                offer_waiting_list=error.full,
            ),
        )
        return page, 422
    link = url_for("registration.mine", secret=registration.secret, _external=True)
    if mail.send_confirmation(current_app.config, registration, link):
        flash(_("A confirmation was sent to %(email)s.", email=registration.email), "info")
    flash(_("You are registered. Keep this page: it is your ticket."), "success")
    return redirect(url_for("registration.mine", secret=registration.secret))


def _mine_or_404(secret: str) -> Registration:
    registration = registrations.by_secret(secret)
    if registration is None:
        abort(404)
    return registration


def ticket_url(registration: Registration) -> str:
    return url_for(
        "registration.ticket",
        slug=registration.process.slug,
        code=admission.format_ticket(registration.code),
        _external=True,
    )


@bp.get("/r/<secret>")
def mine(secret: str):
    registration = _mine_or_404(secret)
    url = ticket_url(registration)
    # segno's own SVG of a URL we built: markup we trust, not user text.
    qr = Markup(run_blocking(sessions.qr_svg, url))
    return (
        render_template(
            "registration/ticket.html",
            registration=registration,
            process=registration.process,
            code=admission.format_ticket(registration.code),
            qr=qr,
            group_labels=group_labels(),
        ),
        200,
        {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@bp.get("/r/<secret>/change")
def change_form(secret: str):
    registration = _mine_or_404(secret)
    if registration.cancelled_at is not None:
        return redirect(url_for("registration.mine", secret=secret))
    values = {
        "name": registration.name,
        "organisation": registration.organisation,
        "group": registration.group,
        "accessibility": registration.accessibility,
        "listed": registration.listed,
        "email": registration.email,
    }
    context = form_context(registration.process, None, None, registration=registration)
    context["values"] = values
    context["chosen"] = {place.event_id for place in registration.places}
    return render_template("registration/form.html", **context, is_open=True)


@bp.post("/r/<secret>/change")
@limiter.limit(_registration_limit)
def change(secret: str):
    registration = _mine_or_404(secret)
    try:
        registrations.update(registration, _form_data())
    except RegistrationError as error:
        context = form_context(
            registration.process,
            request.form,
            error.errors,
            registration=registration,
            offer_waiting_list=error.full,
        )
        return render_template("registration/form.html", **context, is_open=True), 422
    flash(_("Your registration is changed."), "success")
    return redirect(url_for("registration.mine", secret=secret))


@bp.post("/r/<secret>/cancel")
def cancel(secret: str):
    registration = _mine_or_404(secret)
    registrations.cancel(registration)
    flash(
        _("Your registration is cancelled. Your place goes to the next person waiting."), "success"
    )
    return redirect(url_for("registration.mine", secret=secret))


def _may_check_in(process: Process) -> bool:
    return current_user.is_authenticated and Capability.FACILITATE in access.capabilities(
        current_user, process
    )


@bp.route("/t/<slug>/<code>", methods=["GET", "POST"])
def ticket(slug: str, code: str):
    """What a ticket's QR code opens. Its holder sees where the ticket admits them (each
    session's join page, the ticket filled in). An organiser who may run the process's
    sessions checks the person in on opening it: at the door a scan is one gesture, and
    marking attendance twice changes nothing."""
    process = db.session.scalar(db.select(Process).filter_by(slug=slug))
    registration = registrations.by_code(process, code) if process is not None else None
    if registration is None:
        abort(404)
    checked: list[Any] = []
    problem = ""
    if _may_check_in(process):
        raw_event = request.form.get("event_id", "") if request.method == "POST" else ""
        event_id = int(raw_event) if raw_event.isdigit() and len(raw_event) < 10 else None
        try:
            checked = registrations.check_in(registration, event_id)
        except RegistrationError as error:
            problem = " ".join(error.errors.values())
        organiser = True
    else:
        if request.method == "POST":
            abort(403)
        organiser = False
    joins = [
        (
            live_session,
            url_for(
                "participate.join",
                code=live_session.join_code,
                ticket=admission.format_ticket(registration.code),
            ),
        )
        for place in registration.places
        if place.status == "confirmed"
        for live_session in place.event.sessions
    ]
    return (
        render_template(
            "registration/door.html",
            process=process,
            registration=registration,
            organiser=organiser,
            checked=checked,
            problem=problem,
            joins=joins if registration.cancelled_at is None else [],
            code=admission.format_ticket(registration.code),
            group_labels=group_labels(),
        ),
        200,
        {"Cache-Control": "no-store"},
    )
