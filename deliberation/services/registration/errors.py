"""A refused form: one clear message per field, in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _


class RegistrationError(Exception):
    """Raised with the messages of every field at fault (``field -> message``)."""

    def __init__(self, errors: dict[str, str], full: bool = False) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        # An event was full and the registrant did not ask for the waiting list: the form
        # offers it.
        self.full = full


def clean(text: Any) -> str:
    """A one-line value as typed, without control characters nor runs of spaces."""
    if not isinstance(text, str):
        return ""
    from_printable = "".join(ch for ch in text if ch.isprintable() or ch == " ")
    return " ".join(from_printable.split())


def clean_text(text: Any) -> str:
    """A multi-line value: control characters out, line breaks kept."""
    if not isinstance(text, str):
        return ""
    lines = ("".join(ch for ch in line if ch.isprintable()) for line in text.splitlines())
    return "\n".join(line.rstrip() for line in lines).strip()


def too_long(limit: int) -> str:
    return _("At most %(max)d characters.", max=limit)


def required() -> str:
    return _("This field is required.")


def bounded(
    value: Any, limit: int, errors: dict[str, str], key: str, is_required: bool = False
) -> str:
    """A one-line field cleaned, its message put in ``errors[key]`` when it is missing or
    too long (a form says every fault at once)."""
    text = clean(value)
    if is_required and not text:
        errors[key] = required()
    elif len(text) > limit:
        errors[key] = too_long(limit)
    return text
