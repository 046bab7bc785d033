"""Join and projector codes cannot be guessed at speed (SQLite and PostgreSQL): unknown codes
tried from one address — on the code page, the join and phone pages, the projector page and
the projector's Socket.IO connect alike — spend one budget; past it the address is refused
with a clear message, even for a code that exists. Codes that match a session never count,
so a hall joining through one NAT address is never refused."""

from __future__ import annotations

import pytest

from deliberation.extensions import socketio
from deliberation.live import rooms
from deliberation.services.people.throttles import CODE_GUESSES
from tests.live_fixtures import make_process, workshop

VENUE = "198.51.100.20"


@pytest.fixture
def guessing_app(any_db_app):
    rooms.clear()
    any_db_app.config["CODE_GUESS_LIMIT"] = "6 per minute"  # small, to reach it quickly
    with any_db_app.app_context():
        any_db_app.config["code"] = workshop(make_process()).join_code
    yield any_db_app
    rooms.clear()


def from_address(app, address: str, language: str = "en"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def projector_socket(app, client, code: str):
    return socketio.test_client(
        app, flask_test_client=client, auth={"role": "projector", "code": code}
    )


def test_unknown_codes_spend_one_budget_then_the_address_is_refused(guessing_app):
    app, code = guessing_app, guessing_app.config["code"]
    guesser = from_address(app, "203.0.113.66")
    tries = ["/j?code=ZZZZZZ", "/j/ZZZZZY", "/s/ZZZZZX", "/projector/ZZZZZW", "/s/ZZZZZV/qr.svg"]
    for path in tries:
        assert guesser.get(path).status_code == 404, path
    refused_socket = projector_socket(app, guesser, "ZZZZZU")  # the sixth, over the socket
    assert not refused_socket.is_connected()

    # Over the budget: refused before any lookup, an existing code included.
    for path in (f"/j/{code}", f"/projector/{code}", f"/j?code={code}", "/j?code=ZZZZZT"):
        response = guesser.get(path)
        assert response.status_code == 429, path
        assert b"Too many unknown codes were tried from this network" in response.data
        assert int(response.headers["Retry-After"]) > 0
    french = from_address(app, "203.0.113.66", language="fr").get(f"/j/{code}")
    assert b"Trop de codes inconnus" in french.data
    socket = projector_socket(app, guesser, code)
    assert not socket.is_connected()
    with app.test_request_context():  # the refusal names its reason
        assert CODE_GUESSES.wait("203.0.113.66") > 0

    # Another address is not concerned.
    other = from_address(app, "203.0.113.67")
    assert other.get(f"/j/{code}").status_code == 200
    assert projector_socket(app, other, code).is_connected()


def test_a_hall_behind_one_address_is_never_refused(guessing_app):
    """Right codes never count: hundreds of phones arriving through one venue address
    (and a few typos among them, under the limit) all get in."""
    app, code = guessing_app, guessing_app.config["code"]
    for index in range(200):
        phone = from_address(app, VENUE)
        path = f"/j/{code}" if index % 2 else f"/j?code={code.lower()}"
        assert phone.get(path).status_code in (200, 302), index
        if index % 50 == 0:  # a typo now and then
            assert phone.get("/j?code=ZZZZZZ").status_code == 404
    assert projector_socket(app, from_address(app, VENUE), code).is_connected()
    assert from_address(app, VENUE).get(f"/projector/{code}").status_code == 200
