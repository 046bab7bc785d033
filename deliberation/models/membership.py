"""Who may touch a process: its members, the invitations to join it, and the record of both.

The rules that read these rows live in :mod:`deliberation.services.people.access`; the changes in
:mod:`deliberation.services.people.membership` (docs/security.md, "Roles and membership").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TITLE_MAX, Timestamped, utcnow
from .process import Process, Territory
from .users import Organizer

MEMBER_ROLES = ("owner", "co_organizer", "facilitator")
_ROLE_CHECK = "role IN ('owner', 'co_organizer', 'facilitator')"


class Membership(Timestamped, db.Model):
    """One organiser's role in one process.

    ``territory_id`` limits a facilitator to the sessions of one territory. It is deleted
    with its territory (never set to NULL, which would widen the member to every session).
    """

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("process_id", "organizer_id", name="one_role_per_process"),
        CheckConstraint(_ROLE_CHECK, name="membership_role_known"),
        CheckConstraint(
            "territory_id IS NULL OR role = 'facilitator'", name="membership_territory_facilitator"
        ),
        Index("membership_by_organizer", "organizer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizer.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"), nullable=True
    )

    process: Mapped[Process] = relationship()
    organizer: Mapped[Organizer] = relationship()
    territory: Mapped[Territory | None] = relationship()


class Invitation(db.Model):
    """A one-time link that makes whoever follows it (logged in) a member.

    Only a hash of the link's secret is stored: a database reader cannot use a pending
    invitation. The link is shown once, to the owner who creates it.
    """

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint(_ROLE_CHECK, name="invitation_role_known"),
        CheckConstraint(
            "territory_id IS NULL OR role = 'facilitator'", name="invitation_territory_facilitator"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"), nullable=True
    )
    # Who it is meant for, as the owner wrote it (a name or an e-mail): only a reminder.
    label: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    used_by: Mapped[str] = mapped_column(String(254), default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    process: Mapped[Process] = relationship()
    territory: Mapped[Territory | None] = relationship()


class MembershipEvent(db.Model):
    """One change to who may touch a process: who did it, when, to whom, what.

    E-mail addresses are copied, not linked, so the record outlives a deleted account.
    """

    __tablename__ = "membership_event"
    __table_args__ = (Index("membership_event_by_process", "process_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The organiser who made the change; "" for the command line.
    actor: Mapped[str] = mapped_column(String(254), default="")
    # invited, invitation_withdrawn, joined, added, role_changed, removed
    action: Mapped[str] = mapped_column(String(30))
    # The member concerned (e-mail) or the invitation's label.
    subject: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    role: Mapped[str] = mapped_column(String(20), default="")
    territory: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
