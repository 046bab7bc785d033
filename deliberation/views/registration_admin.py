"""The organisers' side of registration: events, the registration window, the list of each
event with its counts per group, its CSV and Word sign-in sheet, registering someone on
their behalf and checking in by code at the door (``services.registration``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..documents import sign_in_sheet as sheet
from ..documents.jobs import DOCX_MIME
from ..extensions import db
from ..models import EVENT_KINDS, Event, LiveSession, Process
from ..offload import run_blocking
from ..services.people.access import Capability
from ..services.registration import events, lists, registrations
from ..services.registration.errors import RegistrationError
from .common import data_response, process_or_404
from .guard import requires
from .live_common import group_labels
from .once import once_per_form
from .registration import form_context

bp = Blueprint("registration_admin", __name__, url_prefix="/organize/<slug>/registration")


def kind_labels() -> dict[str, str]:
    return {"workshop": _("Workshop"), "assembly": _("General assembly")}


def _event_or_404(process: Process, event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or event.process_id != process.id:
        abort(404)
    return event


def _overview(slug: str):
    return redirect(url_for("registration_admin.index", slug=slug))


@bp.get("")
@requires(Capability.VIEW)
def index(slug: str):
    process = process_or_404(slug)
    listed = events.events_of(process)
    return render_template(
        "registration/admin.html",
        process=process,
        events=listed,
        taken=events.taken([e.id for e in listed]),
        window=events.window_of(process),
        is_open=events.is_open(process),
        kinds=kind_labels(),
        organisations=registrations.participating_organisations(process),
    )


@bp.post("/window")
@requires(Capability.EDIT)
def window(slug: str):
    process = process_or_404(slug)
    try:
        events.set_window(process, request.form.get("opened") == "1", request.form.get("closes_at"))
    except RegistrationError as error:
        flash(" ".join(error.errors.values()), "error")
        return _overview(slug)
    flash(_("Registration settings saved."), "success")
    return _overview(slug)


def _event_page(
    process: Process, event: Event | None, values: Any, errors: dict, status: int = 200
):
    sessions = db.session.scalars(
        db.select(LiveSession).filter_by(process_id=process.id).order_by(LiveSession.id)
    ).all()
    page = render_template(
        "registration/event_form.html",
        process=process,
        event=event,
        values=values,
        errors=errors,
        kinds=kind_labels(),
        kind_keys=EVENT_KINDS,
        sessions=sessions,
    )
    return page, status


def _event_values(event: Event) -> dict[str, Any]:
    return {
        "title": event.title,
        "kind": event.kind,
        "starts_at": event.starts_at.strftime(events.DATETIME_FORMAT),
        "place": event.place,
        "capacity": str(event.capacity),
        "territory_id": str(event.territory_id or ""),
        "session_ids": [str(s.id) for s in event.sessions],
    }


def _posted_event() -> dict[str, Any]:
    data: dict[str, Any] = request.form.to_dict()
    data["session_ids"] = request.form.getlist("session_ids")
    return data


@bp.get("/events/new")
@requires(Capability.EDIT)
def new_event(slug: str):
    process = process_or_404(slug)
    return _event_page(process, None, {"kind": "workshop", "session_ids": []}, {})


@bp.post("/events/new")
@requires(Capability.EDIT)
@once_per_form
def create_event(slug: str):
    process = process_or_404(slug)
    try:
        events.save_event(process, _posted_event())
    except RegistrationError as error:
        return _event_page(process, None, _posted_event(), error.errors, 422)
    flash(_("Event saved."), "success")
    return _overview(slug)


@bp.get("/events/<int:event_id>/edit")
@requires(Capability.EDIT)
def edit_event(slug: str, event_id: int):
    process = process_or_404(slug)
    event = _event_or_404(process, event_id)
    return _event_page(process, event, _event_values(event), {})


@bp.post("/events/<int:event_id>/edit")
@requires(Capability.EDIT)
def update_event(slug: str, event_id: int):
    process = process_or_404(slug)
    event = _event_or_404(process, event_id)
    try:
        events.save_event(process, _posted_event(), event)
    except RegistrationError as error:
        return _event_page(process, event, _posted_event(), error.errors, 422)
    flash(_("Event saved."), "success")
    return _overview(slug)


@bp.post("/events/<int:event_id>/delete")
@requires(Capability.EDIT)
def delete_event(slug: str, event_id: int):
    process = process_or_404(slug)
    events.delete_event(_event_or_404(process, event_id))
    flash(_("Event deleted, with its registrations' places."), "success")
    return _overview(slug)


@bp.get("/events/<int:event_id>")
@requires(Capability.VIEW)
def roster(slug: str, event_id: int):
    process = process_or_404(slug)
    event = _event_or_404(process, event_id)
    places = registrations.roster(event)
    return render_template(
        "registration/roster.html",
        process=process,
        event=event,
        places=places,
        counts=registrations.group_counts(places),
        group_labels=group_labels(),
        kinds=kind_labels(),
    )


@bp.get("/events/<int:event_id>/registrations.csv")
@requires(Capability.EXPORT)
def roster_csv(slug: str, event_id: int):
    process = process_or_404(slug)
    event = _event_or_404(process, event_id)
    body = lists.roster_csv(registrations.roster(event), group_labels())
    return data_response(body, "text/csv", f"{process.slug}-event-{event.id}.csv")


@bp.get("/events/<int:event_id>/sign-in.docx")
@requires(Capability.EXPORT)
def sign_in_sheet(slug: str, event_id: int):
    process = process_or_404(slug)
    event = _event_or_404(process, event_id)
    headings = {
        "when": f"{event.starts_at:%d/%m/%Y %H:%M} · {event.place}",
        "name": _("Name"),
        "organisation": _("Organisation"),
        "group": _("Participant group"),
        "ticket": _("Ticket"),
        "signature": _("Signature"),
    }
    labels = group_labels()
    rows = lists.sign_in_rows(registrations.roster(event), labels)
    # Read now (the request's database session); the document is built off the event loop.
    body = run_blocking(sheet.sign_in_sheet, event.title, rows, process.language, headings)
    return data_response(body, DOCX_MIME, f"{process.slug}-sign-in-{event.id}.docx")


@bp.get("/new")
@requires(Capability.EDIT)
def on_behalf_form(slug: str):
    process = process_or_404(slug)
    return render_template(
        "registration/form.html", **form_context(process, on_behalf=True), is_open=True
    )


@bp.post("/new")
@requires(Capability.EDIT)
@once_per_form
def on_behalf(slug: str):
    process = process_or_404(slug)
    data: dict[str, Any] = request.form.to_dict()
    data["event_ids"] = request.form.getlist("event_ids")
    try:
        registration = registrations.register(process, data, by_organiser=True)
    except RegistrationError as error:
        context = form_context(
            process, request.form, error.errors, on_behalf=True, offer_waiting_list=error.full
        )
        return render_template("registration/form.html", **context, is_open=True), 422
    flash(_("Registered: %(name)s. Give them this ticket.", name=registration.name), "success")
    return redirect(url_for("registration.mine", secret=registration.secret))


@bp.post("/check-in")
@requires(Capability.FACILITATE)
def check_in(slug: str):
    """At the door, the ticket's code typed in (the ticket's QR code does the same)."""
    process = process_or_404(slug)
    registration = registrations.by_code(process, request.form.get("code"))
    back = request.form.get("back") or url_for("registration_admin.index", slug=slug)
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("registration_admin.index", slug=slug)
    if registration is None:
        flash(_("No registration has this ticket code."), "error")
        return redirect(back)
    raw = request.form.get("event_id", "")
    event_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    try:
        marked = registrations.check_in(registration, event_id)
    except RegistrationError as error:
        flash(" ".join(error.errors.values()), "error")
        return redirect(back)
    if marked:
        flash(_("Checked in: %(name)s.", name=registration.name), "success")
    else:
        flash(_("%(name)s was already checked in.", name=registration.name), "info")
    return redirect(back)
