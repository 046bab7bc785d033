"""Organiser accounts."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Organizer
from .validation import _

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    pass


def check_credentials(email: str, password: str) -> str:
    """The e-mail, normalised, once it and the password meet the rules (else AccountError).

    One set of rules for the command line and the invitation page.
    """
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise AccountError(_("Not an e-mail address: %(email)s.", email=email[:254]))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
    return email


def create_or_update_organizer(email: str, password: str, name: str = "") -> tuple[Organizer, bool]:
    email = check_credentials(email, password)
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


def create_organizer(email: str, password: str, name: str = "") -> Organizer:
    """A new account, never an existing one changed: whoever holds an invitation link must
    not be able to reset the password of an account that already has the e-mail."""
    email = check_credentials(email, password)
    if find_organizer(email) is not None:
        raise AccountError(_("An account with this e-mail already exists: log in instead."))
    organizer = Organizer(email=email, name=" ".join(name.split())[:200] or email.split("@")[0])
    organizer.set_password(password)
    db.session.add(organizer)
    try:
        db.session.commit()
    except IntegrityError:  # the same e-mail registered at the same moment
        db.session.rollback()
        raise AccountError(
            _("An account with this e-mail already exists: log in instead.")
        ) from None
    return organizer


def find_organizer(email: str) -> Organizer | None:
    return db.session.scalar(db.select(Organizer).filter_by(email=email.strip().lower()))


def set_admin(email: str, admin: bool) -> Organizer:
    """Grant or revoke the instance administrator's rights (command line only)."""
    organizer = find_organizer(email)
    if organizer is None:
        raise AccountError(_("No organiser account with the e-mail %(email)s.", email=email))
    organizer.is_admin = admin
    db.session.commit()
    return organizer
