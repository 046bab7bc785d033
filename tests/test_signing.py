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
