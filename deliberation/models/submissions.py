"""Form submissions already received, so that a form sent twice creates its thing once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

SUBMISSION_TOKEN_MAX = 64
LOCATION_MAX = 2000


class FormSubmission(db.Model):
    """One create form's token: claimed when the form first arrives, then the address the
    organiser was sent to (empty while that first request is still being handled)."""

    __tablename__ = "form_submission"

    token: Mapped[str] = mapped_column(String(SUBMISSION_TOKEN_MAX), primary_key=True)
    location: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
