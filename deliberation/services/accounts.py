"""Organiser accounts."""

from __future__ import annotations

import re

from ..extensions import db
from ..models import Organizer

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    pass


def create_or_update_organizer(email: str, password: str, name: str = "") -> tuple[Organizer, bool]:
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise AccountError(f"Not an e-mail address: {email!r}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    organizer = db.session.scalar(db.select(Organizer).filter_by(email=email))
    created = organizer is None
    if created:
        organizer = Organizer(email=email, name=name or email.split("@")[0])
        db.session.add(organizer)
    elif name:
        organizer.name = name
    organizer.set_password(password)
    db.session.commit()
    return organizer, created


def find_organizer(email: str) -> Organizer | None:
    return db.session.scalar(db.select(Organizer).filter_by(email=email.strip().lower()))
