"""The state each screen is sent: the services' state of a session
(:func:`deliberation.services.live.presentation.state_for`) completed with what only this
layer knows or renders — the phones connected now (presence, :mod:`.rooms`) and an
amendment's side-by-side comparison (a template).

Every state that reaches a screen (a socket's connect, sync and acks, the broadcasts, the
console and projector pages) is built here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import force_locale

from ..extensions import db
from ..models import LiveSession, Participant
from ..services.live import presentation, sessions, voting
from ..services.live.sessions import PhoneIdentity
from . import phone_states, rooms

COMPARISON_TEMPLATE = "live/_amendment_compare.html"


def state_for(
    session: LiveSession, role: str, participant: Participant | None = None
) -> dict[str, Any]:
    """The whole state for one screen (docs/protocol.md), in the process language."""
    # Phones are not told how many phones are connected: no presence read for them.
    connected = rooms.connected_count(session.id) if role != "phone" else 0
    state = sessions.state_for(session, role, participant, connected=connected)
    item = state["item"]
    if item is not None and item.get("amendment"):
        with force_locale(state["session"]["language"]):
            item["text_html"] = comparison_html(item["amendment"])
    return state


@dataclass(frozen=True)
class PhoneConnection:
    identity: PhoneIdentity
    state: dict[str, Any]
    # The generation of the session's phone state it was given (see :mod:`.phone_states`).
    generation: int


def phone_state(claims: sessions.TokenClaims | None) -> PhoneConnection | None:
    """A connecting phone's place and state: the session's common phone state (kept per
    change by :mod:`.phone_states`, built here when nothing is kept), whether this
    participant voted, the server's clock. None: the token no longer connects.

    With a state kept, this is one read: the place and its ballot, together."""
    session_id = claims.session_id if claims is not None else None
    generation, common = (
        phone_states.cached(session_id) if isinstance(session_id, int) else (0, None)
    )
    asked = poll_asked(common["poll"]) if common is not None else None
    identity = sessions.phone_identity(claims, asked)
    if identity is None:
        return None
    if common is None:
        session = db.session.get(LiveSession, identity.session_id)
        state = _built(session, generation, identity.participant_id)
        return PhoneConnection(identity, state, generation)
    state = personal_state(common, identity.participant_id, bool(identity.voted))
    return PhoneConnection(identity, state, generation)


def phone_page_state(session: LiveSession, participant: Participant) -> dict[str, Any]:
    """The state drawn on a joined phone's page (HTTP, with or without its script): the
    same as a connecting phone's, from the same kept common state."""
    generation, common = phone_states.cached(session.id)
    if common is None:
        return _built(session, generation, participant.id)
    return personal_state(common, participant.id)


def _built(session: LiveSession, generation: int, participant_id: int) -> dict[str, Any]:
    """The phone state built from the database, kept for the next phones."""
    common = state_for(session, "phone")
    phone_states.keep(session.id, generation, common)
    return personal_state(common, participant_id)


def personal_state(
    common: dict[str, Any], participant_id: int, voted: bool | None = None
) -> dict[str, Any]:
    """The common state with this participant's ``voted`` (read unless given) and the
    server's clock: what a connecting phone gets, and what its page over HTTP draws."""
    if voted is None:
        asked = poll_asked(common["poll"])
        voted = asked is not None and voting.participant_voted(
            asked.poll_id, participant_id, sealed=asked.sealed
        )
    return {**common, "voted": voted, "server_time": presentation.server_time()}


def poll_asked(poll: dict[str, Any] | None) -> sessions.PollAsked | None:
    if poll is None:
        return None
    return sessions.PollAsked(poll["id"], voting.is_sealed(poll["secret"], poll["state"]))


def comparison_html(amendment: dict[str, Any]) -> str:
    """Both wordings of an amendment side by side, the changes marked (escaped HTML)."""
    return render_template(COMPARISON_TEMPLATE, amendment=amendment)
