"""The health endpoint, for the reverse proxy and monitoring (docs/deployment.md).

``GET /healthz`` answers 200 when the instance can serve a hall, 503 otherwise, with one
word per part and nothing else (no path, no version, no error text to help an attacker).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import operations
from ..extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt  # polled every few seconds by a proxy or a monitor on one address
def healthz():
    state = operations.health(
        db.engine,
        current_app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        current_app.config["EXPORTS_DIR"],
        current_app.config.get("HEALTH_MIN_FREE_MB") or operations.MIN_FREE_MB,
    )
    response = jsonify(state.public())
    response.status_code = 200 if state.ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
