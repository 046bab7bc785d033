"""What an agenda item presents: its title, text, context and plain-language summary, in the
current locale, and the options an action-path item offers.

Below :mod:`.voting` (which asks it for a poll's default options) and :mod:`.presentation`
(which builds each screen's whole state from it and from the votes): it reads the authored
items and the amendments, never the polls.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_babel import gettext as _

from ...extensions import db
from ...methods import DEFAULT_METHOD, OPTIONS_METHOD
from ...models import ITEM_TYPES, AgendaItem, Finding, Hypothesis, PlainSummary, Proposal, model_of
from ..authoring.numbering import finding_numbers, item_number, numbered_label
from ..authoring.text import excerpt, render_markdown
from . import amendments


def authored_item(item_type: str, item_id: int | None) -> Any:
    """The row an agenda item names (a finding for its action paths, a proposal for an
    amendment), or None: a free question, or an item deleted since."""
    model = model_of(item_type)
    if model is None or item_id is None:
        return None
    return db.session.get(model, item_id)


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


def plain_summary(item_type: str, authored: Any) -> str:
    """The organiser's plain-language summary of the item put to the vote, or "". The
    action paths of a finding, voted together, are not the finding: its summary is not
    theirs."""
    entry = ITEM_TYPES.get(item_type)
    if entry is None or not entry.names_its_own_row or not isinstance(authored, PlainSummary):
        return ""
    return authored.plain_summary or ""


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
        numbers = finding_numbers(agenda_item.session.process) if authored is not None else {}
    text_html: str | None = None
    extra: dict[str, Any] = {}
    if item_type == "free":
        title = _("Question to the room")
    elif authored is None:
        title = _("Item no longer in the process")
    elif isinstance(authored, Proposal):
        # Amendments show both wordings, changes marked (services.live.amendments owns that).
        shown = amendments.present(agenda_item)
        title, text, context = shown["title"], shown["text"], shown.get("context", "")
        text_html = shown.get("text_html")
        extra = {"amendment": shown.get("amendment")}
    else:
        title = numbered_label(item_type, authored, numbers)
        text = authored.text
        if isinstance(authored, Hypothesis):
            question = authored.question
            context = _(
                "Question %(number)s: %(text)s",
                number=_index(question, question.field.questions),
                text=excerpt(question.text),
            )
        elif item_type == "action_paths":
            text = "\n".join(f"- {path.text}" for path in authored.action_paths)
            context = _(
                "Finding %(number)s: %(text)s",
                number=item_number("finding", authored, numbers),
                text=excerpt(authored.text),
            )
            options = action_path_options(authored)
            method = agenda_item.session.process.priority_method or OPTIONS_METHOD
        elif not isinstance(authored, Finding):
            finding = authored.finding
            context = _(
                "Finding %(number)s: %(text)s",
                number=item_number("finding", finding, numbers),
                text=excerpt(finding.text),
            )
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
        # Plain text, shown in the easy-to-read mode (docs/phones.md).
        "summary": plain_summary(item_type, authored),
        "suggested_method": method,
        "options": options,
        **extra,
    }
