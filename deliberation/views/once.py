"""``@once_per_form``: the create forms' protection against being sent twice. The form
carries ``{{ once_field() }}``; the rule is in ``services.submissions``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..services import submissions

FIELD = "submission"
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def once_field() -> Markup:
    """The hidden field a create form carries (a Jinja global)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, submissions.new_token()
    )


def once_per_form(view: Callable[..., Any]) -> Callable[..., Any]:
    """A POST whose token was already received creates nothing: the organiser is told so
    and sent where the first one sent them. A form without a token (scripts, older pages)
    is handled as before."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = request.form.get(FIELD, "") if request.method == "POST" else ""
        if not submissions.well_formed(token):
            return view(*args, **kwargs)
        earlier = submissions.claim(token)
        if earlier is not None:
            if earlier.location:
                flash(_("This form had already been sent: it was saved once, not twice."), "info")
                return redirect(earlier.location)
            flash(_("This form is already being saved; please wait a moment."), "info")
            return redirect(_same_site_referrer() or url_for("public.home"))
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            submissions.release(token)
            raise
        if response.status_code in REDIRECTS and response.location:
            submissions.settle(token, response.location)
        else:
            submissions.release(token)  # the form came back with errors: nothing was made
        return response

    wrapper.once_per_form = True  # type: ignore[attr-defined]  (read by the tests)
    return wrapper


def _same_site_referrer() -> str:
    referrer = request.referrer or ""
    host = request.host_url
    return referrer if referrer.startswith(host) else ""
