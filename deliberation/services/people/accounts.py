"""Organiser accounts: creation, log-in, password changes, and ending an organiser's
sessions everywhere.

Every organiser carries a ``session_epoch``, part of the id Flask-Login signs into the
session and remember-me cookies (``Organizer.get_id``). :func:`organizer_for_login_id` only
accepts an id of the current epoch, so moving it on (:func:`end_sessions`, and a password
change) makes every cookie issued before worthless, on every device, at once; the caller
then disconnects the organiser's facilitator sockets (``live.broadcast.organizer_signed_out``).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ...database import write_transaction, writes
from ...extensions import db
from ...models import Organizer
from ...offload import run_blocking
from ..validation import _, is_email
from .passwords import password_problem

_dummy_hash: str | None = None


class AccountError(ValueError):
    """A refused account change: ``code`` for programs (``invalid_email``, ``weak_password``,
    ``wrong_password``), ``message`` lazily translated, ready to show."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def check_credentials(email: str, password: str) -> str:
    """The e-mail, normalised, once it and the password meet the rules (else AccountError):
    the password policy (``services.people.passwords``). One set of rules for the command line,
    the invitation page and the "change my password" page."""
    email = email.strip().lower()
    if not is_email(email):
        raise AccountError(
            "invalid_email", _l("Not an e-mail address: %(email)s.", email=email[:254])
        )
    problem = password_problem(password, email)
    if problem is not None:
        raise AccountError("weak_password", problem)
    return email


def create_or_update_organizer(email: str, password: str, name: str = "") -> tuple[Organizer, bool]:
    """Create an organiser account, or set a new password (and name) on an existing one.
    A new password on an existing account ends its sessions everywhere (the caller
    disconnects its sockets)."""
    email = check_credentials(email, password)
    password_hash = run_blocking(generate_password_hash, password)  # before the write lock
    with write_transaction():
        organizer = db.session.scalar(db.select(Organizer).filter_by(email=email))
        created = organizer is None
        if created:
            organizer = Organizer(email=email, name=name or email.split("@")[0], session_epoch=0)
            db.session.add(organizer)
        else:
            if name:
                organizer.name = name
            organizer.session_epoch = Organizer.session_epoch + 1
        organizer.password_hash = password_hash
    return organizer, created


def create_organizer(email: str, password: str, name: str = "") -> Organizer:
    """A new account, never an existing one changed: whoever holds an invitation link must
    not be able to reset the password of an account that already has the e-mail."""
    email = check_credentials(email, password)
    if find_organizer(email) is not None:
        raise AccountError(
            "account_exists", _("An account with this e-mail already exists: log in instead.")
        )
    organizer = Organizer(email=email, name=" ".join(name.split())[:200] or email.split("@")[0])
    organizer.set_password(password)
    try:
        with write_transaction():
            db.session.add(organizer)
            db.session.flush()  # the conflict surfaces here, in a caller's transaction too
    except IntegrityError:  # the same e-mail registered at the same moment
        raise AccountError(
            "account_exists", _("An account with this e-mail already exists: log in instead.")
        ) from None
    return organizer


def find_organizer(email: str) -> Organizer | None:
    return db.session.scalar(db.select(Organizer).filter_by(email=email.strip().lower()))


def _unknown_account_hash() -> str:
    """A hash made like the real ones, checked for an unknown e-mail so that the answer
    takes as long as for a known one (the time must not tell which accounts exist)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = run_blocking(generate_password_hash, secrets.token_hex(16))
    return _dummy_hash


def authenticate(email: str, password: str) -> Organizer | None:
    """The organiser with this e-mail and password, or None. One password hash is checked
    either way, off the event loop (``offload.run_blocking``)."""
    organizer = find_organizer(email)
    if organizer is None:
        run_blocking(check_password_hash, _unknown_account_hash(), password)
        return None
    return organizer if organizer.check_password(password) else None


def organizer_for_login_id(login_id: str) -> Organizer | None:
    """The organiser a session or remember-me cookie names, if its epoch is still current."""
    raw_id, _sep, raw_epoch = (login_id or "").partition(":")
    if not (raw_id.isdigit() and raw_epoch.isdigit()):
        return None  # a cookie from before epochs, or not ours
    organizer = db.session.get(Organizer, int(raw_id))
    if organizer is None or (organizer.session_epoch or 0) != int(raw_epoch):
        return None
    return organizer


def end_sessions(organizer: Organizer) -> None:
    """Make every session and remember-me cookie of ``organizer`` worthless (committed)."""
    with write_transaction():
        db.session.execute(
            update(Organizer)
            .where(Organizer.id == organizer.id)
            .values(session_epoch=Organizer.session_epoch + 1)
        )
    db.session.refresh(organizer)


def change_password(organizer: Organizer, current: str, new: str) -> None:
    """Check ``current``, apply the policy to ``new``, store it and end every session of
    the organiser (committed; the caller logs this browser in again)."""
    if not organizer.check_password(current):
        raise AccountError("wrong_password", _l("Your current password is not this one."))
    problem = password_problem(new, organizer.email)
    if problem is not None:
        raise AccountError("weak_password", problem)
    new_hash = run_blocking(generate_password_hash, new)  # before taking the write lock
    with write_transaction():
        db.session.execute(
            update(Organizer)
            .where(Organizer.id == organizer.id)
            .values(password_hash=new_hash, session_epoch=Organizer.session_epoch + 1)
        )
    db.session.refresh(organizer)


@writes
def set_admin(email: str, admin: bool) -> Organizer:
    """Grant or revoke the instance administrator's rights (command line only)."""
    organizer = find_organizer(email)
    if organizer is None:
        raise AccountError(
            "unknown_account", _("No organiser account with the e-mail %(email)s.", email=email)
        )
    organizer.is_admin = admin
    return organizer
