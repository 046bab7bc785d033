"""The process file's ``events`` and ``registration`` (docs/process-format.md): the days
scheduled and whether registration is open. Registrations themselves (people's names) and
the links to live sessions stay in the database: the file describes the process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import EVENT_KINDS, Event, Process, RegistrationWindow
from ...models.registration import CAPACITY_MAX
from .process_format import ProcessFileError

EVENT_KEYS = ("title", "kind", "starts_at", "place", "capacity", "territory")
REGISTRATION_KEYS = ("open", "closes_at")
FILE_DATETIME = "%Y-%m-%d %H:%M"


def _when(entry: Any, key: str, required: bool) -> datetime | None:
    word = entry.title(key, required=required)
    if not word:
        return None
    try:
        return datetime.strptime(word, FILE_DATETIME)
    except ValueError:
        raise ProcessFileError(
            f"{entry.what} {key} must be a date and time such as 2014-11-21 09:00, not {word!r}",
            entry.line_of(key),
        ) from None


def read_events(top: Any, process: Process) -> None:
    """Add the file's events and registration window to the unsaved ``process`` (``top``:
    the process file reader's top entry; its territories already read)."""
    for entry in top.entries("events", "event", EVENT_KEYS):
        capacity = entry.title("capacity")
        if not capacity.isdigit() or int(capacity) > CAPACITY_MAX:
            raise ProcessFileError(
                f"event capacity must be a whole number from 0 to {CAPACITY_MAX}",
                entry.line_of("capacity") if "capacity" in entry.map else entry.line,
            )
        territory_name = entry.title("territory")
        territory = next((t for t in process.territories if t.name == territory_name), None)
        if territory_name and territory is None:
            raise ProcessFileError(
                f"event territory {territory_name!r} is not one of the file's territories",
                entry.line_of("territory"),
            )
        process.events.append(
            Event(
                title=entry.title("title", required=True),
                kind=entry.choice("kind", EVENT_KINDS, "workshop"),
                starts_at=_when(entry, "starts_at", required=True),
                place=entry.title("place"),
                capacity=int(capacity),
                territory=territory,
            )
        )
    window = top.mapping("registration", "registration", REGISTRATION_KEYS)
    if window is not None:
        process.registration_window = RegistrationWindow(
            opened=window.flag("open"), closes_at=_when(window, "closes_at", required=False)
        )


def events_data(process: Process) -> dict[str, Any]:
    """The file's ``events`` and ``registration``, only when there are some."""
    data: dict[str, Any] = {}
    events = [
        {
            "title": event.title,
            "kind": event.kind,
            "starts_at": event.starts_at.strftime(FILE_DATETIME),
            **({"place": event.place} if event.place else {}),
            "capacity": event.capacity,
            **({"territory": event.territory.name} if event.territory else {}),
        }
        for event in sorted(process.events, key=lambda e: (e.starts_at, e.id or 0))
    ]
    if events:
        data["events"] = events
    window = process.registration_window
    if window is not None:
        data["registration"] = {
            "open": window.opened,
            **({"closes_at": window.closes_at.strftime(FILE_DATETIME)} if window.closes_at else {}),
        }
    return data
