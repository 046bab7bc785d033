"""Version history of authored texts: every change to a text is a new numbered version.

A version holds a snapshot of the item's text fields. Items with one text field (a
hypothesis, a finding, a recommendation…) store that text as is, so the proceedings and the
amendments can read ``TextVersion.text`` directly; items with several (a process, a field,
an expert input) store a JSON object of their text fields.
"""

from __future__ import annotations

import json

from sqlalchemy import func

from ...extensions import db
from ...models import ITEM_TYPES, TextVersion, item_type_of


class VersionError(ValueError):
    pass


def snapshot(item: object) -> dict[str, str]:
    return {name: getattr(item, name) or "" for name in ITEM_TYPES[item_type_of(item)].versioned}


def encode(item_type: str, values: dict[str, str]) -> str:
    fields = ITEM_TYPES[item_type].versioned
    if len(fields) == 1:
        return values.get(fields[0], "")
    return json.dumps({name: values.get(name, "") for name in fields}, ensure_ascii=False)


def decode(version: TextVersion) -> dict[str, str]:
    """The text fields a version holds, by name."""
    fields = ITEM_TYPES[version.item_type].versioned
    if len(fields) == 1:
        return {fields[0]: version.text}
    try:
        stored = json.loads(version.text)
    except ValueError:
        stored = {fields[0]: version.text}
    return {name: str(stored.get(name, "")) for name in fields}


def history(item: object) -> list[TextVersion]:
    """All versions of an item, oldest first."""
    return list(
        db.session.scalars(
            db.select(TextVersion)
            .filter_by(item_type=item_type_of(item), item_id=item.id)  # type: ignore[attr-defined]
            .order_by(TextVersion.number)
        )
    )


def latest(item: object) -> TextVersion | None:
    versions = history(item)
    return versions[-1] if versions else None


def record_version(
    item: object,
    version_kind: str,
    author: str,
    session_id: int | None = None,
    poll_id: int | None = None,
    summary: str = "",
) -> TextVersion:
    """Add the item's current text as its next version. Flushes; the caller commits."""
    db.session.flush()
    table = item_type_of(item)
    item_id = item.id  # type: ignore[attr-defined]
    last = db.session.scalar(
        db.select(func.max(TextVersion.number)).filter_by(item_type=table, item_id=item_id)
    )
    version = TextVersion(
        item_type=table,
        item_id=item_id,
        number=(last or 0) + 1,
        text=encode(table, snapshot(item)),
        kind=version_kind,
        author=author or "",
        summary=summary,
        session_id=session_id,
        poll_id=poll_id,
    )
    db.session.add(version)
    db.session.flush()
    return version


def record_if_changed(item: object, before: dict[str, str], author: str, summary: str = ""):
    """Record an ``edited`` version when the text fields differ from ``before``."""
    if snapshot(item) == before:
        return None
    if latest(item) is None:
        # An item made before histories were kept: keep its former text first.
        version = TextVersion(
            item_type=item_type_of(item),
            item_id=item.id,  # type: ignore[attr-defined]
            number=1,
            text=encode(item_type_of(item), before),
            kind="created",
            author="",
        )
        db.session.add(version)
    return record_version(item, "edited", author, summary=summary)


def version_of(item: object, number: int) -> TextVersion:
    version = db.session.scalar(
        db.select(TextVersion).filter_by(
            item_type=item_type_of(item),
            item_id=item.id,  # type: ignore[attr-defined]
            number=number,
        )
    )
    if version is None:
        raise VersionError(f"No version {number} of this item.")
    return version
