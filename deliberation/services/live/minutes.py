"""The facilitator's minutes of each agenda item: saved as they type, every save a version.

A console saves the whole text with the version it was editing (``base``). When that is
still the newest version, the save simply becomes the next one. When another console saved
meanwhile, both texts are kept: the save is recorded as written, then the server merges it
with the newest (a three-way merge by lines against the common base) and records the merge
as the newest version. A line both consoles changed differently keeps both wordings, one
after the other: nothing typed is ever dropped, at worst it is there twice. The Actes print
the newest version of each item (docs/facilitating.md, "Minutes").
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from ... import inputs
from ...database import write_transaction
from ...extensions import db
from ...models import AgendaItem, LiveSession, MinutesVersion
from ...refusals import Refused


class MinutesError(Refused):
    """A refused save of the minutes (codes and texts in :mod:`deliberation.refusals`)."""


# About ten pages of typed notes per item: more is not minutes, and a request stays small.
MINUTES_MAX = 20_000


@dataclass(frozen=True)
class Saved:
    """What a save answers: the newest version and its text (the merge, when there was
    one), and the version that holds exactly what this console sent."""

    item_id: int
    version: int | None
    text: str
    own_version: int | None
    merged: bool

    def payload(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "version": self.version,
            "text": self.text,
            "own_version": self.own_version,
            "merged": self.merged,
        }


def clean(text: Any) -> str:
    """The minutes as typed: line breaks kept (``\\r\\n`` as ``\\n``), other control
    characters dropped, at most :data:`MINUTES_MAX` characters (longer is refused)."""
    if not isinstance(text, str):
        raise MinutesError("bad_request")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # No control character (PostgreSQL refuses a NUL) nor lone surrogate; tabs stay.
    cleaned = "".join(
        ch for ch in text if ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    if len(cleaned) > MINUTES_MAX:
        raise MinutesError("minutes_too_long", max=MINUTES_MAX)
    return cleaned


def agenda_item(session: LiveSession, item_id: Any) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id) if inputs.is_id(item_id) else None
    if item is None or item.session_id != session.id:
        raise MinutesError("unknown_item")
    return item


def newest(item_id: int) -> MinutesVersion | None:
    return db.session.scalar(
        db.select(MinutesVersion)
        .where(MinutesVersion.agenda_item_id == item_id)
        .order_by(MinutesVersion.id.desc())
        .limit(1)
    )


def save(session: LiveSession, item_id: Any, text: Any, base: Any, author: str) -> Saved:
    """Record what a console typed for an agenda item of ``session`` (see the module)."""
    text = clean(text)
    if base is not None and not inputs.is_id(base):
        raise MinutesError("bad_request")
    item = agenda_item(session, item_id)
    item_id = item.id
    with write_transaction():
        # PostgreSQL: two consoles' saves of one item take turns (SQLite: the write lock).
        db.session.execute(
            db.select(AgendaItem.id).where(AgendaItem.id == item_id).with_for_update()
        )
        latest = newest(item_id)
        if latest is None or latest.id == base:
            if latest is not None and latest.text == text:
                return Saved(item_id, latest.id, text, latest.id, False)  # nothing new
            own = MinutesVersion(agenda_item_id=item_id, text=text, author=author, base_id=base)
            db.session.add(own)
            db.session.flush()
            return Saved(item_id, own.id, text, own.id, False)
        base_version = db.session.get(MinutesVersion, base) if base is not None else None
        if base_version is not None and base_version.agenda_item_id != item_id:
            base_version = None
        own = MinutesVersion(
            agenda_item_id=item_id,
            text=text,
            author=author,
            base_id=base_version.id if base_version else None,
        )
        db.session.add(own)
        db.session.flush()
        combined = merge(base_version.text if base_version else "", latest.text, text)
        if combined == text:
            return Saved(item_id, own.id, text, own.id, False)
        result = MinutesVersion(
            agenda_item_id=item_id, text=combined, author=author, base_id=own.id, merged=True
        )
        db.session.add(result)
        db.session.flush()
        return Saved(item_id, result.id, combined, own.id, True)


def merge(base: str, theirs: str, mine: str) -> str:
    """A three-way merge by lines: what each side changed from ``base`` is applied; where
    both changed the same lines differently, their lines then mine (nothing is lost)."""
    base_lines, their_lines, my_lines = base.split("\n"), theirs.split("\n"), mine.split("\n")
    theirs_at = _matches(base_lines, their_lines)
    mine_at = _matches(base_lines, my_lines)
    merged: list[str] = []
    b = t = m = 0
    # Lines of the base both sides kept are the anchors; between two anchors, a region.
    anchors = [i for i in range(len(base_lines)) if i in theirs_at and i in mine_at]
    for anchor in [*anchors, None]:
        end_b = len(base_lines) if anchor is None else anchor
        end_t = len(their_lines) if anchor is None else theirs_at[anchor]
        end_m = len(my_lines) if anchor is None else mine_at[anchor]
        old, their_part, my_part = base_lines[b:end_b], their_lines[t:end_t], my_lines[m:end_m]
        merged += _resolve(old, their_part, my_part)
        if anchor is not None:
            merged.append(base_lines[anchor])
            b, t, m = anchor + 1, end_t + 1, end_m + 1
    return "\n".join(merged)


def _resolve(old: list[str], theirs: list[str], mine: list[str]) -> list[str]:
    """One region between two anchors: the side that changed it wins; when both did, lines
    one side only added around the old ones are kept around the other side's change (a
    line inserted above the one I was correcting); otherwise both, theirs first."""
    if theirs in (old, mine):
        return mine
    if mine == old:
        return theirs
    for around, change in ((theirs, mine), (mine, theirs)):
        start = _find(around, old)
        if old and start is not None:
            return around[:start] + change + around[start + len(old) :]
    return theirs + mine


def _find(lines: list[str], part: list[str]) -> int | None:
    for start in range(len(lines) - len(part) + 1):
        if lines[start : start + len(part)] == part:
            return start
    return None


def _matches(old: list[str], new: list[str]) -> dict[int, int]:
    """Each line of ``old`` kept in ``new``, with its index there (in order)."""
    kept: dict[int, int] = {}
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            kept[block.a + offset] = block.b + offset
    return kept


def current(item: AgendaItem) -> dict[str, Any]:
    """What a console shows in its notes box for ``item``: the newest version."""
    latest = newest(item.id)
    return {
        "item_id": item.id,
        "version": latest.id if latest else None,
        "text": latest.text if latest else "",
    }


def history(session: LiveSession, item_id: Any) -> list[dict[str, Any]]:
    """Every version of an item's minutes, newest first."""
    item = agenda_item(session, item_id)
    versions = db.session.scalars(
        db.select(MinutesVersion)
        .where(MinutesVersion.agenda_item_id == item.id)
        .order_by(MinutesVersion.id.desc())
    )
    return [
        {
            "version": v.id,
            "text": v.text,
            "author": v.author,
            "saved_at": v.created_at.isoformat(timespec="seconds"),
            "base": v.base_id,
            "merged": v.merged,
        }
        for v in versions
    ]


def of_process(process_id: int) -> dict[int, list[tuple[AgendaItem, str]]]:
    """For the Actes: per session, its agenda items with minutes (the newest version, when
    not blank), in agenda order."""
    newest_ids = (
        db.select(db.func.max(MinutesVersion.id))
        .join(AgendaItem, MinutesVersion.agenda_item_id == AgendaItem.id)
        .join(LiveSession, AgendaItem.session_id == LiveSession.id)
        .where(LiveSession.process_id == process_id)
        .group_by(MinutesVersion.agenda_item_id)
    )
    rows = db.session.execute(
        db.select(AgendaItem, MinutesVersion.text)
        .join(MinutesVersion, MinutesVersion.agenda_item_id == AgendaItem.id)
        .where(MinutesVersion.id.in_(newest_ids))
        .order_by(AgendaItem.session_id, AgendaItem.position, AgendaItem.id)
    )
    found: dict[int, list[tuple[AgendaItem, str]]] = defaultdict(list)
    for item, text in rows:
        if text.strip():
            found[item.session_id].append((item, text))
    return found
