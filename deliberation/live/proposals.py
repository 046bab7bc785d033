"""Socket.IO handlers for proposals from the floor (docs/protocol.md, "Proposals").

Thin, like :mod:`deliberation.live.handlers`: payload in → :mod:`services.live.amendments` →
ack out; emits go through :mod:`live.broadcast` after the service committed. Importing this
module registers the handlers.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import force_locale
from flask_login import current_user

from .. import refusals
from ..extensions import db
from ..models import AgendaItem, LiveSession, Participant, Poll, Proposal
from ..services.live import amendments
from ..services.live.amendments import ProposalError
from ..services.people import access
from . import broadcast, guard, rooms


def _refusal(code: str, language: str | None) -> dict[str, Any]:
    return refusals.payload(code, language or "fr")


def _failure(error: ProposalError, language: str | None) -> dict[str, Any]:
    return error.payload(language or "fr")


def _session(presence: rooms.Presence) -> LiveSession | None:
    return db.session.get(LiveSession, presence.session_id)


def announce(session_id: int, proposals: list[Proposal] = ()) -> None:
    """After a commit: the live queue to the console, each changed status to its author."""
    session = db.session.get(LiveSession, session_id)
    if session is None:
        return
    with force_locale(session.process.language or "fr"):
        queue = amendments.queue(session)
    broadcast.emit_after_commit(
        "proposals",
        {"session_id": session_id, "proposals": queue},
        rooms.room(session_id, "facilitator"),
    )
    for proposal in proposals:
        if proposal.participant_id is not None:
            broadcast.emit_after_commit(
                "proposal_status",
                amendments.status_message(proposal),
                rooms.participant_room(proposal.participant_id),
            )


def after_publish(poll_id: int) -> None:
    """Tell the console and the authors what a published vote made of a proposal."""
    poll = db.session.get(Poll, poll_id)
    if poll is None:
        return
    proposal = amendments.proposal_for(db.session.get(AgendaItem, poll.agenda_item_id))
    if proposal is not None:
        announce(poll.session_id, [proposal, *_merged_into(proposal)])


def _merged_into(proposal: Proposal) -> list[Proposal]:
    return list(db.session.scalars(db.select(Proposal).filter_by(merged_into_id=proposal.id)))


# -- phone --------------------------------------------------------------------------------


@guard.event("propose")
def on_propose(data: Any = None) -> dict[str, Any]:
    presence = rooms.of(request.sid)
    language = presence.language if presence else None
    if presence is None or presence.role != "phone" or not isinstance(data, dict):
        return _refusal("bad_request", language)
    participant = db.session.get(Participant, presence.participant_id)
    if participant is None:
        return _refusal("invalid_token", language)
    try:
        with force_locale(language):
            proposal, duplicate = amendments.propose(
                participant,
                data.get("kind"),
                data.get("text"),
                data.get("item_type"),
                data.get("item_id"),
                data.get("client_id"),
            )
    except ProposalError as error:
        return _failure(error, language)
    if not duplicate:
        announce(presence.session_id)
    return {
        "ok": True,
        "proposal_id": proposal.id,
        "status": proposal.status,
        "duplicate": duplicate,
        "client_id": proposal.client_id,
    }


@guard.event("my_proposals")
def on_my_proposals(_data: Any = None) -> dict[str, Any]:
    presence = rooms.of(request.sid)
    language = presence.language if presence else None
    if presence is None or presence.role != "phone":
        return _refusal("bad_request", language)
    participant = db.session.get(Participant, presence.participant_id)
    if participant is None:
        return _refusal("invalid_token", language)
    with force_locale(language):
        return {"ok": True, "proposals": amendments.own_proposals(participant)}


# -- facilitator --------------------------------------------------------------------------


def _facilitator_session() -> tuple[LiveSession | None, dict[str, Any] | None, str | None]:
    presence = rooms.of(request.sid)
    language = presence.language if presence else None
    if presence is None or presence.role != "facilitator" or not current_user.is_authenticated:
        return None, _refusal("not_allowed", language), language
    session = _session(presence)
    if session is None:
        return None, _refusal("bad_request", language), language
    if not access.can_facilitate(current_user, session):  # membership re-checked each event
        return None, _refusal("not_allowed", language), language
    return session, None, language


@guard.event("list_proposals")
def on_list_proposals(_data: Any = None) -> dict[str, Any]:
    session, refusal, language = _facilitator_session()
    if session is None:
        return refusal
    with force_locale(language):
        return {"ok": True, "proposals": amendments.queue(session)}


@guard.event("moderate")
def on_moderate(data: Any = None) -> dict[str, Any]:
    session, refusal, language = _facilitator_session()
    if session is None:
        return refusal
    session_id = session.id
    try:
        with force_locale(language):
            changed = amendments.moderate(session, data)
    except ProposalError as error:
        return _failure(error, language)
    announce(session_id, changed)
    if isinstance(data, dict) and data.get("action") == "accept":
        broadcast.session_changed(session_id)  # the agenda has a new item
    session = db.session.get(LiveSession, session_id)
    with force_locale(language):
        return {"ok": True, "proposals": amendments.queue(session)}
