"""Flask's signed-cookie sessions, the signer built once per key instead of once per request.

Flask builds a new ``URLSafeTimedSerializer`` (and itsdangerous probes its JSON serializer
by dumping a test string) every time it opens a session — for every page, and for every
Socket.IO event, for which Flask-SocketIO pushes a request context of its own. Measured:
a third of the cost of a request context (docs/benchmarks.md, "the connect path"). The
serializer holds nothing per request, so one per key (and fallback keys) is kept.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


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
