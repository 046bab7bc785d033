"""Public signatures confirmed by e-mail (issue 16, part 1): with an SMTP server configured
(a local aiosmtpd here), a signature counts only once its signer opened the link of the
message; the address is never stored; a lost message or a server down loses nothing."""

from __future__ import annotations

import json
import re

import pytest

from deliberation.extensions import db
from deliberation.models import Recommendation, Support
from tests.access_world import client_as
from tests.conftest import free_port
from tests.test_registration_mail import smtp  # noqa: F401  (the fixture)
from tests.test_support import solved, world  # noqa: F401  (the fixture)

LINK = re.compile(r"https?://\S+/p/assises/support/confirm/(\S+)")


def _first_recommendation(app) -> int:
    with app.app_context():
        return db.session.scalars(db.select(Recommendation.id).order_by("id")).first()


def _sign(reader, rec_id: int, **fields):
    challenge = reader.get("/p/assises/support/challenge").get_json()
    form = {
        "recommendation_id": str(rec_id),
        "name": "Nathalie Roux",
        "group": "social_worker",
        "proof": json.dumps(solved(challenge)),
        **fields,
    }
    return reader.post("/p/assises/support", data=form, follow_redirects=True)


def _counted(reader) -> int:
    return sum(item["signatures"] for item in reader.get("/p/assises/support.json").json["support"])


def _links(inbox) -> list[str]:
    return [LINK.search(content).group(1) for _sender, _to, content in inbox.messages]


def test_a_signature_counts_once_its_email_link_is_confirmed(app, world, smtp):  # noqa: F811
    controller, inbox = smtp
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_FROM="p@example.org")
    rec_id = _first_recommendation(app)
    reader = client_as(app, None)
    assert 'name="email"' in reader.get(f"/p/assises/recommendations/{rec_id}").text
    # No address, or a wrong one: a message, nothing recorded.
    assert "e-mail address is needed" in _sign(reader, rec_id).text
    assert "does not look right" in _sign(reader, rec_id, email="nathalie@").text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 0
    page = _sign(reader, rec_id, email="Nathalie@Example.org").text
    assert "We sent a message to Nathalie@Example.org" in page
    assert _counted(reader) == 0 and "Awaiting your e-mail confirmation" in reader.get(
        f"/p/assises/recommendations/{rec_id}"
    ).text.replace("\u2019", "'")
    [token] = _links(inbox)
    assert inbox.messages[0][1] == ["Nathalie@Example.org"]
    with app.app_context():
        stored = db.session.scalar(db.select(Support))
        assert stored.confirmed_at is None
        assert "example.org" not in " ".join(str(v) for v in vars(stored).values()).lower()
    # Opening the link (as a mail scanner would) confirms nothing; the button does.
    opened = reader.get(f"/p/assises/support/confirm/{token}")
    assert opened.status_code == 200 and "Confirm my signature" in opened.text
    assert _counted(reader) == 0
    other_browser = client_as(app, None)
    done = other_browser.post(f"/p/assises/support/confirm/{token}", follow_redirects=True)
    assert "confirmed and counted" in done.text and _counted(reader) == 1
    again = other_browser.post(f"/p/assises/support/confirm/{token}", follow_redirects=True)
    assert again.status_code == 200 and _counted(reader) == 1
    # The same address under another name, from another browser: still one signature.
    third = client_as(app, None)
    _sign(third, rec_id, name="N. Roux", email="nathalie@example.org")
    assert _counted(reader) == 1 and len(inbox.messages) == 1
    # The organisers see when it was confirmed.
    owner = client_as(app, world.people["owner"])
    listing = owner.get("/organize/assises/supports/signatures.csv").text
    assert listing.splitlines()[0].endswith("signed_at,confirmed_at,withdrawn_at")
    assert listing.splitlines()[1].split(",")[-2] != ""


def test_a_lost_message_or_a_server_down_loses_nothing(app, world, smtp):  # noqa: F811
    controller, inbox = smtp
    rec_id = _first_recommendation(app)
    reader = client_as(app, None)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens
    page = _sign(reader, rec_id, email="amir@example.org")
    assert page.status_code == 200 and "could not be sent" in page.text
    with app.app_context():
        assert db.session.scalar(db.select(Support)).pending
    # Signing again once the server is back sends a new link; it confirms the same signature.
    app.config.update(SMTP_PORT=controller.port)
    assert "We sent a message" in _sign(reader, rec_id, email="amir@example.org").text
    _sign(reader, rec_id, email="amir@example.org")  # and once more: the last link wins
    first, last = _links(inbox)
    assert reader.get(f"/p/assises/support/confirm/{first}").status_code == 404
    reader.post(f"/p/assises/support/confirm/{last}")
    assert _counted(reader) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 1
    # A confirmation link never works for a withdrawn signature nor a made-up token.
    assert reader.get("/p/assises/support/confirm/" + "x" * 32).status_code == 404
    assert reader.post("/p/assises/support/confirm/" + "<script>" * 4).status_code in (302, 404)


@pytest.mark.parametrize("setting", ["off", "no smtp"])
def test_without_email_confirmation_a_signature_counts_at_once(app, world, smtp, setting):  # noqa: F811
    controller, inbox = smtp
    if setting == "off":
        app.config.update(
            SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SUPPORT_EMAIL_CONFIRMATION=False
        )
    rec_id = _first_recommendation(app)
    reader = client_as(app, None)
    assert 'name="email"' not in reader.get(f"/p/assises/recommendations/{rec_id}").text
    assert "your signature is counted" in _sign(reader, rec_id).text
    assert _counted(reader) == 1 and inbox.messages == []
