"""A create form sent twice — Back then Send again, a double tap, a reload that re-posts —
creates its thing once. Each create form carries a random token; the first request with a
token claims it, and records where it sent the organiser; a later one with the same token is
told it was already saved and sent to the same place."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from ..database import write_transaction
from ..extensions import db
from ..models import SUBMISSION_TOKEN_MAX, FormSubmission, utcnow
from ..models.submissions import LOCATION_MAX

# Long enough for any Back button; the table stays small.
KEPT_FOR = timedelta(days=2)
TOKEN_BYTES = 24  # 32 URL-safe characters


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str) -> bool:
    return 20 <= len(token) <= SUBMISSION_TOKEN_MAX and all(
        char.isalnum() or char in "-_" for char in token
    )


@dataclass(frozen=True)
class Earlier:
    """The same form was already received: where its first request sent the organiser
    (empty while that request is still being handled)."""

    location: str


def claim(token: str) -> Earlier | None:
    """None when this is the form's first arrival (the token is now taken); else what the
    first arrival left."""
    try:
        with write_transaction():
            db.session.execute(
                db.delete(FormSubmission).where(FormSubmission.created_at < utcnow() - KEPT_FOR)
            )
            db.session.add(FormSubmission(token=token))
    except IntegrityError:
        db.session.rollback()
        earlier = db.session.get(FormSubmission, token)
        return Earlier(earlier.location if earlier else "")
    return None


def settle(token: str, location: str) -> None:
    """The first arrival succeeded and sent the organiser to ``location``."""
    with write_transaction():
        submission = db.session.get(FormSubmission, token)
        if submission is not None:
            submission.location = location[:LOCATION_MAX]


def release(token: str) -> None:
    """The first arrival did not create anything (its form had errors): the same form,
    corrected and sent again, must be taken."""
    with write_transaction():
        db.session.execute(db.delete(FormSubmission).where(FormSubmission.token == token))
