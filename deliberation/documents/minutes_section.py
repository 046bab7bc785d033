"""The Actes' minutes of a session: what the facilitator wrote for each agenda item, under
the item as the room saw it (its type, number and text), in agenda order."""

from __future__ import annotations

from flask_babel import force_locale

from ..models import AgendaItem
from ..services.live.items import present_item
from ..wording import words
from .docxkit import DocWriter, excerpt

# The item's text is quoted in its heading up to this length (the poll headings quote it all;
# here the minutes are what is read).
LABEL_TEXT = 300


def item_heading(agenda_item: AgendaItem, numbers: dict[int, int], lang: str) -> str:
    """« Recommandation 1.1 — its text », as the console and the projector named it."""
    with force_locale(lang or "fr"):
        presented = present_item(agenda_item, numbers)
    title = presented["title"]
    text = excerpt(presented.get("excerpt") or "", LABEL_TEXT)
    return f"{title} — {text}" if text and text not in title else title


def write_minutes(
    writer: DocWriter,
    entries: list[tuple[AgendaItem, str]],
    numbers: dict[int, int],
    lang: str,
) -> None:
    """A *Minutes* heading, then per item its heading and the text, one paragraph per line
    (a line starting with « - » is a list item). Nothing when no item has minutes."""
    if not entries:
        return
    writer.paragraph(words(lang)["minutes"], "Heading 3")
    for agenda_item, text in entries:
        writer.paragraph(item_heading(agenda_item, numbers, lang), "Heading 4")
        for line in text.splitlines():
            if line.strip():
                writer.markdown(line)
