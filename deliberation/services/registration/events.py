"""The events of a process (date, time, place, capacity, their live sessions) and the
registration window (open, closing date)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from ... import inputs
from ...database import write_transaction
from ...extensions import db
from ...models import (
    EVENT_KINDS,
    TITLE_MAX,
    Event,
    LiveSession,
    Place,
    Process,
    Registration,
    RegistrationWindow,
    Territory,
)
from ...models.registration import CAPACITY_MAX, event_session
from ..live import admission
from .errors import RegistrationError, clean, required, too_long

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def events_of(process: Process) -> list[Event]:
    return list(
        db.session.scalars(
            db.select(Event).filter_by(process_id=process.id).order_by(Event.starts_at, Event.id)
        )
    )


def of_session(live_session: LiveSession) -> list[Event]:
    """The events during which this session is held."""
    return list(
        db.session.scalars(
            db.select(Event)
            .join(event_session, event_session.c.event_id == Event.id)
            .where(event_session.c.session_id == live_session.id)
            .order_by(Event.starts_at)
        )
    )


def taken(event_ids: list[int]) -> dict[int, int]:
    """Confirmed places of registrations not cancelled, per event."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        db.select(Place.event_id, db.func.count())
        .join(Registration, Registration.id == Place.registration_id)
        .where(
            Place.event_id.in_(event_ids),
            Place.status == "confirmed",
            Registration.cancelled_at.is_(None),
        )
        .group_by(Place.event_id)
    )
    counts = {event_id: 0 for event_id in event_ids}
    counts.update(dict(rows.all()))
    return counts


def places_left(events: list[Event]) -> dict[int, int]:
    used = taken([event.id for event in events])
    return {event.id: max(0, event.capacity - used[event.id]) for event in events}


def parse_datetime(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return datetime.strptime(raw.strip()[:16], DATETIME_FORMAT)
    except ValueError:
        return None


def _capacity(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) <= 7 else None


def ids_of(raw: Any) -> list[int]:
    values = raw if isinstance(raw, list | tuple) else [raw]
    ids = []
    for value in values:
        text = str(value or "").strip()
        if text.isdigit() and inputs.is_id(int(text)):
            ids.append(int(text))
    return ids


def save_event(process: Process, data: Mapping[str, Any], event: Event | None = None) -> Event:
    """Create (``event`` None) or change an event from a form's values; the sessions it
    links get a ticket for each confirmed place, those it unlinks lose the unused ones."""
    errors: dict[str, str] = {}
    title = clean(data.get("title"))
    if not title:
        errors["title"] = required()
    elif len(title) > TITLE_MAX:
        errors["title"] = too_long(TITLE_MAX)
    kind = data.get("kind") if data.get("kind") in EVENT_KINDS else None
    if kind is None:
        errors["kind"] = _("Choose a workshop or a general assembly.")
    starts_at = parse_datetime(data.get("starts_at"))
    if starts_at is None:
        errors["starts_at"] = _("Give the date and time, e.g. 2014-11-21 09:00.")
    place = clean(data.get("place"))
    if len(place) > TITLE_MAX:
        errors["place"] = too_long(TITLE_MAX)
    capacity = _capacity(data.get("capacity"))
    if capacity is None or capacity > CAPACITY_MAX:
        errors["capacity"] = _("A whole number of places, from 0 to %(max)d.", max=CAPACITY_MAX)
    territory_id = (ids_of(data.get("territory_id")) or [None])[0]
    if territory_id is not None and not db.session.scalar(
        db.select(Territory.id).filter_by(id=territory_id, process_id=process.id)
    ):
        errors["territory_id"] = _("This territory is not one of the process.")
    session_ids = ids_of(data.get("session_ids"))
    sessions = list(
        db.session.scalars(
            db.select(LiveSession).where(
                LiveSession.id.in_(session_ids), LiveSession.process_id == process.id
            )
        )
    )
    if len(sessions) != len(set(session_ids)):
        errors["session_ids"] = _("A chosen session is not one of the process.")
    if errors:
        raise RegistrationError(errors)
    process_id = process.id
    with write_transaction():
        if event is None:
            event = Event(process_id=process_id)
            db.session.add(event)
        before = {s.id for s in event.sessions}
        event.title, event.kind, event.starts_at = title, kind, starts_at
        event.place, event.capacity, event.territory_id = place, capacity, territory_id
        event.sessions = sessions
        db.session.flush()
        _retarget_tickets(event, before, {s.id for s in sessions})
    return event


def _retarget_tickets(event: Event, before: set[int], after: set[int]) -> None:
    added, removed = sorted(after - before), sorted(before - after)
    if not added and not removed:
        return
    places = db.session.execute(
        db.select(Registration.id, Registration.code)
        .join(Place, Place.registration_id == Registration.id)
        .where(
            Place.event_id == event.id,
            Place.status == "confirmed",
            Registration.cancelled_at.is_(None),
        )
    ).all()
    for registration_id, code in places:
        admission.issue_registration_tickets(added, code, registration_id)
        if removed:
            admission.void_registration_tickets(registration_id, removed)


def delete_event(event: Event) -> None:
    """An event goes with its places; the tickets they had, unused, admit nobody."""
    with write_transaction():
        session_ids = [s.id for s in event.sessions]
        registration_ids = db.session.scalars(
            db.select(Place.registration_id).filter_by(event_id=event.id)
        ).all()
        for registration_id in registration_ids:
            admission.void_registration_tickets(registration_id, session_ids)
        db.session.delete(event)


def window_of(process: Process) -> RegistrationWindow:
    window = db.session.get(RegistrationWindow, process.id)
    return window if window is not None else RegistrationWindow(process_id=process.id)


def ever_opened(process: Process) -> bool:
    """Its registration page exists: opened once (perhaps closed since), with events."""
    return db.session.get(RegistrationWindow, process.id) is not None and bool(
        db.session.scalar(db.select(Event.id).filter_by(process_id=process.id).limit(1))
    )


def is_open(process: Process, now: datetime | None = None) -> bool:
    """Registration is open: opened by an organiser, and its closing date not passed (the
    venue's local time, as the organiser typed it)."""
    window = db.session.get(RegistrationWindow, process.id)
    if window is None or not window.opened:
        return False
    return window.closes_at is None or (now or datetime.now()) < window.closes_at


def set_window(process: Process, opened: bool, closes_at: Any) -> RegistrationWindow:
    closing = parse_datetime(closes_at)
    if closes_at and str(closes_at).strip() and closing is None:
        raise RegistrationError({"closes_at": _("Give the date and time, e.g. 2014-11-14 23:59.")})
    process_id = process.id
    with write_transaction():
        window = db.session.get(RegistrationWindow, process_id)
        if window is None:
            window = RegistrationWindow(process_id=process_id)
            db.session.add(window)
        window.opened, window.closes_at = bool(opened), closing
    return window
