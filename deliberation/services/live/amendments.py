"""Proposals from the floor: amendments, new action paths and conditions, comments.

A participant proposes from the phone (:func:`propose`); the facilitator moderates
(:func:`accept_for_vote`, :func:`merge`, :func:`send_back`, :func:`keep_as_comment`); an
accepted proposal becomes an ``amendment`` agenda item that the room votes on like any other
item; when its poll is published, :func:`settle` adopts it (a new version of the item, or a
new item under the finding) or marks it rejected. Nothing is ever deleted: returned,
rejected, merged proposals and comments stay for the proceedings.

Statuses: ``pending`` → ``accepted`` | ``merged`` | ``returned`` | ``kept_as_comment``;
``accepted`` → ``adopted`` | ``rejected`` (a rejected amendment may be voted again and
adopted later; an adopted one stays adopted — the organisers roll the text back from its
history if they must).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import current_app, has_request_context
from flask_babel import gettext
from sqlalchemy import func, select

from ... import inputs
from ...database import write_transaction
from ...extensions import db
from ...models import (
    PROPOSAL_TEXT_MAX,
    AgendaItem,
    LiveSession,
    Participant,
    Poll,
    Proposal,
    utcnow,
)
from ...models.item_types import AMENDABLE_TYPES, ITEM_TYPES
from ...refusals import Refused
from ...wording import verdict_words
from ..authoring import authoring
from ..authoring.text import plain_text
from .proposal_display import (  # noqa: F401  (part of this module's API)
    authors,
    authors_label,
    comparison,
    describe,
    item_label,
    own_proposals,
    present,
    proposal_for,
    proposal_kind_label,
    queue,
    status_label,
    status_message,
    target_item,
)

PROPOSAL_KINDS = ("amendment", "action_path", "implementation_condition", "comment")
# Agenda item types under which a new action path or condition finds its finding.
FINDING_CHILD_TYPES = tuple(key for key in AMENDABLE_TYPES if ITEM_TYPES[key].parent == "finding")
# A proposal of one of these kinds adds an item of the type of the same name to a finding.
NEW_ITEM_KINDS = tuple(
    proposal_kind for proposal_kind in PROPOSAL_KINDS if proposal_kind in FINDING_CHILD_TYPES
)
REASON_MAX = 500
CLIENT_ID_MAX = 64
MODERATION_ACTIONS = ("accept", "merge", "send_back", "keep_as_comment")
FINAL_STATUSES = ("merged", "returned", "kept_as_comment", "adopted")


def _(text: str, **params: Any) -> str:
    """Translate in a request (pages and sockets); keep English elsewhere (CLI, jobs)."""
    if has_request_context():
        return gettext(text, **params)
    return text % params if params else text


class ProposalError(Refused):
    """A proposal or a moderation refused (codes and texts in :mod:`deliberation.refusals`)."""


# -- reading -----------------------------------------------------------------------------


def session_of(proposal_or_participant: Proposal | Participant) -> LiveSession:
    return db.session.get(LiveSession, proposal_or_participant.session_id)


def get_proposal(session: LiveSession, proposal_id: Any) -> Proposal:
    if not inputs.is_id(proposal_id):
        raise ProposalError("bad_request", _("Which proposal?"))
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise ProposalError("unknown_proposal")
    if proposal.session_id != session.id:
        raise ProposalError("not_in_session", _("This proposal belongs to another session."))
    return proposal


# -- proposing ---------------------------------------------------------------------------


def _clean_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ProposalError("bad_request", _("The proposal must be a text."))
    # Control characters other than line breaks and tabs are never meant.
    cleaned = "".join(ch for ch in text if ch in "\n\t" or ch >= " " or ch == "\r")
    cleaned = "\n".join(line.rstrip() for line in cleaned.replace("\r\n", "\n").split("\n"))
    cleaned = cleaned.strip()
    if not cleaned:
        raise ProposalError("empty")
    if len(cleaned) > PROPOSAL_TEXT_MAX:
        raise ProposalError(
            "too_long",
            _(
                "Your proposal is too long: %(count)d characters, at most %(max)d.",
                count=len(cleaned),
                max=PROPOSAL_TEXT_MAX,
            ),
        )
    return cleaned


def _clean_client_id(client_id: Any) -> str:
    if client_id in (None, ""):
        return uuid.uuid4().hex
    if not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX:
        raise ProposalError("bad_request", _("Bad proposal identifier."))
    return client_id


def _resolve_target(
    session: LiveSession, proposal_kind: str, item_type: Any, item_id: Any
) -> tuple[str, int | None]:
    """The item the proposal is about: the one named, else the one on screen."""
    if item_type in (None, "") and item_id in (None, ""):
        current = session.current_item
        if current is None:
            if proposal_kind == "comment":
                return "", None
            raise ProposalError("no_item")
        item_type, item_id = current.item_type, current.item_id
        if item_type == "action_paths":  # the finding's action paths put to one dot vote
            if proposal_kind == "amendment":
                raise ProposalError(
                    "no_item", _("Propose a new action path, or amend one action path.")
                )
            item_type = "finding"
        if item_type in ("free", "amendment"):
            if proposal_kind == "comment":
                return "", None
            raise ProposalError("no_item", _("This item cannot be amended from the floor."))
    if not isinstance(item_type, str) or not inputs.is_id(item_id):
        raise ProposalError("bad_request", _("Which item?"))
    item = authoring.get_item(item_type, item_id) if item_type in AMENDABLE_TYPES else None
    if item is None or authoring.process_of(item).id != session.process_id:
        raise ProposalError("unknown_item", _("This item is not part of this process."))
    if proposal_kind in NEW_ITEM_KINDS:
        # A new action path or condition hangs under a finding.
        if item_type in FINDING_CHILD_TYPES:
            return "finding", item.finding_id
        if item_type != "finding":
            raise ProposalError("no_finding")
    return item_type, item_id


def _check_rate(participant: Participant) -> None:
    limit = int(current_app.config.get("PROPOSAL_RATE_PER_MINUTE", 5))
    since = utcnow() - timedelta(minutes=1)
    recent = db.session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.participant_id == participant.id, Proposal.created_at >= since
        )
    )
    if recent >= limit:
        raise ProposalError(
            "rate_limited",
            _(
                "You have sent %(n)d proposals in the last minute. Please wait a moment "
                "before sending another.",
                n=recent,
            ),
        )


def _lock_participant(participant_id: int) -> Participant | None:
    """Serialise one participant's proposals (SQLite: the write lock is already held)."""
    return db.session.scalar(
        select(Participant).where(Participant.id == participant_id).with_for_update()
    )


def propose(
    participant: Participant,
    proposal_kind: Any,
    text: Any,
    item_type: Any = None,
    item_id: Any = None,
    client_id: Any = None,
) -> tuple[Proposal, bool]:
    """Store a proposal from the floor; returns it and whether it was a resend (duplicate).

    The same ``client_id`` from the same participant returns the proposal already stored.
    """
    if proposal_kind not in PROPOSAL_KINDS:
        raise ProposalError("invalid_kind")
    cleaned = _clean_text(text)
    client_id = _clean_client_id(client_id)
    participant_id = participant.id
    with write_transaction():
        locked = _lock_participant(participant_id)
        if locked is None or locked.voided_at is not None:  # voided: its ticket was lost
            raise ProposalError("not_in_session", _("You are not part of this session."))
        existing = db.session.scalar(
            select(Proposal).filter_by(participant_id=participant_id, client_id=client_id)
        )
        if existing is not None:
            return existing, True
        _check_rate(locked)
        session = session_of(locked)
        target_type, target_id = _resolve_target(session, proposal_kind, item_type, item_id)
        if proposal_kind == "amendment":
            item = authoring.get_item(target_type, target_id)
            if plain_text(item.text) == plain_text(cleaned):
                raise ProposalError("unchanged")
        proposal = Proposal(
            session_id=session.id,
            participant_id=participant_id,
            kind=proposal_kind,
            item_type=target_type,
            item_id=target_id,
            text=cleaned,
            client_id=client_id,
        )
        db.session.add(proposal)
    return proposal, False


# -- moderating --------------------------------------------------------------------------


def _lock(proposal: Proposal) -> Proposal:
    locked = db.session.scalar(select(Proposal).where(Proposal.id == proposal.id).with_for_update())
    if locked is None:
        raise ProposalError("unknown_proposal")
    return locked


def _require_status(proposal: Proposal, *allowed: str) -> None:
    if proposal.status not in allowed:
        raise ProposalError(
            "invalid_transition",
            _(
                "This proposal has already been handled (%(status)s).",
                status=status_label(proposal.status),
            ),
        )


def _insert_after_current(session: LiveSession, agenda_item: AgendaItem) -> None:
    """Place a new agenda item right after the item on screen (else at the end)."""
    items = [i for i in session.agenda if i.id != agenda_item.id]
    current = session.current_item_id
    index = next((n + 1 for n, i in enumerate(items) if i.id == current), len(items))
    items.insert(index, agenda_item)
    for position, item in enumerate(items):
        item.position = position


def accept_for_vote(proposal: Proposal) -> AgendaItem:
    """Put an amendment or a new item to the vote: it becomes an ``amendment`` agenda item."""
    with write_transaction():
        locked = _lock(proposal)
        _require_status(locked, "pending")
        if locked.kind == "comment":
            raise ProposalError(
                "invalid_transition", _("A comment is kept for the proceedings, not voted on.")
            )
        if target_item(locked) is None:
            raise ProposalError("unknown_item", _("The amended item no longer exists."))
        session = session_of(locked)
        agenda_item = AgendaItem(
            session_id=session.id, item_type="amendment", item_id=locked.id, text=locked.text
        )
        db.session.add(agenda_item)
        session.agenda.append(agenda_item)
        _insert_after_current(session, agenda_item)
        locked.status = "accepted"
        locked.reason = ""
    return agenda_item


def merge(proposals: list[Proposal], into: Proposal) -> Proposal:
    """Fold near-duplicates into one: supporters add up, the merged ones stay stored."""
    with write_transaction():
        target = _lock(into)
        _require_status(target, "pending", "accepted")
        merged = []
        for proposal in proposals:
            locked = _lock(proposal)
            if locked.id == target.id:
                continue
            if locked.session_id != target.session_id:
                raise ProposalError(
                    "not_in_session", _("These proposals are from another session.")
                )
            if (locked.kind, locked.item_type, locked.item_id) != (
                target.kind,
                target.item_type,
                target.item_id,
            ):
                raise ProposalError(
                    "not_mergeable", _("Only proposals of the same kind on the same item merge.")
                )
            _require_status(locked, "pending")
            merged.append(locked)
        if not merged:
            raise ProposalError("bad_request", _("Choose the proposals to merge."))
        for locked in merged:
            target.supporters += locked.supporters
            locked.status = "merged"
            locked.merged_into_id = target.id
    return target


def _clean_reason(reason: Any, required: bool) -> str:
    text = " ".join(str(reason or "").split())
    if required and not text:
        raise ProposalError("reason_required")
    if len(text) > REASON_MAX:
        raise ProposalError(
            "too_long", _("The reason is too long: at most %(max)d characters.", max=REASON_MAX)
        )
    return text


def send_back(proposal: Proposal, reason: Any) -> Proposal:
    cleaned = _clean_reason(reason, required=True)
    with write_transaction():
        locked = _lock(proposal)
        _require_status(locked, "pending")
        locked.status = "returned"
        locked.reason = cleaned
    return locked


def keep_as_comment(proposal: Proposal, reason: Any = "") -> Proposal:
    cleaned = _clean_reason(reason, required=False)
    with write_transaction():
        locked = _lock(proposal)
        _require_status(locked, "pending")
        locked.status = "kept_as_comment"
        locked.reason = cleaned
    return locked


def moderate(session: LiveSession, payload: Any) -> list[Proposal]:
    """One console action, from its JSON payload; returns the proposals whose status changed."""
    if not isinstance(payload, dict):
        raise ProposalError("bad_request", _("Bad request."))
    action = payload.get("action")
    if action not in MODERATION_ACTIONS:
        raise ProposalError("bad_request", _("Unknown moderation action."))
    if action == "merge":
        into = get_proposal(session, payload.get("into"))
        ids = payload.get("proposal_ids") or [payload.get("proposal_id")]
        if not isinstance(ids, list):
            raise ProposalError("bad_request", _("Choose the proposals to merge."))
        proposals = [get_proposal(session, i) for i in ids]
        merge(proposals, into)
        return [*proposals, into]
    proposal = get_proposal(session, payload.get("proposal_id"))
    if action == "accept":
        accept_for_vote(proposal)
    elif action == "send_back":
        send_back(proposal, payload.get("reason"))
    else:
        keep_as_comment(proposal, payload.get("reason"))
    return [proposal]


# -- voting and adoption -----------------------------------------------------------------


def outcome_of(results: dict[str, Any] | None) -> str | None:
    """The overall outcome of a tally (``validated``, ``rework``, ``rejected``…), if any."""
    if not results:
        return None
    for holder in (results, results.get("overall") or {}, results.get("all") or {}):
        if isinstance(holder, dict) and holder.get("outcome"):
            return holder["outcome"]
    options = results.get("options") or (results.get("overall") or {}).get("options")
    if isinstance(options, list) and len(options) == 1 and isinstance(options[0], dict):
        return options[0].get("outcome")
    return None


def adopt(proposal: Proposal, poll: Poll) -> Any:
    """Make an adopted proposal part of the process: a new version of the amended item, or
    a new action path / condition under the finding. Flushes; the caller commits."""
    item = target_item(proposal)
    if item is None:
        raise ProposalError("unknown_item", _("The amended item no longer exists."))
    author = authors_label(proposal)
    summary = _(
        "Amendment #%(id)d adopted by vote #%(poll)d (%(n)d supporter(s))",
        id=proposal.id,
        poll=poll.id,
        n=proposal.supporters,
    )
    if proposal.kind == "amendment":
        if authoring.history(item) == []:
            # Keep the wording it had before the first change from the floor.
            authoring.record_version(item, "created", "", summary="before amendment")
        item.text = proposal.text
        result = item
    else:
        model = ITEM_TYPES[proposal.kind].model
        siblings = getattr(item, ITEM_TYPES[proposal.kind].siblings)
        result = model(finding_id=item.id, text=proposal.text, position=len(siblings))
        siblings.append(result)
    authoring.record_version(
        result, "amendment", author, session_id=poll.session_id, poll_id=poll.id, summary=summary
    )
    proposal.status = "adopted"
    return result


def settle(poll: Poll, results: dict[str, Any] | None) -> Proposal | None:
    """After a poll is published: adopt the amendment it voted on, or mark it rejected.

    ``validated`` adopts; ``rework`` and ``rejected`` reject; no verdict (``no_votes``, a dot
    vote) leaves the proposal accepted, to be voted again.

    Call inside the transaction that publishes the poll. Returns the proposal when the poll
    was about one, else None. An adopted proposal is never adopted twice.
    """
    proposal = proposal_for(db.session.get(AgendaItem, poll.agenda_item_id))
    if proposal is None or proposal.status not in ("accepted", "rejected"):
        return proposal
    outcome = outcome_of(results)
    if outcome == "validated" and target_item(proposal) is None:
        # Deleted by the organisers meanwhile: the vote stands, nothing to change.
        proposal.status = "rejected"
        proposal.reason = _("The amended item no longer exists.")
    elif outcome == "validated":
        adopt(proposal, poll)
        proposal.reason = ""
    elif outcome in ("rework", "rejected"):
        proposal.status = "rejected"
        # Why, in plain words and the room's language (the phone shows it to the author):
        # the verdict's reason, as every surface words it — no internal number, no code.
        language = db.session.get(LiveSession, poll.session_id).process.language or "fr"
        proposal.reason = verdict_words((results or {}).get("verdict"), language)[1]
    db.session.flush()
    return proposal
