"""Flask's cookie sessions with one signer per key (deliberation/signing.py)."""

from __future__ import annotations

from deliberation.signing import SignedCookieSessions


def test_the_signer_is_built_once_per_key_and_anew_for_a_new_key(app):
    interface = app.session_interface
    assert isinstance(interface, SignedCookieSessions)
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    old_key = app.secret_key
    app.config["SECRET_KEY"] = "a rotated key"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    rotated = interface.get_signing_serializer(app)
    assert rotated is not first
    # Signed under the old key, still read under the new one through its fallback.
    assert rotated.loads(first.dumps({"a": 1})) == {"a": 1}


def test_a_session_written_by_one_request_is_read_by_the_next(client):
    assert client.post("/lang/en").status_code == 302
    with client.session_transaction() as session:
        assert session["lang"] == "en"  # the cookie the app signed opens again
    assert client.post("/lang/fr").status_code == 302
    with client.session_transaction() as session:
        assert session["lang"] == "fr"


def test_a_socket_opens_the_cookie_session_once_and_keeps_it_for_its_events(any_db_app):
    """Flask-SocketIO replaces the session of every event after the first with the copy it
    keeps for the connection; the cookie is not opened (parsed, its signature checked) for
    each of them, and the events still act as the logged-in organiser."""
    from unittest import mock

    from deliberation.extensions import socketio
    from deliberation.live import rooms
    from tests.access_world import build_world, client_as

    app = any_db_app
    rooms.clear()
    world = build_world(app)
    interface = app.session_interface
    signer = interface.get_signing_serializer(app)
    with mock.patch.object(signer, "loads", wraps=signer.loads) as opened:
        console = socketio.test_client(
            app,
            flask_test_client=client_as(app, world.people["facilitator"]),
            auth={"role": "facilitator", "session_id": world.ids["session_id"]},
        )
        assert console.is_connected()
        answers = [console.emit("sync", {}, callback=True) for _ in range(3)]
        console.disconnect()
    rooms.clear()
    # A facilitator's state, not a refusal: the kept session still names the organiser.
    assert all(answer.get("role") == "facilitator" for answer in answers), answers
    assert opened.call_count == 1
