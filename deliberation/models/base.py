"""Shared column helpers for the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column

# Bounds used by the models and checked by services and forms alike.
TITLE_MAX = 300
TEXT_MAX = 20_000
# A proposal from the floor is typed on a phone during a workshop and shown on the
# projector beside the wording it amends: a tenth of an authored text. Adopted, it becomes
# an authored text, well within TEXT_MAX.
PROPOSAL_TEXT_MAX = 2_000


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
