"""Public support for a published synthesis (a petition), and the organisers' list.

``published_support`` (``/p/<slug>/support…``): anyone, once the synthesis is published,
signs the synthesis or a recommendation — with a proof of work solved by the page, throttled
per address — and withdraws a signature through its private link or from the browser that
signed. ``supports`` (``/organize/<slug>/supports``): the organisers' list and its CSV. Each
form is one call to :mod:`services.publishing.support`.
"""

from __future__ import annotations

import json
import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..extensions import limiter
from ..models import SUPPORT_COMMENT_MAX, Process, Support
from ..services.people.access import Capability
from ..services.publishing import support, support_data, support_mail
from ..services.publishing.support import SupportError
from .common import data_response, process_or_404, published_or_404
from .guard import requires
from .live_common import group_choices, group_labels
from .once import once_per_form

bp = Blueprint("supports", __name__, url_prefix="/organize/<slug>/supports")
public_bp = Blueprint("published_support", __name__, url_prefix="/p/<slug>")

# The browser's own random id: finds what it signed, to show it and to withdraw it.
DEVICE_COOKIE = "supporter"
DEVICE_COOKIE_DAYS = 400


# Per address (config.PUBLIC_LIMITS): a family or an office behind one network signs.
def _sign_limit() -> str:
    return current_app.config["SUPPORT_LIMIT"]


def _challenge_limit() -> str:
    return current_app.config["SUPPORT_CHALLENGE_LIMIT"]


def _device() -> str:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if 20 <= len(value) <= 64 and value.isascii() and value.isalnum() else ""


def _with_device(response: Response, device: str) -> Response:
    response.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def _back(process: Process, recommendation_id: int | None, anchor: str = "support"):
    if recommendation_id is None:
        return redirect(url_for("published.synthesis", slug=process.slug, _anchor=anchor))
    return redirect(
        url_for(
            "published_comments.recommendation",
            slug=process.slug,
            recommendation_id=recommendation_id,
            _anchor=anchor,
        )
    )


@public_bp.errorhandler(429)
def too_many(error):
    message = _("Too many signatures from your network: please wait a little.")
    page = render_template("errors/400.html", title=_("Please wait"), message=message)
    return page, 429


@public_bp.get("/support/challenge")
@limiter.limit(_challenge_limit)
def challenge(slug: str):
    process = published_or_404(slug)
    response = jsonify(support.new_challenge(current_app.secret_key, process))
    response.headers["Cache-Control"] = "no-store"
    return response


def _target_of(process: Process) -> int | None:
    raw = request.form.get("recommendation_id", "")
    if not raw:
        return None
    try:
        return support.target_of(process, raw)
    except SupportError:
        abort(404)


@public_bp.post("/support")
@limiter.limit(_sign_limit)
@once_per_form
def sign(slug: str):
    process = published_or_404(slug)
    target = _target_of(process)
    if not FlaskForm().validate_on_submit():
        flash(_("The form could not be accepted: reload the page and send it again."), "error")
        return _back(process, target)
    device = _device() or secrets.token_hex(16)
    try:
        proof = json.loads(request.form.get("proof") or "null")
    except ValueError:
        proof = None
    try:
        spent = support.check_solution(current_app.secret_key, process, proof)
        signed = support.sign(
            process,
            target,
            name=request.form.get("name"),
            organisation=request.form.get("organisation", ""),
            group=request.form.get("group", ""),
            comment=request.form.get("comment", ""),
            show_name=request.form.get("show_name") == "1",
            device=device,
            challenge=spent,
            email=_email_if_confirmed(),
        )
    except SupportError as error:
        flash(error.message, "error")
        return _with_device(_back(process, target, "support-form"), device)
    if signed.confirm_token:
        _send_confirmation(process, signed)
    if not signed.new:
        if not signed.confirm_token:
            flash(_("You had already signed: your signature counts once."), "info")
        return _with_device(_back(process, target), device)
    if not signed.confirm_token:
        flash(_("Thank you: your signature is counted."), "success")
    return _with_device(
        redirect(url_for(".private_link", slug=process.slug, token=signed.withdraw_token)), device
    )


def _email_if_confirmed() -> str | None:
    """The address to confirm by, when e-mail confirmation is on (None: it is off)."""
    if not support.confirms_by_email(current_app.config):
        return None
    return request.form.get("email", "")


def _send_confirmation(process: Process, signed: support.Signed) -> None:
    link = url_for(".confirm_page", slug=process.slug, token=signed.confirm_token, _external=True)
    item = support_data.item_names(process).get(signed.support.recommendation_id, "")
    if support_mail.send_confirmation(current_app.config, process, item, signed.email, link):
        flash(
            _(
                "We sent a message to %(email)s: your signature counts once you open its link.",
                email=signed.email,
            ),
            "info",
        )
    else:
        flash(
            _(
                "The confirmation message could not be sent: sign again in a few minutes "
                "to receive a new one (nothing is counted twice)."
            ),
            "error",
        )


@public_bp.get("/support/confirm/<token>")
def confirm_page(slug: str, token: str):
    """A button rather than a link that confirms: mail scanners open links on their own."""
    process = published_or_404(slug)
    signature = support.by_confirm_token(process, token)
    if signature is None:
        abort(404)
    return _private_page("published/support_confirm.html", process, signature, token=token)


def _private_page(template: str, process: Process, signature: Support, **context) -> Response:
    """A page whose address holds a signature's secret token: never kept by a shared cache,
    never sent onwards."""
    item = support_data.item_names(process).get(signature.recommendation_id, "")
    page = render_template(template, process=process, signature=signature, item=item, **context)
    response = Response(page)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@public_bp.post("/support/confirm/<token>")
def confirm(slug: str, token: str):
    process = published_or_404(slug)
    if not FlaskForm().validate_on_submit():
        flash(_("The form could not be accepted: reload the page and send it again."), "error")
        return redirect(url_for(".confirm_page", slug=process.slug, token=token))
    try:
        signature = support.confirm(process, token)
    except SupportError as error:
        flash(error.message, "error")
        return redirect(url_for("published.synthesis", slug=process.slug))
    flash(_("Thank you: your signature is confirmed and counted."), "success")
    return _back(process, signature.recommendation_id)


@public_bp.get("/support/<token>")
def private_link(slug: str, token: str):
    process = published_or_404(slug)
    signature = support.by_withdraw_token(process, token)
    if signature is None:
        abort(404)
    return _private_page(
        "published/support_link.html",
        process,
        signature,
        link=url_for(".private_link", slug=process.slug, token=token, _external=True),
        token=token,
        group_labels=group_labels(),
    )


@public_bp.post("/support/<token>/withdraw")
def withdraw(slug: str, token: str):
    process = published_or_404(slug)
    try:
        signature = support.withdraw(process, token)
    except SupportError as error:
        flash(error.message, "error")
        return redirect(url_for("published.synthesis", slug=process.slug))
    flash(_("Your signature is withdrawn: it no longer counts."), "success")
    return _back(process, signature.recommendation_id)


@public_bp.post("/support/mine/<int:support_id>/withdraw")
def withdraw_mine(slug: str, support_id: int):
    process = published_or_404(slug)
    if not FlaskForm().validate_on_submit():
        flash(_("The form could not be accepted: reload the page and send it again."), "error")
        return redirect(url_for("published.synthesis", slug=process.slug))
    try:
        signature = support.withdraw_from_device(process, support_id, _device())
    except SupportError as error:
        flash(error.message, "error")
        return redirect(url_for("published.synthesis", slug=process.slug))
    flash(_("Your signature is withdrawn: it no longer counts."), "success")
    return _back(process, signature.recommendation_id)


@public_bp.get("/support.csv")
def public_csv(slug: str):
    process = published_or_404(slug)
    return data_response(
        support_data.public_csv(process), "text/csv", f"{process.slug}-support.csv"
    )


@public_bp.get("/support.json")
def public_json(slug: str):
    process = published_or_404(slug)
    return data_response(support_data.public_json(process), "application/json")


def form_context(process: Process) -> dict:
    """What the support forms of the public pages need (synthesis and recommendation)."""
    device = _device()
    return {
        "support_counts": support.counts(process),
        "signed_here": support.signed_from(process, device),
        "support_groups": group_choices(process),
        "support_group_labels": group_labels(),
        "support_comment_max": SUPPORT_COMMENT_MAX,
        "support_by_email": support.confirms_by_email(current_app.config),
    }


@bp.get("")
@requires(Capability.EXPORT)
def index(slug: str):
    process = process_or_404(slug)
    return render_template(
        "organize/supports.html",
        process=process,
        counts=support.counts(process),
        names=support_data.item_names(process),
        rows=support_data.organiser_rows(process),
        group_labels=group_labels(),
    )


@bp.get("/signatures.csv")
@requires(Capability.EXPORT)
def signatures_csv(slug: str):
    process = process_or_404(slug)
    return data_response(
        support_data.organiser_csv(process), "text/csv", f"{process.slug}-signatures.csv"
    )
