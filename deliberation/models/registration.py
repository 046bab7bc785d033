"""Events of a process and the registrations to them (docs/registration.md).

An *event* is a day or half-day the organisers schedule (a territory's workshop, the general
assembly) with its capacity; it links to the live session(s) held during it. A
*registration* is one person; each of its *places* is one event, confirmed or on the
waiting list. A confirmed place is admitted by a personal ticket (``models.tickets``) in
each session of its event: the same short code, so the registrant keeps one ticket.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..extensions import db
from .base import TITLE_MAX, Timestamped, utcnow
from .live import LiveSession
from .process import Process, Territory

EVENT_KINDS = ("workshop", "assembly")
PLACE_STATES = ("confirmed", "waiting")
NAME_MAX = 120
ORGANISATION_MAX = 200
ACCESSIBILITY_MAX = 1000
EMAIL_MAX = 254
CAPACITY_MAX = 100_000

event_session = Table(
    "event_session",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("session_id", ForeignKey("live_session.id", ondelete="CASCADE"), primary_key=True),
)


class Event(Timestamped, db.Model):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("length(title) > 0", name="event_title_not_empty"),
        CheckConstraint("kind IN ('workshop', 'assembly')", name="event_kind_known"),
        CheckConstraint("capacity >= 0", name="event_capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="workshop")
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), nullable=True
    )
    # The venue's local time, as the invitation prints it (no time zone conversion).
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    place: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=0)

    # ``process.events`` (the backref) lets the process file build them with the process.
    process: Mapped[Process] = relationship(
        backref=backref("events", cascade="all, delete-orphan", order_by="Event.starts_at")
    )
    territory: Mapped[Territory | None] = relationship()
    sessions: Mapped[list[LiveSession]] = relationship(
        secondary=event_session, order_by="LiveSession.id"
    )


class RegistrationWindow(db.Model):
    """Whether a process takes registrations, and until when (the venue's local time)."""

    __tablename__ = "registration_window"

    process_id: Mapped[int] = mapped_column(
        ForeignKey("process.id", ondelete="CASCADE"), primary_key=True
    )
    opened: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    process: Mapped[Process] = relationship(
        backref=backref("registration_window", uselist=False, cascade="all, delete-orphan")
    )


class Registration(Timestamped, db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("process_id", "code", name="registration_code_once"),
        CheckConstraint("length(name) > 0", name="registration_name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    # The personal ticket's code (the ticket alphabet, stored without the dash): the same
    # code is the ticket of each session of the registrant's events.
    code: Mapped[str] = mapped_column(String(16))
    # The private link's key (/r/<secret>): change or cancel without an account.
    secret: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    organisation: Mapped[str] = mapped_column(String(ORGANISATION_MAX), default="")
    group: Mapped[str] = mapped_column(String(80), default="")
    accessibility: Mapped[str] = mapped_column(Text, default="")
    # Consent to appear in the list of participating organisations.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), default="")
    by_organiser: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    process: Mapped[Process] = relationship()
    places: Mapped[list[Place]] = relationship(
        back_populates="registration", order_by="Place.id", cascade="all, delete-orphan"
    )


class Place(db.Model):
    """One registration to one event: confirmed (a ticket) or on the waiting list."""

    __tablename__ = "registration_place"
    __table_args__ = (
        UniqueConstraint("registration_id", "event_id", name="one_place_per_event"),
        CheckConstraint("status IN ('confirmed', 'waiting')", name="place_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="confirmed")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Checked in at the door (the ticket scanned or its code typed by an organiser).
    attended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    registration: Mapped[Registration] = relationship(back_populates="places")
    event: Mapped[Event] = relationship()
