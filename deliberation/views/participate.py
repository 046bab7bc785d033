"""Participants' pages: join by code, the phone's ballot page, its QR code, and the HTTP
twin of the Socket.IO ``vote`` event (see docs/protocol.md)."""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from .. import inputs, refusals
from ..extensions import csrf, db
from ..live import broadcast, proposals
from ..models import LiveSession, Participant
from ..refusals import Refused
from ..services.live import (
    admission,
    amendments,
    ballots,
    phone_forms,
    phone_page,
    phone_seats,
    sessions,
    voting,
)
from . import phone_view
from .common import refusal_response
from .live_common import (
    CODE_INPUT_MAX,
    TooManyCodeGuesses,
    group_choices,
    page_language,
    phone_words,
    propose_config,
    session_and_participant,
    session_for_code,
    session_locale,
    too_many_code_guesses,
)
from .phone_view import easy_read_mode

bp = Blueprint("participate", __name__)
bp.register_error_handler(TooManyCodeGuesses, too_many_code_guesses)
# The phone page's words and its proposal form's script strings, built once per language
# (templates/live/phone.html, _propose.html, wherever they are drawn).
bp.add_app_template_global(phone_words, "phone_words")
bp.add_app_template_global(propose_config, "propose_config")
# Its links, built once per session code (the proposal form, drawn on its own, finds them).
bp.add_app_template_global(phone_view.phone_links, "phone_links")

TOKEN_COOKIE = "participant_token"
TOKEN_MAX_AGE = 30 * 24 * 3600
# A random id per phone (browser): the join throttles count per device, and the phone that
# claimed a ticket gets its place back with it. Only its hash is ever stored.
DEVICE_COOKIE = "device_id"
DEVICE_MAX_AGE = 365 * 24 * 3600
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
TICKET_INPUT_MAX = 40
NAME_MAX = 80


def _session_or_404(code: str) -> LiveSession:
    live_session = session_for_code(code)
    if live_session is None:
        abort(
            make_response(render_template("live/not_found.html", code=code[:CODE_INPUT_MAX]), 404)
        )
    return live_session


def _holds_place_in(live_session: LiveSession, token: str | None) -> bool:
    """Whether ``token`` still holds a place in this session (one read, no ORM object)."""
    identity = sessions.phone_identity(sessions.token_claims(token))
    return identity is not None and identity.session_id == live_session.id


def _device_id() -> str:
    """This phone's device id: its cookie, or a new one (set on the response)."""
    kept = request.cookies.get(DEVICE_COOKIE) or ""
    return kept if DEVICE_ID.match(kept) else admission.new_device_id()


def _secure_cookies() -> bool:
    """As the organisers' cookies (COOKIE_SECURE, on behind a proxy), or whenever the
    request came over HTTPS."""
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _with_device_cookie(response: Response, device: str) -> Response:
    if request.cookies.get(DEVICE_COOKIE) != device:
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=_secure_cookies(),
        )
    return response


def _with_token_cookie(response: Response, token: str) -> Response:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=TOKEN_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=_secure_cookies(),
    )
    return response


@bp.get("/j")
def enter_code():
    code = (request.args.get("code") or "").strip()
    if not code:
        return render_template("live/enter_code.html", code="", error=None)
    live_session = session_for_code(code)
    if live_session is None:
        error = _(
            "No session has the code %(code)s. Check the code shown on the screen.",
            code=code[:CODE_INPUT_MAX].upper(),
        )
        page = render_template("live/enter_code.html", code=code[:CODE_INPUT_MAX], error=error)
        return page, 404
    return redirect(url_for("participate.join", code=live_session.join_code))


def _join_page(live_session: LiveSession, status: int = 200, **form: Any) -> Response:
    with session_locale(live_session):
        page = render_template(
            "live/join.html",
            easy=easy_read_mode(live_session.easy_read),
            live_session=live_session,
            groups=group_choices(live_session.process),
            name=form.get("name", ""),
            group=form.get("group", ""),
            organisation=form.get("organisation", ""),
            organisation_max=sessions.ORGANISATION_MAX,
            ticket=form.get("ticket", ""),
            errors=form.get("errors", {}),
            error_code=form.get("error_code", ""),
            name_max=NAME_MAX,
            ticket_max=TICKET_INPUT_MAX,
        )
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"  # it may carry a ticket code
    return _with_device_cookie(response, form.get("device") or _device_id())


def _ticket_input(raw: str | None) -> str:
    """A ticket as typed or carried by its QR code, shown back as XXXXX-XXXXX."""
    return admission.format_ticket(admission.normalize_ticket((raw or "")[:TICKET_INPUT_MAX]))


@bp.get("/j/<code>")
def join(code: str):
    live_session = _session_or_404(code)
    if code != live_session.join_code:
        return redirect(
            url_for("participate.join", code=live_session.join_code, **request.args.to_dict())
        )
    if _holds_place_in(live_session, request.cookies.get(TOKEN_COOKIE)):
        # Scanning the QR code again leads back to one's own ballot page.
        return redirect(url_for("participate.phone", code=live_session.join_code))
    return _join_page(live_session, ticket=_ticket_input(request.args.get("ticket")))


@bp.post("/j/<code>")
def join_post(code: str):
    live_session = _session_or_404(code)
    # A phone that already joined (token in its cookie, or in its localStorage when the
    # cookie was lost) comes back as the same participant rather than as a second voter.
    for kept in (request.form.get("token"), request.cookies.get(TOKEN_COOKIE)):
        if _holds_place_in(live_session, kept):
            response = redirect(url_for("participate.phone", code=live_session.join_code))
            return _with_token_cookie(response, kept)

    name = " ".join(sessions.printable(request.form.get("name") or "").split())
    group = (request.form.get("group") or "").strip()
    organisation = " ".join(sessions.printable(request.form.get("organisation") or "").split())
    ticket = _ticket_input(request.form.get("ticket"))
    device = _device_id()
    errors: dict[str, str] = {}
    with session_locale(live_session):
        if len(name) > NAME_MAX:
            errors["name"] = _(
                "A name has at most %(max)d characters (this one has %(n)d).",
                max=NAME_MAX,
                n=len(name),
            )
        if len(organisation) > sessions.ORGANISATION_MAX:
            errors["organisation"] = _(
                "An organisation has at most %(max)d characters (this one has %(n)d).",
                max=sessions.ORGANISATION_MAX,
                n=len(organisation),
            )
        if group and group not in (live_session.process.groups or []):
            errors["group"] = str(refusals.message("invalid_group"))
    form = {
        "name": name,
        "group": group,
        "organisation": organisation,
        "ticket": ticket,
        "device": device,
    }
    if errors:
        return _join_page(live_session, 400, **{**form, "group": ""}, errors=errors)
    visitor = admission.Visitor(device=device, address=get_remote_address() or "")
    try:
        participant, token = admission.admit(
            live_session, visitor, name, group, ticket, organisation
        )
    except admission.AdmissionError as error:
        field = "ticket" if error.code.startswith(("ticket", "unknown_ticket")) else "form"
        status = error.status
        with session_locale(live_session):
            message = str(error.message)
        response = _join_page(
            live_session, status, **form, errors={field: message}, error_code=error.code
        )
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    except sessions.SessionError as error:
        with session_locale(live_session):
            message = str(error.message)
        return _join_page(
            live_session, 400, **form, errors={"form": message}, error_code=error.code
        )
    # The ballot page itself, not a redirect to it: on a slow network each request costs a
    # round trip (2 s on "Slow 3G"), and this one is on every participant's way in. Its
    # address becomes /s/<CODE> (phone.js: history.replaceState; without scripts, the page's
    # refresh and forms lead there); a reload re-posting this form finds the token cookie.
    response = _phone_page_of(live_session, participant, token)
    return _with_device_cookie(_with_token_cookie(response, token), device)


def _joined(code: str) -> tuple[LiveSession, Participant | None, str | None]:
    token = request.cookies.get(TOKEN_COOKIE)
    found = session_and_participant(code, token)  # one query on the way of every phone
    if found is not None:
        return found[0], found[1], token
    # Not joined (or not to this session): the session alone, for the way to its join page.
    return _session_or_404(code), None, token


@bp.get("/s/<code>")
def phone(code: str):
    token = request.cookies.get(TOKEN_COOKIE)
    found = phone_view.seat_and_state(code, token)  # one read, with the session's state kept
    if found is None:
        # Not joined (or not to this session): the session alone, for the way to its join
        # page (under its own address first, when the code was typed otherwise).
        live_session = _session_or_404(code)
        if code != live_session.join_code:
            return redirect(url_for("participate.phone", code=live_session.join_code))
        return redirect(url_for("participate.join", code=live_session.join_code))
    seat, state = found
    if code != seat.join_code:
        return redirect(url_for("participate.phone", code=seat.join_code))
    sent = request.args.get("sent")
    sent = sent if sent in phone_view.SENT_NOTICES else None
    writing = request.args.get("write") == "1"
    return phone_view.page(seat, state, token, sent=sent, writing=writing)


def _phone_page_of(
    live_session: LiveSession,
    participant: Participant,
    token: str | None,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The phone page of ORM objects already read (the join form's answer, a refusal)."""
    seat = phone_seats.seat_of(live_session, participant)
    return phone_view.page(seat, phone_view.state_of(seat), token, status, **extra)


def _back_to_phone(live_session: LiveSession, sent: str, anchor: str) -> Response:
    # 303: the browser comes back with a GET, so reloading never posts the form again.
    url = url_for("participate.phone", code=live_session.join_code, sent=sent, _anchor=anchor)
    return redirect(url, 303)


@bp.post("/s/<code>/vote")
def vote_form(code: str):
    """A ballot from the phone page's plain form: the same ``cast`` as the socket's."""
    token = request.cookies.get(TOKEN_COOKIE)
    fields = request.form.to_dict()
    found = phone_view.seat_and_posted_poll(code, token, phone_forms.posted_poll_id(fields))
    if found is None:
        live_session = _session_or_404(code)
        return redirect(url_for("participate.join", code=live_session.join_code), 303)
    seat, poll = found
    with force_locale(page_language(seat.language)):
        try:
            result = phone_forms.cast_form(seat.participant_id, seat.session_id, poll, fields)
        except voting.VoteError as error:
            return phone_view.page(
                seat,
                phone_view.state_of(seat),
                token,
                error.status,
                fields=fields,
                vote_error=str(error.message),
            )
    if not result.duplicate:
        broadcast.ballot_counted(result.session_id)
    # The page with its confirmation at once, not a redirect to it: a round trip less on a
    # slow network (docs/benchmarks.md). Posting it again (a reload) sends the same ballot
    # id, a resend counted once; the form's action ends in #vote-status, where the page opens.
    # The seat read before the cast still holds (plain values), and the ballot just cast
    # says that the participant voted: the answer reads nothing more.
    state = phone_view.state_of(seat, voted_in_poll=result.poll_id)
    return phone_view.page(seat, state, token, sent="vote")


@bp.get("/s/<code>/vote")
def vote_form_again(code: str):
    """The address a form post left in the bar, opened again: the phone page."""
    return redirect(url_for("participate.phone", code=code))


@bp.post("/s/<code>/propose")
def propose_form(code: str):
    """A proposal from the phone page's plain form: the same service as ``propose``."""
    live_session, participant, token = _joined(code)
    if participant is None:
        return redirect(url_for("participate.join", code=live_session.join_code), 303)
    form = request.form.to_dict()
    with session_locale(live_session):
        try:
            _proposal, duplicate = phone_forms.propose_form(participant, form)
        except amendments.ProposalError as error:
            proposal = {
                "kind": form.get("propose-kind", ""),
                "text": form.get("text", ""),
                "error": str(error.message),
            }
            return _phone_page_of(live_session, participant, token, error.status, proposal=proposal)
    if not duplicate:
        proposals.announce(live_session.id)
    return _back_to_phone(live_session, "proposal", "propose-status")


@bp.post("/s/<code>/easy-read")
def easy_read(code: str):
    """The participant switches the easy-to-read mode on or off: remembered on this phone
    (a cookie), a plain form post that works without JavaScript."""
    live_session = _session_or_404(code)
    choice = phone_page.easy_choice(request.form.get("easy"))
    response = redirect(url_for("participate.phone", code=live_session.join_code), 303)
    if choice is not None:
        response.set_cookie(
            phone_page.EASY_COOKIE,
            phone_page.EASY_ON if choice else phone_page.EASY_OFF,
            max_age=phone_page.EASY_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=_secure_cookies(),
        )
    return response


@bp.get("/s/<code>/qr.svg")
def qr_code(code: str):
    live_session = _session_or_404(code)
    url = url_for("participate.join", code=live_session.join_code, _external=True)
    response = make_response(sessions.qr_svg(url))
    response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.post("/api/ballots")
@csrf.exempt
def api_ballot():
    """HTTP twin of the ``vote`` event, for phones whose websocket cannot get through.

    Same service, same acknowledgement body, same broadcast as ``live.handlers.on_vote``.
    The body is read with the limits of the socket's packets (``deliberation.inputs``): its
    size before reading it, its depth before parsing it. A database that cannot be reached
    answers 503 ``server_busy`` (``views.organize_errors``): the phone keeps the ballot."""
    if (request.content_length or 0) > 4 * inputs.MAX_PAYLOAD_CHARS:
        return refusal_response(Refused("too_large"))
    try:
        payload = inputs.loads_bytes(request.get_data(cache=False))
    except inputs.Malformed as error:
        return refusal_response(Refused(error.code))
    if not isinstance(payload, dict):
        return refusal_response(Refused("bad_request", _("Expected a JSON object.")))
    ballot_id = payload.get("ballot_id")
    ballot_id = ballot_id if isinstance(ballot_id, str) else None
    # One read of the participant's place (no ORM object): the path a hall without
    # sockets votes through.
    participant = sessions.phone_identity(sessions.token_claims(payload.get("token")))
    if participant is None:
        return refusal_response(Refused("invalid_token"), ballot_id=ballot_id)
    # As the socket's ``vote``: the session and its language are read only for a refusal
    # (an accepted ballot's answer has no words); two reads less per ballot on the path a
    # hall without sockets votes through (docs/benchmarks.md, "HTTP voters").
    try:
        result = ballots.cast(
            participant.participant_id,
            payload.get("poll_id"),
            ballot_id,
            payload.get("choice"),
            payload.get("round"),
        )
    except voting.VoteError as error:
        with session_locale(db.session.get(LiveSession, participant.session_id)):
            return refusal_response(error, ballot_id=ballot_id)
    if not result.duplicate:
        broadcast.ballot_counted(result.session_id)
    return jsonify(result.ack()), 200
