"""The optional confirmation e-mail (stdlib ``smtplib``): sent only when ``SMTP_HOST`` is
configured and the registrant gave an address. A mail server down never loses a
registration: the confirmation page holds everything the e-mail would."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from flask_babel import gettext as _

from ...models import Registration
from ..live.admission import format_ticket

log = logging.getLogger(__name__)
TIMEOUT_S = 10


def configured(config: Any) -> bool:
    return bool(config.get("SMTP_HOST"))


def confirmation(registration: Registration, link: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = _("Your registration: %(title)s", title=registration.process.title)
    message["From"] = sender
    message["To"] = registration.email
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
    message.set_content("\n".join(lines))
    return message


def send_confirmation(config: Any, registration: Registration, link: str) -> bool:
    """Send it; False (logged) when not configured, no address, or the server failed."""
    if not configured(config) or not registration.email:
        return False
    sender = config.get("SMTP_FROM") or f"noreply@{config['SMTP_HOST']}"
    message = confirmation(registration, link, sender)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=TIMEOUT_S) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("registration confirmation not sent: %s", error)
        return False
    return True
