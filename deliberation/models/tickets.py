"""Personal tickets: one admission to one session, claimed by exactly one participant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

# Where a ticket comes from: a printed sheet, a replacement for a voided one, or a
# registration (models.registration: the registrant's own code, in each session of its events).
TICKET_ORIGINS = ("sheet", "replacement", "registration")


class Ticket(db.Model):
    """A single-use admission to a session (``services.live.admission``).

    ``participant_id`` is set once, by an atomic claim (``UPDATE … WHERE participant_id IS
    NULL``): a ticket admits one participant. ``device_hash`` (a hash of the claiming
    phone's device cookie) lets that same phone get its place back with the same ticket.
    A voided ticket admits nobody, and its participant can no longer vote.
    """

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("session_id", "code", name="ticket_code_once"),
        CheckConstraint(
            "origin IN ('sheet', 'replacement', 'registration')", name="ticket_origin_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"))
    # Characters of the join-code alphabet, typed as XXXXX-XXXXX (stored without the dash).
    code: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(20), default="sheet")
    # Tickets generated together (one print sheet); replacements get their own batch.
    batch: Mapped[int] = mapped_column(Integer, default=1)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    device_hash: Mapped[str] = mapped_column(String(64), default="")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), nullable=True
    )
    # A registration's ticket: its participant's group is the registration's.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), nullable=True, index=True
    )
