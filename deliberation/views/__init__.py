"""One blueprint per audience, registered by :func:`register`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (
        admission,
        auth,
        consolidate,
        exports,
        facilitate,
        guard,
        invitations,
        members,
        organize,
        participate,
        public,
        published,
    )

    guard.register(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(organize.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(facilitate.bp)
    app.register_blueprint(admission.bp)
    app.register_blueprint(participate.bp)
    app.register_blueprint(published.bp)
    app.register_blueprint(consolidate.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(invitations.bp)
