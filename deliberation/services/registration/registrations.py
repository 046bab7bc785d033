"""Registrations: taken from the public form or by an organiser on someone's behalf,
changed or cancelled through the private link, their tickets, the waiting list, check-in at
the door and attendance for the Actes."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from ...database import write_transaction
from ...extensions import db
from ...models import (
    Event,
    LiveSession,
    Participant,
    Place,
    Process,
    Registration,
    Ticket,
    utcnow,
)
from ...models.registration import ACCESSIBILITY_MAX, EMAIL_MAX, NAME_MAX, ORGANISATION_MAX
from ..live import admission
from ..validation import is_email
from . import events as event_rules
from .errors import RegistrationError, bounded, clean, clean_text, too_long

SECRET_BYTES = 32


@dataclass(frozen=True)
class Details:
    """A registration form's values, checked."""

    name: str
    organisation: str
    group: str
    accessibility: str
    listed: bool
    email: str
    event_ids: list[int]
    waiting_list: bool


def _checked(process: Process, data: Mapping[str, Any], events: list[Event]) -> Details:
    errors: dict[str, str] = {}
    name = bounded(data.get("name"), NAME_MAX, errors, "name", is_required=True)
    organisation = bounded(data.get("organisation"), ORGANISATION_MAX, errors, "organisation")
    group = clean(data.get("group"))
    groups = process.groups or []
    if groups and group not in groups:
        errors["group"] = _("Choose your participant group in the list.")
    accessibility = clean_text(data.get("accessibility"))
    if len(accessibility) > ACCESSIBILITY_MAX:
        errors["accessibility"] = too_long(ACCESSIBILITY_MAX)
    email = clean(data.get("email"))
    if len(email) > EMAIL_MAX:
        errors["email"] = too_long(EMAIL_MAX)
    elif email and not is_email(email):
        errors["email"] = _("This e-mail address does not look right (name@example.org).")
    known = {event.id for event in events}
    event_ids = sorted({i for i in event_rules.ids_of(data.get("event_ids")) if i in known})
    if not event_ids:
        errors["event_ids"] = _("Choose at least one event.")
    if errors:
        raise RegistrationError(errors)
    return Details(
        name=name,
        organisation=organisation,
        group=group,
        accessibility=accessibility,
        listed=data.get("listed") in (True, "1", "on", "yes"),
        email=email,
        event_ids=event_ids,
        waiting_list=data.get("waiting_list") in (True, "1", "on", "yes"),
    )


def _closed() -> RegistrationError:
    return RegistrationError({"": _("Registration is closed.")})


def register(
    process: Process,
    data: Mapping[str, Any],
    by_organiser: bool = False,
    now: datetime | None = None,
) -> Registration:
    """A new registration with a place in each chosen event: confirmed while places are
    left, else on the waiting list if the registrant accepts it (otherwise refused, nothing
    saved). Organisers register people even when registration is closed."""
    if not by_organiser and not event_rules.is_open(process, now):
        raise _closed()
    all_events = event_rules.events_of(process)
    details = _checked(process, data, all_events)
    process_id = process.id
    with write_transaction():
        statuses = _statuses(details.event_ids, details.waiting_list, already=set())
        registration = Registration(
            process_id=process_id,
            code=_new_code(process_id),
            secret=secrets.token_urlsafe(SECRET_BYTES),
            by_organiser=by_organiser,
        )
        _apply(registration, details)
        db.session.add(registration)
        db.session.flush()
        for event_id, status in statuses.items():
            db.session.add(Place(registration_id=registration.id, event_id=event_id, status=status))
        db.session.flush()
        _issue(registration)
    return registration


def _apply(registration: Registration, details: Details) -> None:
    registration.name = details.name
    registration.organisation = details.organisation
    registration.group = details.group
    registration.accessibility = details.accessibility
    registration.listed = details.listed
    registration.email = details.email


def _statuses(event_ids: list[int], waiting_list: bool, already: set[int]) -> dict[int, str]:
    """Each new place's status, the events' rows locked (PostgreSQL) so that two
    registrations cannot take the last place together; SQLite's write lock does the same."""
    locked = list(
        db.session.scalars(
            db.select(Event).where(Event.id.in_(event_ids)).order_by(Event.id).with_for_update()
        )
    )
    used = event_rules.taken([event.id for event in locked])
    statuses: dict[int, str] = {}
    full: list[str] = []
    for event in locked:
        if event.id in already:
            continue
        if used[event.id] < event.capacity:
            statuses[event.id] = "confirmed"
        elif waiting_list:
            statuses[event.id] = "waiting"
        else:
            full.append(event.title)
    if full:
        raise RegistrationError(
            {
                "event_ids": _(
                    "Full: %(events)s. Tick « waiting list » to be told if a place frees up.",
                    events=", ".join(full),
                )
            },
            full=True,
        )
    return statuses


def _new_code(process_id: int) -> str:
    """A ticket code no ticket of the process's sessions and no registration has."""
    taken = set(
        db.session.scalars(
            db.select(Ticket.code)
            .join(LiveSession, LiveSession.id == Ticket.session_id)
            .where(LiveSession.process_id == process_id)
        )
    )
    taken |= set(db.session.scalars(db.select(Registration.code).filter_by(process_id=process_id)))
    return admission.new_ticket_code(taken)


def _session_ids(event_ids: list[int]) -> list[int]:
    if not event_ids:
        return []
    events = db.session.scalars(db.select(Event).where(Event.id.in_(event_ids)))
    return sorted({s.id for event in events for s in event.sessions})


def _issue(registration: Registration) -> None:
    confirmed = [p.event_id for p in registration.places if p.status == "confirmed"]
    admission.issue_registration_tickets(
        _session_ids(confirmed), registration.code, registration.id
    )


def update(
    registration: Registration, data: Mapping[str, Any], now: datetime | None = None
) -> None:
    """Change a registration through its private link (or by an organiser): its details,
    and its events — a dropped event's place is freed for the waiting list, a new one is
    confirmed or waits like a new registration's."""
    if registration.cancelled_at is not None:
        raise RegistrationError({"": _("This registration was cancelled.")})
    process = registration.process
    all_events = event_rules.events_of(process)
    details = _checked(process, data, all_events)
    current = {place.event_id for place in registration.places}
    added = [i for i in details.event_ids if i not in current]
    if added and not event_rules.is_open(process, now) and not registration.by_organiser:
        raise _closed()
    registration_id = registration.id
    with write_transaction():
        registration = db.session.get(Registration, registration_id)
        statuses = _statuses(added, details.waiting_list, already=current) if added else {}
        _apply(registration, details)
        dropped = [p for p in registration.places if p.event_id not in details.event_ids]
        dropped_ids = [p.event_id for p in dropped]
        admission.void_registration_tickets(registration_id, _session_ids(dropped_ids))
        for place in dropped:
            registration.places.remove(place)
        for event_id, status in statuses.items():
            registration.places.append(Place(event_id=event_id, status=status))
        db.session.flush()
        _issue(registration)
        _promote(dropped_ids)


def cancel(registration: Registration) -> None:
    """Cancelled: its unused tickets admit nobody, its places go to the waiting list."""
    registration_id = registration.id
    with write_transaction():
        registration = db.session.get(Registration, registration_id)
        if registration.cancelled_at is not None:
            return
        registration.cancelled_at = utcnow()
        admission.void_registration_tickets(registration_id)
        db.session.flush()
        _promote([p.event_id for p in registration.places if p.status == "confirmed"])


def _promote(event_ids: list[int]) -> None:
    """First come, first served: waiting places take the places freed, and their tickets."""
    for event in db.session.scalars(db.select(Event).where(Event.id.in_(event_ids))):
        free = event.capacity - event_rules.taken([event.id])[event.id]
        if free <= 0:
            continue
        waiting = db.session.scalars(
            db.select(Place)
            .join(Registration, Registration.id == Place.registration_id)
            .where(
                Place.event_id == event.id,
                Place.status == "waiting",
                Registration.cancelled_at.is_(None),
            )
            .order_by(Place.created_at, Place.id)
            .limit(free)
        ).all()
        for place in waiting:
            place.status = "confirmed"
            admission.issue_registration_tickets(
                [s.id for s in event.sessions], place.registration.code, place.registration_id
            )
        db.session.flush()


# -- finding one ------------------------------------------------------------------------------


def by_secret(secret: Any) -> Registration | None:
    if not isinstance(secret, str) or not 20 <= len(secret) <= 64:
        return None
    return db.session.scalar(db.select(Registration).filter_by(secret=secret))


def by_code(process: Process, code: Any) -> Registration | None:
    normalized = admission.normalize_ticket(code)
    if not normalized:
        return None
    return db.session.scalar(
        db.select(Registration).filter_by(process_id=process.id, code=normalized)
    )


# -- at the door ------------------------------------------------------------------------------


def check_in(registration: Registration, event_id: int | None = None) -> list[Place]:
    """Mark attendance: at this event, or at the registration's one confirmed event (a
    registration to several events needs the event named). Marking twice changes nothing.
    The places newly marked are returned."""
    if registration.cancelled_at is not None:
        raise RegistrationError({"": _("This registration was cancelled.")})
    confirmed = [p for p in registration.places if p.status == "confirmed"]
    if event_id is not None:
        chosen = [p for p in confirmed if p.event_id == event_id]
        if not chosen:
            raise RegistrationError({"": _("This person has no confirmed place at this event.")})
    elif len(confirmed) == 1:
        chosen = confirmed
    elif not confirmed:
        raise RegistrationError({"": _("This person has no confirmed place (waiting list).")})
    else:
        raise RegistrationError({"event": _("Choose the event this person is attending.")})
    registration_id = registration.id
    place_ids = [p.id for p in chosen if p.attended_at is None]
    if place_ids:
        with write_transaction():
            db.session.execute(
                db.update(Place)
                .where(Place.id.in_(place_ids), Place.attended_at.is_(None))
                .values(attended_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        db.session.expire_all()
        registration = db.session.get(Registration, registration_id)
    return [p for p in registration.places if p.id in place_ids]


# -- lists --------------------------------------------------------------------------------------


def roster(event: Event) -> list[Place]:
    """The event's places of registrations not cancelled: confirmed first, by name."""
    places = db.session.scalars(
        db.select(Place)
        .join(Registration, Registration.id == Place.registration_id)
        .where(Place.event_id == event.id, Registration.cancelled_at.is_(None))
    ).all()
    return sorted(places, key=lambda p: (p.status != "confirmed", p.registration.name.casefold()))


def group_counts(places: list[Place]) -> dict[str, dict[str, int]]:
    """Per group: confirmed, waiting, attended."""
    counts: dict[str, Counter[str]] = {}
    for place in places:
        counter = counts.setdefault(place.registration.group, Counter())
        counter[place.status] += 1
        counter["attended"] += place.attended_at is not None
    return {group: dict(counter) for group, counter in sorted(counts.items())}


def attendance(process: Process) -> list[dict[str, Any]]:
    """For the Actes: per event, its territory, and per participant group, how many were
    registered (confirmed places) and how many came (checked in)."""
    rows = []
    for event in event_rules.events_of(process):
        counts = group_counts([p for p in roster(event) if p.status == "confirmed"])
        rows.append(
            {
                "event": event.title,
                "kind": event.kind,
                "starts_at": event.starts_at,
                "territory": event.territory.name if event.territory else "",
                "groups": {
                    group: {"registered": c.get("confirmed", 0), "attended": c.get("attended", 0)}
                    for group, c in counts.items()
                },
                "registered": sum(c.get("confirmed", 0) for c in counts.values()),
                "attended": sum(c.get("attended", 0) for c in counts.values()),
            }
        )
    return rows


def participating_organisations(process: Process) -> list[str]:
    """The organisations that took part, once each (the same name in another case or with
    other spaces counted once), sorted: those of registrants who consented to be listed, and
    those participants gave when joining a session (the join form says they are listed)."""
    registered = db.session.scalars(
        db.select(Registration.organisation).where(
            Registration.process_id == process.id,
            Registration.cancelled_at.is_(None),
            Registration.listed.is_(True),
            Registration.organisation != "",
        )
    )
    joined = db.session.scalars(
        db.select(Participant.organisation)
        .join(LiveSession, Participant.session_id == LiveSession.id)
        .where(
            LiveSession.process_id == process.id,
            Participant.voided_at.is_(None),
            Participant.organisation != "",
        )
    )
    names: dict[str, str] = {}
    for name in [*registered, *joined]:
        name = " ".join(name.split())
        names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=str.casefold)
