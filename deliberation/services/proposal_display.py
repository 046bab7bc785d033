"""How proposals are shown: the console queue, a phone's own list, the projector's comparison.

Read-only companions of :mod:`deliberation.services.amendments` (which re-exports them).
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, render_template
from flask_babel import gettext
from sqlalchemy import select

from ..extensions import db
from ..models import AgendaItem, LiveSession, Participant, Proposal
from . import authoring, textdiff
from .text import excerpt, plain_text, render_markdown


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
    names = {
        "hypothesis": _("Hypothesis"),
        "finding": _("Finding"),
        "recommendation": _("Recommendation"),
        "action_path": _("Action path"),
        "implementation_condition": _("Implementation condition"),
    }
    if item is None:
        return ""
    if item_type == "finding":
        number = authoring.finding_numbers(authoring.process_of(item)).get(item.id)
        if number:
            return _("Finding %(n)d", n=number)
    return names.get(item_type, item_type)


def kind_label(kind: str) -> str:
    return {
        "amendment": _("Amendment"),
        "action_path": _("New action path"),
        "implementation_condition": _("New implementation condition"),
        "comment": _("Comment"),
    }.get(kind, kind)


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


def comparison(proposal: Proposal) -> dict[str, Any]:
    """Original and proposed wording, plain and word-by-word marked (HTML, escaped)."""
    item = target_item(proposal)
    proposed = plain_text(proposal.text)
    if proposal.kind == "amendment" and item is not None:
        original = plain_text(item.text)
        original_html, proposed_html = textdiff.side_by_side(original, proposed)
    else:
        original = ""
        original_html, proposed_html = textdiff.side_by_side("", proposed)
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
        "kind_label": kind_label(proposal.kind),
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
    """How an ``amendment`` agenda item is shown: both wordings, the changes marked."""
    proposal = proposal_for(agenda_item)
    if proposal is None:
        return {"title": _("Amendment"), "text": agenda_item.text, "context": ""}
    item = target_item(proposal)
    compared = comparison(proposal)
    if proposal.kind == "amendment":
        title = _("Amendment to %(item)s", item=item_label(proposal.item_type, item))
    else:
        title = _("%(kind)s for %(item)s", kind=kind_label(proposal.kind),
                  item=item_label(proposal.item_type, item))  # fmt: skip
    compare_html = render_template(
        "live/_amendment_compare.html", proposal=proposal, compared=compared, title=title,
        item_label=item_label(proposal.item_type, item), kind_label=kind_label(proposal.kind),
        item_excerpt=excerpt(getattr(item, "text", ""), 200) if item is not None else "",
    )  # fmt: skip
    return {
        "title": title,
        "text": proposal.text,
        "text_html": compare_html,
        "context": excerpt(getattr(item, "text", ""), 120) if item is not None else "",
        "suggested_method": "consensus",
        "options": [],
        "amendment": {
            "proposal_id": proposal.id,
            "kind": proposal.kind,
            "status": proposal.status,
            "supporters": proposal.supporters,
            "target_type": proposal.item_type,
            "target_id": proposal.item_id,
            **compared,
        },
    }
