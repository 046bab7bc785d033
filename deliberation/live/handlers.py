"""Socket.IO event handlers: payload in → service call → ack out (docs/protocol.md).

The rules live in ``services.live.voting``, ``services.live.ballots`` and
``services.live.sessions``;
emitting to rooms lives in ``live.broadcast`` and happens only after the service committed.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import force_locale
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .. import inputs, refusals
from ..database import discard_failed_work
from ..extensions import db, socketio
from ..models import LiveSession, Participant
from ..refusals import Refused
from ..services.live import ballots, sessions
from ..services.live.voting import VoteError
from ..services.people import access, throttles
from . import actions, broadcast, gc_pacing, guard, phone_states, rooms, screens

# The database cannot be reached or is locked: the client keeps what it sent and retries.
DATABASE_UNAVAILABLE = (OperationalError, PoolTimeout)
log = logging.getLogger(__name__)


def _same_origin() -> bool:
    """The facilitator role rides on the login cookie: refuse a handshake that a page of
    another site opened with it (cross-site WebSocket hijacking). Clients that send no
    Origin (not a browser) are judged by their cookie alone."""
    origin = request.headers.get("Origin")
    if not origin:
        return True
    allowed = current_app.config.get("SOCKETIO_CORS_ORIGINS") or []
    return urlsplit(origin).netloc == request.host or origin in allowed


def _identify(auth: Any, claims: sessions.TokenClaims | None) -> Connection:
    """Who connects, and the state they are sent first."""
    role = auth.get("role") if isinstance(auth, dict) else None
    if not isinstance(role, str) or role not in rooms.ROLE_ROOMS:
        raise Refused("bad_request")
    if role == "phone":
        phone = screens.phone_state(claims)
        if phone is None:
            raise Refused("invalid_token")
        identity, state = phone.identity, phone.state
        presence = rooms.Presence(
            identity.session_id, role, identity.participant_id, state["session"]["language"]
        )
        return Connection(presence, state, claims, phone.generation)
    if role == "projector":
        session, presence = _projector_session(auth.get("code"))
        return Connection(presence, screens.state_for(session, role))
    if not current_user.is_authenticated or not _same_origin():
        raise Refused("not_allowed")
    session_id = auth.get("session_id")
    session = db.session.get(LiveSession, session_id) if inputs.is_id(session_id) else None
    # A session the organiser may not run is refused as if it did not exist for them.
    if session is None or not access.can_facilitate(current_user, session):
        raise Refused("not_allowed")
    presence = rooms.Presence(
        session.id, role, None, session.process.language, organizer_id=current_user.id
    )
    return Connection(presence, screens.state_for(session, role))


@dataclass(frozen=True)
class Connection:
    presence: rooms.Presence
    state: dict[str, Any]
    # A phone's token claims, and the generation of its session's phone state it was given.
    claims: sessions.TokenClaims | None = None
    generation: int = 0


def _projector_session(code: Any) -> tuple[LiveSession, rooms.Presence]:
    """A projector names its session by join code: the same guessing throttle as the pages."""
    address = throttles.address_key(request.remote_addr)
    if throttles.CODE_GUESSES.wait(address):
        raise Refused("too_many_attempts")
    session = sessions.session_by_code(code if isinstance(code, str) else None)
    if session is None:
        throttles.CODE_GUESSES.hit(address)
        raise Refused("unknown_session")
    return session, rooms.Presence(session.id, "projector", None, session.process.language)


@socketio.on_error_default
def on_unexpected_error(error: Exception) -> Any:
    """A bug or an outage, not a refusal: roll back, log where (never the payload: it may
    hold a choice), and answer so the client is not left waiting. Nothing was counted.

    A database that cannot be reached (or stays locked) is an outage, not a bug: one line
    in the log and ``server_busy``, which the client retries."""
    discard_failed_work()
    event = request.event.get("message")
    presence = rooms.of(request.sid)
    if isinstance(error, DATABASE_UNAVAILABLE):
        log.warning("socket event %r: database unavailable (%s)", event, type(error).__name__)
        message = refusals.payload("server_busy", presence.language if presence else None)
    else:
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("socket event %r failed: %s\n%s", event, type(error).__name__, frames)
        message = refusals.payload("server_error", presence.language if presence else None)
    if event == "connect":
        guard.forget(request.sid)
        return False  # refuse the connection; the client retries
    args = request.event.get("args") or ()
    if args and isinstance(args[0], dict) and isinstance(args[0].get("ballot_id"), str):
        message["ballot_id"] = args[0]["ballot_id"]
    return message


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    # Counted before anything else, and in memory: an address over its cap, or a caller
    # reconnecting in a loop, costs no database access.
    # The token's signature is checked once; the connection is charged to whom it names.
    claims = sessions.token_claims(auth.get("token")) if isinstance(auth, dict) else None
    refused = guard.admit_connection(
        request.sid,
        request.remote_addr,
        guard.caller_key(request.sid, claims.subject if claims is not None else None),
    )
    if refused is not None:
        code, retry_after = refused
        if code == "too_many_connections":
            log.warning("connection refused: too many sockets from %s", request.remote_addr)
        guard.close_transport_soon(request.sid)
        refusal = refusals.payload(code)
        if retry_after:
            refusal["retry_after"] = math.ceil(retry_after * 10) / 10
        raise ConnectionRefusedError(code, refusal)
    try:
        connection = _identify(auth, claims)
    except Refused as refusal:
        guard.forget(request.sid)
        raise ConnectionRefusedError(refusal.code, refusal.payload()) from None
    except DATABASE_UNAVAILABLE:
        # A hall connecting at once and no database connection free in time, or the
        # database down: a refusal the client retries after its back-off, not a traceback.
        discard_failed_work()
        guard.forget(request.sid)
        raise ConnectionRefusedError("server_busy", refusals.payload("server_busy")) from None
    # Give the database connection back before any network I/O (Redis presence, the
    # socket): under a hall connecting at once, each of those lets hundreds of other
    # handlers run meanwhile, and a held connection starves the pool.
    db.session.remove()
    presence, state = connection.presence, connection.state
    join_room(rooms.room(presence.session_id, presence.role))
    if presence.participant_id is not None:
        join_room(rooms.participant_room(presence.participant_id))
    if presence.organizer_id is not None:
        join_room(rooms.organizer_room(presence.organizer_id))
    rooms.add(request.sid, presence)
    if (
        connection.claims is not None
        and phone_states.generation(presence.session_id) != connection.generation
    ):
        # A new state went to the phones' room while this phone was being identified,
        # before it was in the room: it did not get it, so it is given it now.
        state = _phone_state_again(connection.claims, state)
    broadcast.ensure_started(current_app._get_current_object())
    emit("state", state)
    if presence.role == "phone":
        broadcast.presence_changed(presence.session_id)
        # A hall (re)connecting is as busy as one voting: no full garbage collection (a
        # pause of every greenlet) in the middle of it (gc_pacing).
        gc_pacing.activity()


def _phone_state_again(claims: sessions.TokenClaims, state: dict[str, Any]) -> dict[str, Any]:
    try:
        again = screens.phone_state(claims)
        return again.state if again is not None else state
    except DATABASE_UNAVAILABLE:
        # Keep the state read a moment ago: the next broadcast or sync brings the new one.
        discard_failed_work()
        return state
    finally:
        db.session.remove()


@socketio.on("disconnect")
def on_disconnect(*_args: Any) -> None:
    guard.forget(request.sid)
    presence = rooms.remove(request.sid)
    if presence is not None and presence.role == "phone":
        broadcast.presence_changed(presence.session_id)


@guard.event("sync")
def on_sync(_data: Any = None) -> dict[str, Any]:
    presence = rooms.of(request.sid)
    if presence is None:
        return refusals.payload("bad_request")
    session = db.session.get(LiveSession, presence.session_id)
    participant = (
        db.session.get(Participant, presence.participant_id) if presence.participant_id else None
    )
    if session is None or (presence.role == "phone" and participant is None):
        return refusals.payload("invalid_token", presence.language)
    if presence.role == "facilitator" and not facilitator_still_allowed(session):
        return refusals.payload("not_allowed", presence.language)
    return screens.state_for(session, presence.role, participant)


@guard.event("vote")
def on_vote(data: Any = None) -> dict[str, Any]:
    presence = rooms.of(request.sid)
    ballot_id = data.get("ballot_id") if isinstance(data, dict) else None
    ballot_id = ballot_id if isinstance(ballot_id, str) else None
    language = presence.language if presence else None
    if presence is None or presence.role != "phone" or not isinstance(data, dict):
        return refusals.payload("bad_request", language, ballot_id=ballot_id)
    # Written with the other ballots of this moment, in one transaction (group commit);
    # meanwhile this handler holds no database connection.
    try:
        result = ballots.cast(
            presence.participant_id,
            data.get("poll_id"),
            ballot_id,
            data.get("choice"),
            data.get("round"),
        )
    except VoteError as error:
        return error.payload(language, ballot_id=ballot_id)
    if not result.duplicate:
        broadcast.ballot_counted(result.session_id)
    return result.ack()


# -- facilitator actions ------------------------------------------------------------------


def facilitator_still_allowed(session: LiveSession) -> bool:
    """Membership is checked again on every facilitator event: a member removed (or limited
    to another territory) since the socket connected is refused from then on."""
    return current_user.is_authenticated and access.can_facilitate(current_user, session)


def _on_facilitator_action(name: str) -> Callable[[Any], dict[str, Any]]:
    """The socket path of one action of the table (:mod:`.actions`); on success the ack
    carries the state just sent to the facilitators' room."""

    def handler(data: Any = None) -> dict[str, Any]:
        presence = rooms.of(request.sid)
        language = presence.language if presence else None
        if presence is None or presence.role != "facilitator" or not current_user.is_authenticated:
            return refusals.payload("not_allowed", language)
        session = db.session.get(LiveSession, presence.session_id)
        if session is not None and not facilitator_still_allowed(session):
            return refusals.payload("not_allowed", language)
        if session is None or not isinstance(data, dict):
            return refusals.payload("bad_request", language)
        try:
            with force_locale(language):
                state = actions.dispatch(session, name, actions.JsonPayload(data), current_user)
        except Refused as error:
            return error.payload(language)
        return {"ok": True, "state": state or screens.state_for(session, "facilitator")}

    handler.__name__ = f"on_{name}"
    return handler


for _name in actions.ACTIONS:
    guard.event(_name, guard.FACILITATOR_ACTION_COST)(_on_facilitator_action(_name))
