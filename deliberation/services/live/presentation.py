"""What each screen is shown: agenda items presented (title, text, context), and the whole
state given to a phone, the projector or the facilitator console (docs/protocol.md).

Read-only: the rules that change things live in :mod:`.sessions` and :mod:`.voting`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from ...extensions import db
from ...live import rooms
from ...methods import DEFAULT_METHOD, OPTIONS_METHOD
from ...models import (
    ActionPath,
    AgendaItem,
    Field,
    Finding,
    Hypothesis,
    ImplementationCondition,
    LiveSession,
    Participant,
    Proposal,
    Recommendation,
    Ticket,
    utcnow,
)
from ..authoring.text import excerpt, render_markdown
from . import amendments, record, voting

AUTHORED_TYPES: dict[str, type] = {
    "hypothesis": Hypothesis,
    "finding": Finding,
    "recommendation": Recommendation,
    "action_path": ActionPath,
    "action_paths": Finding,
    "implementation_condition": ImplementationCondition,
    "amendment": Proposal,
}


def authored_item(item_type: str, item_id: int | None) -> Any:
    model = AUTHORED_TYPES.get(item_type)
    if model is None or item_id is None:
        return None
    return db.session.get(model, item_id)


def join_path(session: LiveSession) -> str:
    return f"/j/{session.join_code}"


def finding_numbers(process_id: int) -> dict[int, int]:
    """Findings are numbered across the whole process, in field order."""
    rows = db.session.execute(
        db.select(Finding.id)
        .join(Field, Finding.field_id == Field.id)
        .filter(Field.process_id == process_id)
        .order_by(Field.position, Field.id, Finding.position, Finding.id)
    )
    return {finding_id: number for number, (finding_id,) in enumerate(rows, start=1)}


def _index(item: Any, siblings: list) -> int:
    return siblings.index(item) + 1 if item in siblings else 0


def action_path_options(finding: Finding) -> list[dict[str, str]]:
    return [
        {"key": f"ap{path.id}", "label": excerpt(path.text, 160)} for path in finding.action_paths
    ]


@lru_cache(maxsize=1024)
def rendered_text(text: str) -> tuple[str, str]:
    """(sanitised HTML, excerpt) of a text. Keyed by the text itself, so it can never be
    stale: every phone (re)connecting is sent the current item, and a hall reconnecting at
    once would otherwise render the same Markdown thousands of times."""
    return str(render_markdown(text)), excerpt(text)


def present_item(agenda_item: AgendaItem, numbers: dict[int, int] | None = None) -> dict[str, Any]:
    """Title, text and context of any agenda item, in the current locale. ``numbers``
    (finding id → number) may be passed when presenting many items."""
    item_type = agenda_item.item_type
    authored = authored_item(item_type, agenda_item.item_id)
    text = agenda_item.text
    context = ""
    options: list[dict[str, str]] = []
    method = DEFAULT_METHOD
    if numbers is None:
        numbers = finding_numbers(agenda_item.session.process_id) if authored is not None else {}
    text_html: str | None = None
    extra: dict[str, Any] = {}
    if item_type == "free":
        title = _("Question to the room")
    elif authored is None:
        title = _("Item no longer in the process")
    elif isinstance(authored, Hypothesis):
        question = authored.question
        q_number = _index(question, question.field.questions)
        title = _(
            "Hypothesis %(number)s",
            number=f"{q_number}.{_index(authored, question.hypotheses)}",
        )
        text = authored.text
        context = _("Question %(number)s: %(text)s", number=q_number, text=excerpt(question.text))
    elif item_type == "action_paths":
        number = numbers.get(authored.id, 0)
        title = _("Action paths of finding %(number)s", number=number)
        text = "\n".join(f"- {path.text}" for path in authored.action_paths)
        context = _("Finding %(number)s: %(text)s", number=number, text=excerpt(authored.text))
        options = action_path_options(authored)
        method = agenda_item.session.process.priority_method or OPTIONS_METHOD
    elif isinstance(authored, Finding):
        title = _("Finding %(number)s", number=numbers.get(authored.id, 0))
        text = authored.text
    elif isinstance(authored, Proposal):
        # Amendments show both wordings, changes marked (services.live.amendments owns that).
        shown = amendments.present(agenda_item)
        title, text, context = shown["title"], shown["text"], shown.get("context", "")
        text_html = shown.get("text_html")
        extra = {"amendment": shown.get("amendment")}
    else:
        finding = authored.finding
        number = numbers.get(finding.id, 0)
        siblings = {
            "recommendation": finding.recommendations,
            "action_path": finding.action_paths,
            "implementation_condition": finding.conditions,
        }[item_type]
        label = f"{number}.{_index(authored, siblings)}"
        if item_type == "recommendation":
            title = _("Recommendation %(number)s", number=label)
        elif item_type == "action_path":
            title = _("Action path %(number)s", number=label)
        else:
            title = _("Implementation condition %(number)s", number=label)
        text = authored.text
        context = _("Finding %(number)s: %(text)s", number=number, text=excerpt(finding.text))
    return {
        "id": agenda_item.id,
        "position": agenda_item.position,
        "type": item_type,
        "item_id": agenda_item.item_id,
        "title": title,
        "text": text,
        "text_html": text_html if text_html is not None else rendered_text(text)[0],
        "excerpt": rendered_text(text)[1],
        "context": context,
        "suggested_method": method,
        "options": options,
        **extra,
    }


# -- what each screen is given ------------------------------------------------------------


def _iso(moment: Any) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def state_for(
    session: LiveSession, role: str, participant: Participant | None = None
) -> dict[str, Any]:
    """The whole state for one screen, in the process language (see docs/protocol.md)."""
    language = session.process.language or "fr"
    with force_locale(language):
        item = session.current_item
        poll = voting.latest_poll(item) if item is not None else None
        state: dict[str, Any] = {
            "role": role,
            "session": {
                "id": session.id,
                "code": session.join_code,
                "title": session.title,
                "kind": session.kind,
                "join_url": join_path(session),
                "language": language,
                "current_item_id": session.current_item_id,
                "admission": session.admission,
            },
            "item": present_item(item) if item is not None else None,
            "poll": voting.describe_poll(poll) if poll is not None else None,
            "voted": None,
            "counts": None,
            "results": None,
            "agenda": None,
            "record": None,
            "server_time": _iso(utcnow()),
        }
        if role == "phone":
            state["voted"] = bool(
                poll is not None and participant is not None and voting.has_voted(poll, participant)
            )
        else:
            state["counts"] = {
                "connected": rooms.connected_count(session.id),
                "voted": voting.voted_count(poll) if poll is not None else 0,
                "joined": joined_count(session),
                "expected": session.expected_count,
                "tickets": ticket_counts(session) if role == "facilitator" else None,
            }
        if poll is not None and voting.results_visible(poll, role):
            state["results"] = voting.results(poll)
        if role == "facilitator":
            state["agenda"] = agenda_summary(session)
            if poll is not None and not poll.secret:
                state["record"] = record.named_record(poll, voting.answer_labels(poll)) or None
    return state


def joined_count(session: LiveSession) -> int:
    """Places taken in the session (a voided place no longer counts)."""
    return db.session.scalar(
        db.select(db.func.count(Participant.id)).filter_by(session_id=session.id, voided_at=None)
    )


def ticket_counts(session: LiveSession) -> dict[str, int] | None:
    """Tickets of a ticket session: issued (not voided), used (claimed), voided."""
    if session.admission != "tickets":
        return None
    issued = used = voided = 0
    rows = db.session.execute(
        db.select(Ticket.voided_at.is_(None), Ticket.participant_id.is_(None), db.func.count())
        .where(Ticket.session_id == session.id)
        .group_by(Ticket.voided_at.is_(None), Ticket.participant_id.is_(None))
    )
    for valid, unclaimed, count in rows:
        if not valid:
            voided += count
            continue
        issued += count
        if not unclaimed:
            used += count
    return {"issued": issued, "used": used, "voided": voided}


def agenda_summary(session: LiveSession) -> list[dict[str, Any]]:
    summary = []
    numbers = finding_numbers(session.process_id)
    for agenda_item in session.agenda:
        presented = present_item(agenda_item, numbers)
        summary.append(
            {
                "id": agenda_item.id,
                "position": agenda_item.position,
                "type": agenda_item.item_type,
                "item_id": agenda_item.item_id,
                "title": presented["title"],
                "excerpt": presented["excerpt"],
                "polls": [
                    {"id": poll.id, "state": poll.state, "method": poll.method, "round": poll.round}
                    for poll in agenda_item.polls
                ],
            }
        )
    return summary
