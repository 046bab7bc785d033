"""How proposals are shown: the console queue, a phone's own list, the projector's comparison.

Read-only companions of :mod:`deliberation.services.live.amendments` (which re-exports them).
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import select

from ...extensions import db
from ...methods import DEFAULT_METHOD
from ...models import AgendaItem, LiveSession, Participant, Poll, Proposal, TextVersion
from ..authoring import authoring, numbering, textdiff
from ..authoring.text import excerpt, plain_text, render_markdown


def _(text: str, **params: Any) -> str:
    """Translate in a request (pages and sockets); keep English elsewhere (CLI, jobs)."""
    if has_request_context():
        return gettext(text, **params)
    return text % params if params else text


def target_item(proposal: Proposal) -> Any:
    """The authored item a proposal amends or attaches to (a finding for new items)."""
    if not proposal.item_type or proposal.item_id is None:
        return None
    return authoring.get_item(proposal.item_type, proposal.item_id)


def item_label(item_type: str, item: Any) -> str:
    """ "Action path 3.1": the number the room knows the item by (English outside a request)."""
    if item is None:
        return ""
    findings = numbering.finding_numbers(authoring.process_of(item))
    return numbering.numbered_label(item_type, item, findings, _) or item_type


def proposal_kind_label(proposal_kind: str) -> str:
    return {
        "amendment": _("Amendment"),
        "action_path": _("New action path"),
        "implementation_condition": _("New implementation condition"),
        "comment": _("Comment"),
    }.get(proposal_kind, proposal_kind)


def status_labels() -> dict[str, str]:
    """A proposal's status in words (the codes stay for programs, see docs/protocol.md)."""
    return {
        "pending": _("pending"),
        "accepted": _("put to the vote"),
        "merged": _("merged"),
        "returned": _("sent back"),
        "kept_as_comment": _("kept as a comment"),
        "adopted": _("adopted"),
        "rejected": _("rejected"),
    }


def status_label(status: str) -> str:
    return status_labels().get(status, status)


def authors(proposal: Proposal) -> list[Participant]:
    """The participants behind a proposal: its author and those of the proposals merged in."""
    found: list[Participant] = []
    stack, seen = [proposal], set()
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        if current.participant_id is not None:
            participant = db.session.get(Participant, current.participant_id)
            if participant is not None:
                found.append(participant)
        stack.extend(db.session.scalars(select(Proposal).filter_by(merged_into_id=current.id)))
    return found


def authors_label(proposal: Proposal) -> str:
    names = sorted({p.display_name for p in authors(proposal) if p.display_name})
    count = proposal.supporters
    anonymous = max(0, count - len(names))
    parts = list(names)
    if anonymous:
        parts.append(_("%(n)d participant(s)", n=anonymous))
    return ", ".join(parts) or _("the floor")


def wording_before_adoption(proposal: Proposal, item: Any) -> str | None:
    """The item's text just before this (adopted) amendment replaced it, from its history."""
    poll_ids = (
        select(Poll.id)
        .join(AgendaItem, Poll.agenda_item_id == AgendaItem.id)
        .where(AgendaItem.item_type == "amendment", AgendaItem.item_id == proposal.id)
    )
    adopted = db.session.scalar(
        select(TextVersion)
        .filter_by(item_type=proposal.item_type, item_id=proposal.item_id, kind="amendment")
        .where(TextVersion.poll_id.in_(poll_ids))
        .order_by(TextVersion.number.desc())
        .limit(1)
    )
    if adopted is None:
        return None
    before = db.session.scalar(
        select(TextVersion).filter_by(
            item_type=proposal.item_type, item_id=proposal.item_id, number=adopted.number - 1
        )
    )
    return before.text if before is not None else None


def comparison(proposal: Proposal) -> dict[str, Any]:
    """Original and proposed wording, plain and word-by-word marked (HTML, escaped).

    Once adopted, the original is the wording the amendment replaced (not today's text)."""
    item = target_item(proposal)
    proposed = plain_text(proposal.text)
    original = ""
    if proposal.kind == "amendment" and item is not None:
        earlier = wording_before_adoption(proposal, item) if proposal.status == "adopted" else None
        original = plain_text(item.text if earlier is None else earlier)
    original_html, proposed_html = textdiff.side_by_side(original, proposed)
    return {
        "original": original,
        "proposed": proposed,
        "original_html": str(original_html),
        "proposed_html": str(proposed_html),
        "inline_html": str(textdiff.render_html(textdiff.diff_words(original, proposed))),
    }


def describe(proposal: Proposal, for_facilitator: bool = True) -> dict[str, Any]:
    """A proposal as JSON for the console queue (or, without authors, for its phone)."""
    item = target_item(proposal)
    body: dict[str, Any] = {
        "id": proposal.id,
        "kind": proposal.kind,
        "kind_label": proposal_kind_label(proposal.kind),
        "status": proposal.status,
        "text": proposal.text,
        "text_html": str(render_markdown(proposal.text)),
        "reason": proposal.reason,
        "item_type": proposal.item_type,
        "item_id": proposal.item_id,
        "item_label": item_label(proposal.item_type, item),
        "item_excerpt": excerpt(getattr(item, "text", ""), 160) if item is not None else "",
        "supporters": proposal.supporters,
        "merged_into_id": proposal.merged_into_id,
        "created_at": proposal.created_at.isoformat(timespec="seconds"),
    }
    if for_facilitator:
        body["author"] = authors_label(proposal)
        if proposal.kind != "comment":
            body["diff_html"] = comparison(proposal)["inline_html"]
        agenda_item = db.session.scalar(
            select(AgendaItem).filter_by(
                session_id=proposal.session_id, item_type="amendment", item_id=proposal.id
            )
        )
        body["agenda_item_id"] = agenda_item.id if agenda_item else None
    return body


def queue(session: LiveSession) -> list[dict[str, Any]]:
    """Every proposal of the session for the console: pending first, then newest first."""
    proposals = db.session.scalars(
        select(Proposal).filter_by(session_id=session.id).order_by(Proposal.id.desc())
    ).all()
    ordered = [p for p in proposals if p.status == "pending"]
    ordered += [p for p in proposals if p.status != "pending"]
    return [describe(p) for p in ordered]


def own_proposals(participant: Participant) -> list[dict[str, Any]]:
    proposals = db.session.scalars(
        select(Proposal).filter_by(participant_id=participant.id).order_by(Proposal.id)
    )
    return [describe(p, for_facilitator=False) for p in proposals]


def status_message(proposal: Proposal) -> dict[str, Any]:
    """What the author's phone is told when its proposal moves on."""
    return {"proposal_id": proposal.id, "status": proposal.status, "reason": proposal.reason}


def proposal_for(agenda_item: AgendaItem | None) -> Proposal | None:
    if agenda_item is None or agenda_item.item_type != "amendment" or agenda_item.item_id is None:
        return None
    return db.session.get(Proposal, agenda_item.item_id)


def present(agenda_item: AgendaItem) -> dict[str, Any]:
    """How an ``amendment`` agenda item is shown: both wordings, the changes marked, as data
    (``amendment``); the socket layer renders them side by side (``live.screens``)."""
    proposal = proposal_for(agenda_item)
    if proposal is None:
        return {"title": _("Amendment"), "text": agenda_item.text, "context": ""}
    item = target_item(proposal)
    compared = comparison(proposal)
    target_label = item_label(proposal.item_type, item)
    kind_label = proposal_kind_label(proposal.kind)
    if proposal.kind == "amendment":
        title = _("Amendment to %(item)s", item=target_label)
    else:
        title = _("%(kind)s for %(item)s", kind=kind_label, item=target_label)
    return {
        "title": title,
        "text": proposal.text,
        "context": _("Proposed from the floor by %(n)d participants", n=proposal.supporters)
        if proposal.supporters > 1
        else _("Proposed from the floor"),
        "suggested_method": DEFAULT_METHOD,
        "options": [],
        "amendment": {
            "proposal_id": proposal.id,
            "kind": proposal.kind,
            "status": proposal.status,
            "supporters": proposal.supporters,
            "target_type": proposal.item_type,
            "target_id": proposal.item_id,
            # What the side-by-side comparison names (live.screens renders it from these).
            "kind_label": kind_label,
            "target_label": target_label,
            "target_excerpt": excerpt(getattr(item, "text", ""), 200) if item is not None else "",
            **compared,
        },
    }
