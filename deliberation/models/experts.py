"""Experts writing their own inputs (docs/handouts-and-experts.md).

An organiser invites an expert to one field with a personal link (no account): only a hash
of the link's secret is stored, like the members' invitations. The expert keeps a *draft*
on the invitation row (saved as often as they like) and *submits* it: each submission is a
numbered, frozen :class:`ExpertSubmission` that the organisers review (accept, ask for
changes with a comment, decline). Accepted, the input becomes an :class:`ExpertInput` of
the field, its submissions becoming its version history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..extensions import db
from .base import TITLE_MAX, utcnow
from .process import ExpertInput, Field, Process

# writing: never submitted, or being reworked after a request for changes.
EXPERT_STATES = ("writing", "submitted", "changes_requested", "accepted", "declined", "withdrawn")
# States in which the personal link still opens the expert's page.
LINK_STATES = ("writing", "submitted", "changes_requested", "declined")
# States in which the expert may still change the draft and submit it.
EDITABLE_STATES = ("writing", "changes_requested")
DECISIONS = ("accepted", "changes_requested", "declined")
EXPERT_NAME_MAX = 120
JUSTIFICATION_MAX = 500
REVIEW_COMMENT_MAX = 2_000

_STATE_CHECK = "state IN (" + ", ".join(f"'{s}'" for s in EXPERT_STATES) + ")"


class ExpertInvitation(db.Model):
    __tablename__ = "expert_invitation"
    __table_args__ = (
        CheckConstraint("length(name) > 0", name="expert_invitation_name_not_empty"),
        CheckConstraint(_STATE_CHECK, name="expert_invitation_state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("field.id", ondelete="CASCADE"))
    # sha256 of the link's secret; the link itself is shown once, to the organiser.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(EXPERT_NAME_MAX))
    role: Mapped[str] = mapped_column(String(40), default="other")
    affiliation: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    state: Mapped[str] = mapped_column(String(20), default="writing")
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The draft: what the expert saved last (submitted or not).
    title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")
    # {"<hypothesis id>": {"stance": "supports", "justification": "…"}}
    stances: Mapped[dict] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The organisers' last word to the expert (a request for changes, a decline).
    review_comment: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expert_input_id: Mapped[int | None] = mapped_column(
        ForeignKey("expert_input.id", ondelete="SET NULL"), nullable=True
    )

    process: Mapped[Process] = relationship()
    # ``field.expert_invitations`` (the backref) lets the process file build them with it.
    field: Mapped[Field] = relationship(
        backref=backref(
            "expert_invitations", cascade="all, delete-orphan", order_by="ExpertInvitation.id"
        )
    )
    expert_input: Mapped[ExpertInput | None] = relationship()
    submissions: Mapped[list[ExpertSubmission]] = relationship(
        back_populates="invitation",
        order_by="ExpertSubmission.number",
        cascade="all, delete-orphan",
    )


class ExpertSubmission(db.Model):
    """One submitted version of an expert's input, frozen, with the organisers' decision."""

    __tablename__ = "expert_submission"
    __table_args__ = (UniqueConstraint("invitation_id", "number", name="one_submission_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("expert_invitation.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")
    stances: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # "" while waiting for a review, then one of DECISIONS.
    decision: Mapped[str] = mapped_column(String(20), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(254), default="")

    invitation: Mapped[ExpertInvitation] = relationship(back_populates="submissions")
