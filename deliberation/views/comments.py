"""Readers' comments on the recommendations, and their moderation.

Two audiences, two blueprints. ``published_comments`` (``/p/<slug>/recommendations/<id>``):
anyone, once the synthesis is published, reads a recommendation's comments, writes one and
reports one — throttled per address (``COMMENT_LIMIT``, ``REPORT_LIMIT``). ``comments``
(``/organize/<slug>/comments``): members read the moderation queue; co-organisers and
owners approve, hide with a reason and choose the mode. Each form is one call to
:mod:`services.publishing.comments`.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..extensions import limiter
from ..models import COMMENT_MODES, Process
from ..services.authoring.text import render_inline, render_markdown
from ..services.people.access import Capability
from ..services.publishing import comments, opendata
from ..services.publishing.comments import CommentError
from .common import data_response, process_or_404, published_or_404
from .guard import requires
from .once import once_per_form
from .support import form_context

bp = Blueprint("comments", __name__, url_prefix="/organize/<slug>/comments")
public_bp = Blueprint("published_comments", __name__, url_prefix="/p/<slug>")


# Per address (config.PUBLIC_LIMITS): enough for a room of readers behind one network.
def _comment_limit() -> str:
    return current_app.config["COMMENT_LIMIT"]


def _report_limit() -> str:
    return current_app.config["REPORT_LIMIT"]


@public_bp.errorhandler(429)
def too_many(error):
    message = _("Too many comments or reports from your network: please wait a little.")
    page = render_template("errors/400.html", title=_("Please wait"), message=message)
    return page, 429


@public_bp.get("/recommendations/<int:recommendation_id>")
def recommendation(slug: str, recommendation_id: int):
    process = published_or_404(slug)
    try:
        found = comments.recommendation_of(process, recommendation_id)
    except CommentError:
        abort(404)
    return render_template(
        "published/recommendation.html",
        process=process,
        recommendation=found,
        comments=comments.public_comments(process, recommendation_id),
        mode=comments.comments_mode(process),
        body_max=comments.BODY_MAX,
        support=form_context(process),
        markdown=render_markdown,
        markdown_inline=render_inline,
    )


def _back_to(process: Process, recommendation_id: int, anchor: str):
    return redirect(
        url_for(
            "published_comments.recommendation",
            slug=process.slug,
            recommendation_id=recommendation_id,
            _anchor=anchor,
        )  # fmt: skip
    )


@public_bp.post("/recommendations/<int:recommendation_id>/comments")
@limiter.limit(_comment_limit)
@once_per_form
def post_comment(slug: str, recommendation_id: int):
    process = published_or_404(slug)
    if not FlaskForm().validate_on_submit():
        flash(_("The form could not be accepted: reload the page and send it again."), "error")
        return _back_to(process, recommendation_id, "comment-form")
    try:
        comment = comments.post_comment(
            process,
            recommendation_id,
            author_name=request.form.get("author_name", ""),
            body=request.form.get("body"),
        )
    except CommentError as error:
        flash(error.message, "error")
        return _back_to(process, recommendation_id, "comment-form")
    if comment.state == "published":
        flash(_("Thank you: your comment is published."), "success")
        return _back_to(process, recommendation_id, f"comment-{comment.id}")
    flash(_("Thank you: your comment will appear once the organisers approve it."), "success")
    return _back_to(process, recommendation_id, "comments")


@public_bp.post("/comments/<int:comment_id>/report")
@limiter.limit(_report_limit)
def report(slug: str, comment_id: int):
    process = published_or_404(slug)
    back = request.form.get("recommendation_id", "")
    recommendation_id = int(back) if back.isascii() and back.isdigit() else None
    if FlaskForm().validate_on_submit():
        try:
            comments.report(process, comment_id)
        except CommentError as error:
            flash(error.message, "error")
        else:
            flash(_("Thank you: the organisers will look at this comment."), "success")
    if recommendation_id is None:
        return redirect(url_for("published.synthesis", slug=process.slug))
    return _back_to(process, recommendation_id, f"comment-{comment_id}")


@public_bp.get("/comments.json")
def comments_json(slug: str):
    process = published_or_404(slug)
    return data_response(opendata.comments_json(process), "application/json")


@public_bp.get("/comments.csv")
def comments_csv(slug: str):
    process = published_or_404(slug)
    return data_response(opendata.comments_csv(process), "text/csv", f"{process.slug}-comments.csv")


# -- organisers ---------------------------------------------------------------------------


@bp.get("")
@requires(Capability.VIEW)
def index(slug: str):
    process = process_or_404(slug)
    return render_template(
        "organize/comments.html",
        process=process,
        queue=comments.moderation_queue(process),
        mode=comments.comments_mode(process),
        modes=COMMENT_MODES,
        mode_labels=comments.MODE_LABELS,
        markdown=render_markdown,
        markdown_inline=render_inline,
    )


def _moderate(action, success: str) -> None:
    if not FlaskForm().validate_on_submit():
        flash(_("The form could not be accepted: reload the page and send it again."), "error")
        return
    try:
        action()
    except CommentError as error:
        flash(error.message, "error")
    else:
        flash(success, "success")


@bp.post("/mode")
@requires(Capability.PUBLISH)
def set_mode(slug: str):
    process = process_or_404(slug)
    _moderate(
        lambda: comments.set_comments_mode(process, request.form.get("mode")),
        _("The way comments are taken is saved."),
    )
    return redirect(url_for("comments.index", slug=process.slug))


@bp.post("/<int:comment_id>/approve")
@requires(Capability.PUBLISH)
def approve(slug: str, comment_id: int):
    process = process_or_404(slug)
    _moderate(
        lambda: comments.approve(process, comment_id, current_user.email),
        _("Comment published."),
    )
    return redirect(url_for("comments.index", slug=process.slug))


@bp.post("/<int:comment_id>/hide")
@requires(Capability.PUBLISH)
def hide(slug: str, comment_id: int):
    process = process_or_404(slug)
    _moderate(
        lambda: comments.hide(process, comment_id, request.form.get("reason"), current_user.email),
        _("Comment hidden: readers see the reason in its place."),
    )
    return redirect(url_for("comments.index", slug=process.slug))
