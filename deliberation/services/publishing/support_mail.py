"""The message that confirms a public signature (when e-mail confirmation is on: an SMTP
server configured). The address is used for this message only and never stored."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ...models import Process
from .. import mail


def send_confirmation(config: Any, process: Process, item: str, to: str, link: str) -> bool:
    """Send the link that makes a signature count; False when the server failed."""
    lines = [
        _("Hello,"),
        "",
        _("Someone — you, we hope — signed with this address: %(item)s.", item=item),
        _("Your signature counts once you confirm it by opening this link:"),
        link,
        "",
        _("If it was not you, ignore this message: nothing will be counted."),
    ]
    subject = _("Confirm your signature: %(title)s", title=process.title)
    return mail.send(config, mail.new_message(config, to, subject, lines), "signature confirmation")
