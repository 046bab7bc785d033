"""After the day: what became of each recommendation and action path (its follow-up).

The organisers record, for each followed item, the body it was addressed to, links to the
decisions, and status changes. A status change is a row of its own, never updated nor
deleted from the application: the public « Suivi » page and its feed show the whole history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TITLE_MAX, Timestamped, utcnow
from .process import ActionPath, Process, Recommendation

# The statuses of a followed item, in the order of its life (labels: services.publishing.followup).
FOLLOWUP_STATUSES = ("not_started", "in_progress", "done", "abandoned", "rejected")
# What may be followed: the kinds of synthesis items that ask someone to act.
FOLLOWED_TYPES = ("recommendation", "action_path")
URL_MAX = 2000


class FollowUp(Timestamped, db.Model):
    """The follow-up of one recommendation or one action path (exactly one of the two)."""

    __tablename__ = "follow_up"
    __table_args__ = (
        CheckConstraint(
            "(recommendation_id IS NULL) != (action_path_id IS NULL)",
            name="follow_up_one_item",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    # Deleting the item deletes its follow-up (the database's cascade).
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    action_path_id: Mapped[int | None] = mapped_column(
        ForeignKey("action_path.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    # The body the item was addressed to (a ministry, a federation, a public service…).
    addressed_to: Mapped[str] = mapped_column(String(TITLE_MAX), default="")

    process: Mapped[Process] = relationship()
    recommendation: Mapped[Recommendation | None] = relationship()
    action_path: Mapped[ActionPath | None] = relationship()
    entries: Mapped[list[FollowUpEntry]] = relationship(
        back_populates="follow_up",
        order_by=lambda: (FollowUpEntry.happened_on, FollowUpEntry.id),
        cascade="all, delete-orphan",
    )
    links: Mapped[list[FollowUpLink]] = relationship(
        back_populates="follow_up", order_by="FollowUpLink.id", cascade="all, delete-orphan"
    )

    @property
    def item_type(self) -> str:
        return "recommendation" if self.recommendation_id is not None else "action_path"

    @property
    def item_id(self) -> int:
        return self.recommendation_id or self.action_path_id or 0

    @property
    def latest(self) -> FollowUpEntry | None:
        """The current status: the entry that happened last (recorded last on a tie)."""
        return self.entries[-1] if self.entries else None


class FollowUpEntry(db.Model):
    """One status change: what happened, when, in one sentence, and the progress then."""

    __tablename__ = "follow_up_entry"
    __table_args__ = (
        CheckConstraint(
            "status IN ('not_started', 'in_progress', 'done', 'abandoned', 'rejected')",
            name="follow_up_entry_status",
        ),
        CheckConstraint("progress >= 0 AND progress <= 100", name="follow_up_entry_progress"),
        CheckConstraint("length(note) > 0", name="follow_up_entry_note_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    happened_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    # When and by whom it was recorded: the feed's dates, and accountability among organisers.
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(TITLE_MAX), default="")

    follow_up: Mapped[FollowUp] = relationship(back_populates="entries")


class FollowUpLink(db.Model):
    """A link to a decision (a decree, minutes, a press release): http or https only."""

    __tablename__ = "follow_up_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    url: Mapped[str] = mapped_column(String(URL_MAX))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    follow_up: Mapped[FollowUp] = relationship(back_populates="links")


# Public comments on the recommendations of a published synthesis (issue 16, part 2).
COMMENT_STATES = ("pending", "published", "hidden")
# How a process takes comments: closed; each one approved by an organiser first (the
# default); or published at once (organisers may still hide one).
COMMENT_MODES = ("closed", "moderated", "immediate")


class PublishingSettings(db.Model):
    """A process's settings for its public pages (one row, made on first change)."""

    __tablename__ = "publishing_settings"
    __table_args__ = (
        CheckConstraint(
            "comments_mode IN ('closed', 'moderated', 'immediate')",
            name="publishing_settings_comments_mode",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("process.id", ondelete="CASCADE"), unique=True
    )
    comments_mode: Mapped[str] = mapped_column(String(20), default="moderated")


class PublicComment(db.Model):
    """A reader's comment on a recommendation. Never deleted from the application: a
    comment an organiser hides stays listed with the reason, without its text."""

    __tablename__ = "public_comment"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'published', 'hidden')", name="public_comment_state"),
        CheckConstraint("length(body) > 0", name="public_comment_body_not_empty"),
        CheckConstraint("reports >= 0", name="public_comment_reports"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    # Readers' reports: a count only (no address is kept), shown to the moderators.
    reports: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    moderated_by: Mapped[str] = mapped_column(String(TITLE_MAX), default="")

    recommendation: Mapped[Recommendation] = relationship()
