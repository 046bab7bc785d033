"""Public support for a published synthesis: readers sign the synthesis as a whole or one of
its recommendations, as on a petition. A signature is withdrawn, never deleted from the
application: the withdrawal is dated and the signature no longer counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TITLE_MAX, utcnow
from .process import Recommendation

ORGANISATION_MAX = 200
SUPPORT_COMMENT_MAX = 500
GROUP_MAX = 120
# An altcha challenge: 64 hexadecimal characters (SHA-256).
CHALLENGE_MAX = 64


class Support(db.Model):
    """One reader's signature. ``recommendation_id`` None: the synthesis as a whole."""

    __tablename__ = "support"
    __table_args__ = (
        Index("ix_support_target", "process_id", "recommendation_id"),
        Index("ix_support_signer", "process_id", "signer_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(TITLE_MAX))
    organisation: Mapped[str] = mapped_column(String(ORGANISATION_MAX), default="")
    group: Mapped[str] = mapped_column(String(GROUP_MAX), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    # The signer agreed to show their name (and organisation) on the public page and in the
    # open data; otherwise only the organisers see it.
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    # One person, one signature per item: the name and organisation normalised and hashed,
    # and the browser's own random id (a cookie), either of which finds an earlier one.
    signer_key: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64), default="", index=True)
    # The private link that withdraws it holds a token; only its hash is kept.
    withdraw_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The proof of work solved for it: a challenge is spent once.
    challenge: Mapped[str] = mapped_column(String(CHALLENGE_MAX), unique=True)
    # With e-mail confirmation (an SMTP server configured): the address is never kept, only
    # its hash (the same address signs once per item) and the hash of the token its message
    # carried. A signature counts once confirmed; without e-mail it is confirmed as signed.
    email_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    confirm_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    recommendation: Mapped[Recommendation | None] = relationship()

    @property
    def pending(self) -> bool:
        """Waiting for its e-mail confirmation: it does not count yet."""
        return self.confirmed_at is None
