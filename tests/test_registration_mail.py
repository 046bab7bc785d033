"""The optional confirmation e-mail, sent to a local SMTP server (aiosmtpd); never
required: without SMTP_HOST, or with the server down, the registration is made all the same."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from deliberation.extensions import db
from deliberation.models import Registration
from tests.conftest import free_port
from tests.test_registration import FORM, world  # noqa: F401  (the fixture)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001 - aiosmtpd's API
        self.messages.append(
            (envelope.mail_from, envelope.rcpt_tos, envelope.content.decode("utf-8", "replace"))
        )
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _register(app, world, **form):  # noqa: F811
    client = app.test_client()
    data = {**FORM, "event_ids": [str(world["ag"])], **form}
    return client, client.post(f"/p/{world['slug']}/register", data=data, follow_redirects=True)


def test_a_confirmation_is_sent_when_smtp_is_configured(app, world, smtp):  # noqa: F811
    controller, inbox = smtp
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_FROM="ag@example.org")
    _client, page = _register(app, world, email="nathalie@example.org")
    assert "Une confirmation a été envoyée à nathalie@example.org" in page.get_data(as_text=True)
    assert len(inbox.messages) == 1
    sender, recipients, content = inbox.messages[0]
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
    assert sender == "ag@example.org" and recipients == ["nathalie@example.org"]
    assert f"/r/{registration.secret}" in content
    assert registration.code[:5] in content


def test_no_smtp_or_a_server_down_loses_nothing(app, world):  # noqa: F811
    _client, page = _register(app, world, email="nathalie@example.org")
    assert "Vous êtes inscrit" in page.get_data(as_text=True)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens
    _client, page = _register(app, world, name="Amir", email="amir@example.org")
    html = page.get_data(as_text=True)
    assert "Vous êtes inscrit" in html and "confirmation a été envoyée" not in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 2
