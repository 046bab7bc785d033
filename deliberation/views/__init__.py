"""One blueprint per audience, registered by :func:`register`."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import format_date, format_datetime
from werkzeug.routing import IntegerConverter

from .. import inputs
from . import (
    admission,
    auth,
    comments,
    consolidate,
    experts,
    experts_admin,
    exports,
    facilitate,
    followup,
    guard,
    handouts,
    health,
    invitations,
    members,
    once,
    organize,
    participate,
    public,
    published,
    registration,
    registration_admin,
    support,
)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_unstorable_input() -> None:
    """A query or form value no database can store (a NUL: no browser sends one) is a bad
    request (400, the site's error page), before any view reads it."""
    values = [*request.args.items(multi=True)]
    if request.method == "POST" and request.mimetype in FORM_TYPES:
        values += request.form.items(multi=True)
    if not all(inputs.storable(key) and inputs.storable(value) for key, value in values):
        abort(400)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: at most the id columns' range, so that a number no row
    can have is a 404 before any query (SQLite cannot even bind one beyond 64 bits)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001, ANN002, ANN003
        kwargs.setdefault("max", inputs.ID_MAX)
        super().__init__(map, *args, **kwargs)


WHEN_PATTERN = "d MMM y, HH:mm"


def register(app: Flask) -> None:
    # Before any blueprint: the rules take their converters when they are added.
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_unstorable_input)
    app.jinja_env.globals["once_field"] = once.once_field
    # Dates and times on the pages, in the reader's language: « 2 déc. 2026, 14:05 »,
    # « 24 octobre 2013 » (never an ISO date nor a US clock).
    app.jinja_env.filters["when"] = lambda moment: format_datetime(moment, WHEN_PATTERN)
    app.jinja_env.filters["day"] = lambda day: format_date(day, "long")
    guard.register(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(organize.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(facilitate.bp)
    app.register_blueprint(admission.bp)
    app.register_blueprint(participate.bp)
    app.register_blueprint(published.bp)
    app.register_blueprint(followup.bp)
    app.register_blueprint(followup.public_bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(comments.public_bp)
    app.register_blueprint(support.bp)
    app.register_blueprint(support.public_bp)
    app.register_blueprint(consolidate.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(invitations.bp)
    app.register_blueprint(registration.bp)
    app.register_blueprint(registration_admin.bp)
    app.register_blueprint(experts.bp)
    app.register_blueprint(experts_admin.bp)
    app.register_blueprint(handouts.bp)
    app.register_blueprint(handouts.public_bp)
