"""Checks shared by the services (authoring, accounts, membership): each raises a message
meant for the organiser."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import TEXT_MAX, TITLE_MAX

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 80
# Good enough to catch a typo (RFC 5321's length limit): an address is only ever used to
# write to its owner, who proves it by answering.
EMAIL_MAX = 254
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(value: str) -> bool:
    return len(value) <= EMAIL_MAX and EMAIL_PATTERN.match(value) is not None


def _(text: str, **params: Any) -> str:
    """Translate for the organiser's request; outside a request (CLI, imports) keep English."""
    if has_request_context():
        return gettext(text, **params)
    return text % params if params else text


class ValidationError(ValueError):
    """Input refused; ``message`` is shown to the organiser, ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _normalise(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _within_bounds(cleaned: str, what: str, required: bool, maximum: int) -> str:
    if required and not cleaned:
        raise ValidationError(_("%(what)s cannot be empty.", what=what))
    if len(cleaned) > maximum:
        raise ValidationError(
            _(
                "%(what)s is too long: %(count)d characters, at most %(max)d.",
                what=what,
                count=len(cleaned),
                max=maximum,
            )
        )
    return cleaned


# Ordinary whitespace only: French typography's non-breaking spaces (U+00A0 before « : »,
# U+202F before « ; ») are part of a title and kept exactly (docs/process-format.md).
_COLLAPSIBLE = re.compile(r"[ \t\r\n\f\v]+")


def one_line(value: str) -> str:
    """A title on one line: runs of ordinary whitespace become one space, trimmed."""
    return _COLLAPSIBLE.sub(" ", value).strip()


def check_title(value: Any, what: str, required: bool = True) -> str:
    title = one_line(_normalise(value))
    return _within_bounds(title, what, required, TITLE_MAX)


def check_text(value: Any, what: str, required: bool = True, maximum: int = TEXT_MAX) -> str:
    text = "\n".join(line.rstrip() for line in _normalise(value).strip().split("\n"))
    return _within_bounds(text, what, required, maximum)


def check_slug(value: Any) -> str:
    slug = _normalise(value).strip()
    if not slug:
        raise ValidationError(_("The address (slug) cannot be empty."), "slug")
    if len(slug) > SLUG_MAX or not SLUG_PATTERN.match(slug):
        raise ValidationError(
            _(
                "The address (slug) may only hold lower-case letters, digits and single "
                "hyphens, at most %(max)d characters, e.g. assises-2025.",
                max=SLUG_MAX,
            ),
            "slug",
        )
    return slug


def check_choice(value: Any, choices: tuple[str, ...] | list[str], what: str) -> str:
    choice = _normalise(value).strip()
    if choice not in choices:
        raise ValidationError(
            _("%(what)s must be one of: %(choices)s.", what=what, choices=", ".join(choices))
        )
    return choice


def check_percent(value: Any, what: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("%(what)s must be a whole number.", what=what)) from None
    if not 0 <= number <= 100:
        raise ValidationError(_("%(what)s must be between 0 and 100.", what=what))
    return number


def check_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "y")
    return bool(value)


class ConfirmationRequired(Exception):
    """Deleting this item would take other things with it; ask first."""

    def __init__(self, impact: Impact):
        super().__init__("Deleting this item needs a confirmation.")
        self.impact = impact


@dataclass
class Impact:
    """What a deletion would take with it."""

    # (item type, count) of the items deleted along with this one.
    children: dict[str, int] = field(default_factory=dict)
    polls: int = 0
    ballots_agenda_items: int = 0
    proposals: int = 0
    sessions: int = 0
    stances: int = 0
    linked_findings: int = 0

    @property
    def needs_confirmation(self) -> bool:
        return bool(
            any(self.children.values())
            or self.polls
            or self.ballots_agenda_items
            or self.proposals
            or self.sessions
            or self.stances
        )


def flush_checked(then: Callable[[], None] = lambda: None) -> None:
    """Flush, run ``then`` (e.g. record a version), flush again; a conflict is refused.

    Called inside the service's write transaction (:func:`deliberation.database.writes`),
    which the refusal rolls back: the conflict surfaces here, with a message, rather than
    at the commit."""
    try:
        db.session.flush()
        then()
        db.session.flush()
    except IntegrityError as error:
        raise ValidationError(_("This conflicts with existing data; nothing was saved.")) from error
