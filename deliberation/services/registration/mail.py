"""The optional registration confirmation e-mail: sent only when ``SMTP_HOST`` is configured
and the registrant gave an address. A mail server down never loses a registration: the
confirmation page holds everything the e-mail would."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from flask_babel import gettext as _

from ...models import Registration
from .. import mail
from ..live.admission import format_ticket


def confirmation(config: Any, registration: Registration, link: str) -> EmailMessage:
    lines = [
        _("Hello %(name)s,", name=registration.name),
        "",
        _("Your registration is recorded."),
        _("Your ticket: %(code)s", code=format_ticket(registration.code)),
        "",
    ]
    for place in registration.places:
        state = _("confirmed") if place.status == "confirmed" else _("waiting list")
        when = place.event.starts_at.strftime("%Y-%m-%d %H:%M")
        lines.append(f"- {place.event.title} — {when} — {place.event.place} ({state})")
    lines += ["", _("Your ticket, and to change or cancel your registration:"), link]
    subject = _("Your registration: %(title)s", title=registration.process.title)
    return mail.new_message(config, registration.email, subject, lines)


def send_confirmation(config: Any, registration: Registration, link: str) -> bool:
    """Send it; False when not configured, no address, or the server failed."""
    if not mail.configured(config) or not registration.email:
        return False
    return mail.send(config, confirmation(config, registration, link), "registration confirmation")
