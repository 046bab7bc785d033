"""Who may open each page: one check per request, before any view runs (docs/security.md).

Every endpoint is either in :data:`PUBLIC_ENDPOINTS` (reviewed, below) or declares what it
needs with :func:`requires`. :func:`check_access` runs before every request: it sends an
anonymous visitor to the log-in page, finds the process the URL names (its ``slug``, or the
process of its ``session_id``) and asks :func:`services.people.access.decide` — 404 for someone who
is not a member (the process is not revealed), 403 with a clear page for a member whose role
lacks the capability. An endpoint that declares nothing is refused: a new route is closed
until someone decides who may use it (tests/test_access_routes.py walks them all).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db, login_manager
from ..models import LiveSession, Process
from ..services.people import access
from ..services.people.access import Capability, Decision

# Pages anyone may open. Each is public on purpose; keep the reason next to it.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {
        "static",  # CSS, scripts, images
        "public.home",  # lists only published syntheses (and, logged in, one's own processes)
        "public.set_language",  # a cookie choice, nothing else
        "health.healthz",  # one word per part (database, queue, disk): nothing to protect
        "auth.login",  # throttled log-in (docs/security.md, "Keys, first run and accounts")
        "published.synthesis",  # 404 until the organisers publish
        "published.results_csv",  # the same
        "published.results_json",  # the same
        "published_followup.page",  # the follow-up (« Suivi »): 404 until published
        "published_followup.feed",  # the same, as Atom
        "published_followup.as_csv",  # the same, as open data
        "published_followup.as_json",
        "published_comments.recommendation",  # a recommendation and its comments: the same
        "published_comments.post_comment",  # throttled per address; moderated by default
        "published_comments.report",  # throttled per address; a count, nothing else
        "published_comments.comments_json",  # the comments readers see: the same
        "published_comments.comments_csv",
        "published_support.challenge",  # a proof-of-work challenge: 404 until published
        "published_support.sign",  # throttled per address, a solved challenge each time
        "published_support.private_link",  # the link's secret token is the key
        "published_support.confirm_page",  # the e-mailed link's secret token is the key
        "published_support.confirm",  # the same
        "published_support.withdraw",  # the same
        "published_support.withdraw_mine",  # the browser that signed (its cookie) is the key
        "published_support.public_csv",  # counts, names only by consent: 404 until published
        "published_support.public_json",
        "participate.enter_code",  # the phone pages: the join code is the key
        "participate.join",
        "participate.join_post",
        "participate.phone",
        "participate.qr_code",
        "participate.api_ballot",  # a participant's signed token is the key
        "participate.vote_form",  # the same token (cookie), for phones without JavaScript
        "participate.vote_form_again",  # a redirect to the phone page
        "participate.propose_form",  # the same
        "participate.easy_read",  # a cookie choice of this phone's display, nothing else
        "facilitate.projector",  # by the session's code, read-only, shown to the room
        "invitations.show",  # the invitation's one-time secret is the key
        "invitations.register",  # the same, for someone without an account yet
        "registration.form",  # 404 until the organisers open registration once
        "registration.submit",  # the same; refused once closed
        "registration.mine",  # the registration's private secret is the key
        "registration.change_form",  # the same
        "registration.change",
        "registration.cancel",
        "registration.ticket",  # the ticket's code is the key; checks in for organisers only
        "experts.write",  # the expert's personal link: its secret is the key (hashed at rest)
        "experts.send",  # the same
        "experts.preview",  # the same; renders Markdown, stores nothing
        "documents.page",  # 404 until handouts are published or registration opened
        "documents.download",  # only the files of published fields
    }
)

# Any logged-in organiser, no process concerned: their own index, a new process, previews.
SIGNED_IN = "signed_in"

log = logging.getLogger(__name__)
View = TypeVar("View", bound=Callable[..., Any])


def requires(rule: Capability | str) -> Callable[[View], View]:
    """Declare what a view needs: a :class:`Capability` on the process in its URL, or
    :data:`SIGNED_IN`. Put it under the route decorator."""

    def declare(view: View) -> View:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return declare


def access_rule(app: Flask, endpoint: str) -> Capability | str | None:
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def _target(view_args: dict[str, Any]) -> tuple[Process | None, LiveSession | None]:
    if "session_id" in view_args:
        live_session = db.session.get(LiveSession, view_args["session_id"])
        return (live_session.process if live_session else None), live_session
    if "slug" in view_args:
        return db.session.scalar(db.select(Process).filter_by(slug=view_args["slug"])), None
    return None, None


def check_access() -> Any:
    """The app's ``before_request``: let the request through, or refuse it."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None  # no route matched (Flask answers 404/405), or a public page
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    rule = access_rule(current_app, endpoint)
    if rule == SIGNED_IN:
        return None
    if not isinstance(rule, Capability):
        log.warning("endpoint %s declares no access rule: refused", endpoint)
        abort(403)
    process, live_session = _target(request.view_args or {})
    if process is None:
        abort(404)
    decision = access.decide(current_user, process, rule, live_session)
    if decision is Decision.HIDDEN:
        abort(404)
    if decision is Decision.FORBIDDEN:
        abort(403, description=_forbidden_message(rule, live_session))
    g.process = process
    g.live_session = live_session
    return None


def _forbidden_message(rule: Capability, live_session: LiveSession | None) -> str:
    if rule is Capability.FACILITATE and live_session is not None:
        return _(
            "You may run only the sessions of your territory in this process. "
            "Ask one of its owners if you need to run this one."
        )
    return _(
        "Your role in this process does not allow this. Ask one of its owners if you need to do it."
    )


def may(capability: str, process: Process | None = None) -> bool:
    """For templates: may the current user use ``capability`` on the process shown?"""
    process = process if process is not None else g.get("process")
    if process is None:
        return False
    known = g.setdefault("capabilities", {})
    if process.id not in known:
        known[process.id] = access.capabilities(current_user, process)
    return Capability(capability) in known[process.id]


def may_open(endpoint: str, process: Process | None = None) -> bool:
    """For templates: would the current user be let into this page of the process shown?
    The same rule as :func:`check_access`; an endpoint that does not exist is a bug."""
    if endpoint not in current_app.view_functions:
        raise LookupError(f"no endpoint {endpoint!r}")
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    if not current_user.is_authenticated:
        return False
    rule = access_rule(current_app, endpoint)
    if rule == SIGNED_IN:
        return True
    return isinstance(rule, Capability) and may(rule, process)


def register(app: Flask) -> None:
    app.before_request(check_access)
    app.context_processor(lambda: {"may": may, "may_open": may_open})
