"""Sending an e-mail (stdlib ``smtplib``), only when ``SMTP_HOST`` is configured.

Never required: a registration or a signature is recorded before its e-mail is tried, and a
mail server down is logged, not shown as an error page. Under gevent the socket waits
cooperatively, so a slow mail server never blocks the event loop.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)
TIMEOUT_S = 10


def configured(config: Any) -> bool:
    return bool(config.get("SMTP_HOST"))


def new_message(config: Any, to: str, subject: str, lines: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.get("SMTP_FROM") or f"noreply@{config['SMTP_HOST']}"
    message["To"] = to
    message.set_content("\n".join(lines))
    return message


def send(config: Any, message: EmailMessage, what: str) -> bool:
    """Send it; False (logged, with ``what`` it was) when the server failed."""
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=TIMEOUT_S) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("%s not sent: %s", what, error)
        return False
    return True
