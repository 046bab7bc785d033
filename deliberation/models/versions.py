"""Version history of every authored text item (amendments and the Actes rely on it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

# item_type values: the keys of models.item_types (VERSIONED_TYPES), the table names.
VERSION_KINDS = ("created", "edited", "imported", "amendment", "rollback")


class TextVersion(db.Model):
    __tablename__ = "text_version"
    __table_args__ = (
        UniqueConstraint("item_type", "item_id", "number"),
        Index("ix_text_version_item", "item_type", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="edited")
    author: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the change came from the floor: which session and which vote adopted it.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("live_session.id", ondelete="SET NULL"), nullable=True
    )
    poll_id: Mapped[int | None] = mapped_column(
        ForeignKey("poll.id", ondelete="SET NULL"), nullable=True
    )
