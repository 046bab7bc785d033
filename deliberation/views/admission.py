"""Who may join a session, for its organisers and facilitators: open joining or personal
tickets, the head count expected in the room, ticket sheets to print, and voiding a lost
ticket (the rules live in ``services.live.admission``).

Whoever runs the session (facilitators included) reads this page, sets the head count,
voids and replaces a lost ticket at the desk and prints tickets; choosing open joining or
tickets, and issuing tickets, decide who may vote: owners and co-organisers only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..extensions import db
from ..live import broadcast
from ..models import LiveSession, Ticket
from ..offload import run_blocking
from ..services.live import admission, sessions
from ..services.live.sessions import SessionError
from ..services.live.voting import VoteError
from ..services.people.access import Capability
from ..services.registration import events as registration_events
from .guard import requires
from .live_common import session_locale
from .once import once_per_form

bp = Blueprint("admission", __name__, url_prefix="/facilitate/session/<int:session_id>")

# Tickets per printed page: 8 per A4 sheet. Each QR code costs a few milliseconds of CPU,
# so a long list is printed in parts rather than drawn in one request.
TICKETS_PER_SHEET = 8
TICKETS_PER_PRINT = 96


def _session_or_404(session_id: int) -> LiveSession:
    live_session = db.session.get(LiveSession, session_id)
    if live_session is None:
        abort(404)
    return live_session


def _back(live_session: LiveSession):
    """Back to the page the form was on: the console, or the tickets page."""
    if request.form.get("back") == "console":
        return redirect(url_for("facilitate.console", session_id=live_session.id) + "#admission")
    return redirect(url_for("admission.tickets", session_id=live_session.id))


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


@bp.get("/tickets")
@requires(Capability.FACILITATE)
def tickets(session_id: int):
    live_session = _session_or_404(session_id)
    return render_template(
        "live/tickets.html",
        live_session=live_session,
        process=live_session.process,
        counts=sessions.ticket_counts(live_session) or {"issued": 0, "used": 0, "voided": 0},
        joined=sessions.joined_count(live_session),
        batches=admission.batches(live_session),
        max_batch=admission.MAX_TICKETS_PER_BATCH,
        per_print=TICKETS_PER_PRINT,
        replacement=request.args.get("replacement", ""),
        # The registration's events held in this session: check-in by code at the desk.
        events=registration_events.of_session(live_session),
    )


def _changed(live_session: LiveSession, message: str):
    broadcast.session_changed(live_session.id)  # the console's counts changed
    flash(message, "success")
    return _back(live_session)


def _refused(live_session: LiveSession, error: SessionError | VoteError):
    flash(str(error.message), "error")
    return _back(live_session)


@bp.post("/admission")
@requires(Capability.EDIT)
def set_admission(session_id: int):
    live_session = _session_or_404(session_id)
    try:
        admission.set_admission(live_session, request.form.get("admission"))
    except SessionError as error:
        return _refused(live_session, error)
    return _changed(live_session, _("Admission updated."))


@bp.post("/expected")
@requires(Capability.FACILITATE)
def set_expected(session_id: int):
    live_session = _session_or_404(session_id)
    raw = (request.form.get("expected") or "").strip()
    expected: Any = None if not raw else _int_or_none(raw)
    if raw and expected is None:
        expected = -1  # not a whole number: refused by the service, with its message
    try:
        admission.set_expected(live_session, expected)
    except SessionError as error:
        return _refused(live_session, error)
    return _changed(live_session, _("Expected head count updated."))


@bp.post("/tickets")
@requires(Capability.EDIT)
@once_per_form
def issue(session_id: int):
    live_session = _session_or_404(session_id)
    count = _int_or_none(request.form.get("count"))
    try:
        batch = admission.issue_tickets(live_session, count if count is not None else -1)
    except (SessionError, VoteError) as error:
        return _refused(live_session, error)
    broadcast.session_changed(live_session.id)
    flash(_("%(n)d tickets issued (batch %(batch)d).", n=count, batch=batch), "success")
    return redirect(url_for("admission.tickets", session_id=live_session.id))


@bp.post("/tickets/void")
@requires(Capability.FACILITATE)
def void(session_id: int):
    live_session = _session_or_404(session_id)
    try:
        replacement = admission.void_ticket(live_session, request.form.get("code"))
    except (SessionError, VoteError) as error:
        return _refused(live_session, error)
    broadcast.session_changed(live_session.id)
    code = admission.format_ticket(replacement.code)
    flash(
        _(
            "Ticket voided: its place can no longer vote. Replacement ticket: %(code)s.",
            code=code,
        ),
        "success",
    )
    if request.form.get("back") == "console":
        return _back(live_session)
    return redirect(url_for("admission.tickets", session_id=live_session.id, replacement=code))


def _qr_codes(urls: list[str]) -> list[str]:
    """The QR codes of many URLs: CPU work, run in a native thread (see offload)."""
    return [sessions.qr_svg(url) for url in urls]


@bp.get("/tickets/print")
@requires(Capability.FACILITATE)
def print_sheet(session_id: int):
    """Tickets to print, 8 per A4 sheet: one batch, one ticket, or every unused one."""
    live_session = _session_or_404(session_id)
    batch = _int_or_none(request.args.get("batch"))
    single = admission.normalize_ticket(request.args.get("ticket"))
    if single:
        chosen = [
            ticket
            for ticket in admission.tickets_of(live_session)
            if ticket.code == single and ticket.voided_at is None
        ]
    else:
        chosen = admission.tickets_of(live_session, batch)
    part = max(1, _int_or_none(request.args.get("part")) or 1)
    parts = max(1, -(-len(chosen) // TICKETS_PER_PRINT))
    shown: list[Ticket] = chosen[(part - 1) * TICKETS_PER_PRINT : part * TICKETS_PER_PRINT]
    urls = [
        url_for(
            "participate.join",
            code=live_session.join_code,
            ticket=admission.format_ticket(ticket.code),
            _external=True,
        )
        for ticket in shown
    ]
    # segno's own SVG of URLs we built: markup we trust, not user text.
    codes = [Markup(svg) for svg in run_blocking(_qr_codes, urls)]
    join_url = url_for("participate.join", code=live_session.join_code, _external=True)
    with session_locale(live_session):
        return render_template(
            "live/tickets_print.html",
            live_session=live_session,
            tickets=[
                {"code": admission.format_ticket(ticket.code), "qr": qr}
                for ticket, qr in zip(shown, codes, strict=True)
            ],
            per_sheet=TICKETS_PER_SHEET,
            join_url=join_url,
            join_host=join_url.split("://", 1)[-1].split("/", 1)[0],
            part=part,
            parts=parts,
            batch=batch,
        )
