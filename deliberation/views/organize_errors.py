"""Error pages for the whole site (registered through the organize blueprint): a clear
message instead of a bare status, and JSON for the pages' scripts."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import Forbidden, HTTPException

from ..database import discard_failed_work
from ..refusals import Refused

log = logging.getLogger(__name__)
# Seconds a client is asked to wait when the database is unavailable.
RETRY_AFTER_S = 2


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _render(status: int, title: str, message: str):
    if _wants_json():
        return jsonify(error=message), status
    return render_template(f"errors/{status}.html", title=title, message=message), status


def csrf_failed(error: CSRFError):
    return _render(
        400,
        _("The form could not be accepted"),
        _(
            "This form has expired or did not come from this site (security check failed). "
            "Nothing was saved: go back, reload the page and send it again."
        ),
    )


def bad_request(error: HTTPException):
    return _render(400, _("Bad request"), _("The request could not be understood."))


def forbidden(error: HTTPException):
    # The access check says why (views/guard.py); Werkzeug's own text is not for our users.
    said = error.description if error.description != Forbidden.description else None
    return _render(403, _("Not allowed"), said or _("You are not allowed to see this page."))


def not_found(error: HTTPException):
    return _render(404, _("Page not found"), _("There is nothing at this address."))


def server_error(error: Exception):
    discard_failed_work()  # the error page reads the database (the organiser's menu)
    return _render(
        500,
        _("Something went wrong"),
        _("An unexpected error occurred. It has been logged; please try again."),
    )


def database_unavailable(error: Exception):
    """The database is down, locked or out of connections: an outage, not a bug. One line
    in the log; the client is told to try again (the phone keeps its ballot on a 503)."""
    discard_failed_work()  # the error page reads the database (the organiser's menu)
    log.warning("%s %s: database unavailable (%s)", request.method, request.path,
                type(error).__name__)  # fmt: skip
    message = _("The server is busy: please try again in a moment. Nothing was lost.")
    if _wants_json():
        response = jsonify(Refused("server_busy", message).payload())
    else:
        response = render_template("errors/503.html", title=_("Server busy"), message=message)
    return response, 503, {"Retry-After": str(RETRY_AFTER_S)}


def register(bp: Blueprint) -> None:
    bp.app_errorhandler(CSRFError)(csrf_failed)
    bp.app_errorhandler(400)(bad_request)
    bp.app_errorhandler(403)(forbidden)
    bp.app_errorhandler(404)(not_found)
    bp.app_errorhandler(500)(server_error)
    bp.app_errorhandler(OperationalError)(database_unavailable)
    bp.app_errorhandler(PoolTimeout)(database_unavailable)
