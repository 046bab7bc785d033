"""Flask's signed-cookie sessions, the signer built once per key instead of once per request,
and not opened again for each Socket.IO event.

Flask builds a new ``URLSafeTimedSerializer`` (and itsdangerous probes its JSON serializer
by dumping a test string) every time it opens a session — for every page, and for every
Socket.IO event, for which Flask-SocketIO pushes a request context of its own. Measured:
a third of the cost of a request context (docs/benchmarks.md, "the connect path"). The
serializer holds nothing per request, so one per key (and fallback keys) is kept.

Flask-SocketIO (``manage_session``, its default) keeps a copy of the session taken at the
connection's first event, in the connection's environ, and puts it in place of the session
Flask opened for every later event: parsing the ``Cookie`` header and checking the
signature again for each ballot was thrown away (~2 % of a vote's server CPU with two
hosts, docs/benchmarks.md "Fewer round trips per batch"). Such an event gets an empty
session, at once replaced by the kept copy; tests/test_signing.py pins that behaviour.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

# Where Flask-SocketIO keeps a connection's copy of the session (in the socket's environ).
SOCKETIO_KEPT_SESSION = "saved_session"


class SignedCookieSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Keyed by the keys themselves: a rotated key (or new fallbacks) gets a new signer.
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers[key] = serializer
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if SOCKETIO_KEPT_SESSION in request.environ:
            return self.session_class()  # replaced by the connection's kept copy
        return super().open_session(app, request)
