"""Organiser accounts (SQLite and PostgreSQL): log-in throttled per account and per address
with a clear message, an unknown e-mail costing the same hash as a known one, the password
policy, the "change my password" page, and log-out and password change ending every
session of the organiser: session cookies, remember-me cookies and facilitator sockets."""

from __future__ import annotations

import pytest
from werkzeug.security import check_password_hash

from deliberation.extensions import db, socketio
from deliberation.live import rooms
from deliberation.models import Organizer
from deliberation.services.people import accounts
from deliberation.services.people.accounts import AccountError, create_or_update_organizer
from deliberation.services.people.throttles import address_key
from tests.live_fixtures import make_member, make_process, workshop

EMAIL, PASSWORD = "orga@example.org", "a long organiser password"
OTHER_EMAIL, OTHER_PASSWORD = "other@example.org", "another long password"


@pytest.fixture
def accounts_app(any_db_app):
    rooms.clear()
    with any_db_app.app_context():
        organizer, _created = create_or_update_organizer(EMAIL, PASSWORD)
        colleague, _created = create_or_update_organizer(OTHER_EMAIL, OTHER_PASSWORD)
        process = make_process()
        for member in (organizer, colleague):  # both may run its sessions
            make_member(process.id, member.id, "co_organizer")
        any_db_app.config["session_id"] = workshop(process).id
    yield any_db_app
    rooms.clear()


def client_from(app, address: str, language: str = "en"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def log_in(client, email: str = EMAIL, password: str = PASSWORD, remember: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def logged_in(client) -> bool:
    response = client.get("/organize/")
    return response.status_code == 200


# -- throttling ---------------------------------------------------------------------------


def test_login_is_throttled_per_account_with_a_clear_message(accounts_app):
    attacker = client_from(accounts_app, "198.51.100.7")
    for _attempt in range(5):  # LOGIN_LIMIT_PER_ACCOUNT: 5 per minute
        assert log_in(attacker, password="wrong guess here").status_code == 400
    # The right password is refused too now: the throttle cannot confirm a guess.
    refused = log_in(attacker)
    assert refused.status_code == 429
    assert b"Too many log-in attempts" in refused.data and b"Try again in 1 minute" in refused.data
    assert not logged_in(attacker)
    # From another network the account is throttled all the same (per account)…
    elsewhere = client_from(accounts_app, "203.0.113.9", language="fr")
    refused = log_in(elsewhere)
    assert refused.status_code == 429
    assert b"Trop de tentatives de connexion" in refused.data
    # …while another account logs in from there.
    assert log_in(elsewhere, OTHER_EMAIL, OTHER_PASSWORD).status_code == 302
    assert logged_in(elsewhere)


def test_login_is_throttled_per_address(accounts_app):
    sprayer = client_from(accounts_app, "2001:db8:1:2::10")
    for index in range(10):  # LOGIN_LIMIT_PER_ADDRESS: 10 per minute, any account
        assert log_in(sprayer, f"guess{index}@example.org", "wrong guess here").status_code == 400
    # The same /64 (another address of the same household or phone) is the same address.
    neighbour = client_from(accounts_app, "2001:db8:1:2::99")
    assert log_in(neighbour).status_code == 429
    # Another address is not affected.
    assert log_in(client_from(accounts_app, "2001:db8:7:7::1")).status_code == 302


def test_address_keys():
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_key(None) == "unknown"


# -- timing -------------------------------------------------------------------------------


def test_an_unknown_email_costs_the_same_hash_as_a_known_one(accounts_app, monkeypatch):
    """No timing: what takes the time (one hash check, off the event loop) is done once for
    an unknown e-mail as for a known one, with a hash made the same way."""
    checked: list[str] = []

    def spying_run_blocking(function, *args, **kwargs):
        if function is check_password_hash:
            checked.append(args[0])
        return function(*args, **kwargs)

    monkeypatch.setattr("deliberation.services.people.accounts.run_blocking", spying_run_blocking)
    monkeypatch.setattr("deliberation.models.users.run_blocking", spying_run_blocking)
    with accounts_app.app_context():
        real_hash = db.session.scalar(db.select(Organizer.password_hash).filter_by(email=EMAIL))
        assert accounts.authenticate("nobody@example.org", PASSWORD) is None
        assert accounts.authenticate(EMAIL, "wrong guess here") is None
        assert accounts.authenticate(EMAIL, PASSWORD) is not None
    assert len(checked) == 3
    method = real_hash.split("$", 1)[0]  # e.g. scrypt:32768:8:1
    assert [stored.split("$", 1)[0] for stored in checked] == [method] * 3
    assert checked[0] != real_hash


# -- password policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["short", "organisateur2024!", "Organisateur@Example.org", "motdepasse2024", "a" * 12],
)
def test_password_policy_refuses(app, password):
    with app.app_context(), pytest.raises(AccountError) as refused:
        create_or_update_organizer("organisateur@example.org", password)
    assert refused.value.code == "weak_password"


def test_create_organizer_command_applies_the_policy(app, runner):
    with app.app_context():
        weak = runner.invoke(args=["create-organizer", "x@example.org", "--password", "azerty123"])
        assert weak.exit_code != 0 and "Traceback" not in weak.output
        assert db.session.scalar(db.select(Organizer).filter_by(email="x@example.org")) is None
        good = runner.invoke(
            args=["create-organizer", "x@example.org", "--password", "four words of mine"]
        )
        assert good.exit_code == 0, good.output
        assert accounts.authenticate("x@example.org", "four words of mine") is not None


# -- change my password, log out: every session ends --------------------------------------


def test_password_change_page_refuses_clearly_and_changes_nothing(accounts_app):
    client = client_from(accounts_app, "192.0.2.10")
    log_in(client)
    assert client.get("/account/password").status_code == 200
    cases = [
        ({"current": "not my password", "new": "a new long pass", "confirm": "a new long pass"},
         b"Your current password is not this one"),
        ({"current": PASSWORD, "new": "password123", "confirm": "password123"},
         b"one of the first that anyone guessing would try"),
        ({"current": PASSWORD, "new": "a new long pass", "confirm": "another one"},
         b"The two new passwords differ"),
    ]  # fmt: skip
    for form, message in cases:
        response = client.post("/account/password", data=form)
        assert response.status_code == 400 and message in response.data, form
    with accounts_app.app_context():
        assert accounts.authenticate(EMAIL, PASSWORD) is not None


def test_password_change_ends_every_other_session(accounts_app):
    here = client_from(accounts_app, "192.0.2.10")
    there = client_from(accounts_app, "192.0.2.11")
    log_in(here)
    log_in(there, remember=True)
    remembered = there.get_cookie("remember_token").value
    old_session = there.get_cookie("session").value
    assert logged_in(there)

    changed = here.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a brand new pass", "confirm": "a brand new pass"},
    )
    assert changed.status_code == 302
    assert logged_in(here), "the browser that changed it stays logged in"
    assert not logged_in(there)
    for name, value in (("session", old_session), ("remember_token", remembered)):
        replay = client_from(accounts_app, "192.0.2.12")
        replay.set_cookie(name, value)
        assert not logged_in(replay), name
    with accounts_app.app_context():
        assert accounts.authenticate(EMAIL, PASSWORD) is None
        assert accounts.authenticate(EMAIL, "a brand new pass") is not None


def test_logout_ends_every_session_and_remember_cookie(accounts_app):
    laptop = client_from(accounts_app, "192.0.2.20")
    phone = client_from(accounts_app, "192.0.2.21")
    log_in(laptop, remember=True)
    log_in(phone, remember=True)
    cookies = {name: laptop.get_cookie(name).value for name in ("session", "remember_token")}
    other = client_from(accounts_app, "192.0.2.22")
    log_in(other, OTHER_EMAIL, OTHER_PASSWORD)

    assert laptop.post("/logout").status_code == 302
    assert not logged_in(laptop) and not logged_in(phone)
    for name, value in cookies.items():  # a cookie copied before the log-out is worthless
        replay = client_from(accounts_app, "192.0.2.23")
        replay.set_cookie(name, value)
        assert not logged_in(replay), name
    assert logged_in(other), "another organiser's sessions are not touched"
    log_in(phone)
    assert logged_in(phone), "logging in again works"


def facilitator_socket(app, http):
    session_id = app.config["session_id"]
    client = socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": session_id}
    )
    assert client.is_connected()
    return client


@pytest.mark.parametrize("how", ["logout", "password change"])
def test_sessions_ending_disconnect_the_facilitator_sockets(accounts_app, how):
    console = client_from(accounts_app, "192.0.2.30")
    log_in(console)
    socket = facilitator_socket(accounts_app, console)
    colleague = client_from(accounts_app, "192.0.2.31")
    log_in(colleague, OTHER_EMAIL, OTHER_PASSWORD)
    colleague_socket = facilitator_socket(accounts_app, colleague)

    elsewhere = client_from(accounts_app, "192.0.2.32")
    log_in(elsewhere)
    if how == "logout":
        assert elsewhere.post("/logout").status_code == 302
    else:
        form = {"current": PASSWORD, "new": "a brand new pass", "confirm": "a brand new pass"}
        assert elsewhere.post("/account/password", data=form).status_code == 302
    assert not socket.is_connected()
    assert colleague_socket.is_connected()
    assert colleague_socket.emit("show_item", {"item_id": None}, callback=True)["ok"] is True
    # A new socket with the old cookie is refused at the door.
    again = socketio.test_client(
        accounts_app,
        flask_test_client=console,
        auth={"role": "facilitator", "session_id": accounts_app.config["session_id"]},
    )
    assert not again.is_connected()


def test_events_of_a_revoked_facilitator_are_refused_before_the_disconnect(accounts_app):
    """The sessions end where no socket can be reached (another process without a message
    queue, the command line): the socket stays open until then, and is refused."""
    console = client_from(accounts_app, "192.0.2.40")
    log_in(console)
    socket = facilitator_socket(accounts_app, console)
    assert socket.emit("show_item", {"item_id": None}, callback=True)["ok"] is True
    with accounts_app.app_context():
        accounts.end_sessions(db.session.scalar(db.select(Organizer).filter_by(email=EMAIL)))
    assert socket.is_connected()
    ack = socket.emit("show_item", {"item_id": None}, callback=True)
    assert ack["ok"] is False and ack["error"] == "not_allowed"
    assert socket.emit("list_proposals", {}, callback=True)["ok"] is False
