"""Small helpers several blueprints share: finding a process by its slug, open-data responses,
a refusal answered as JSON."""

from __future__ import annotations

from flask import Response, abort, g, jsonify
from flask_babel import gettext as _

from ..extensions import db
from ..models import TEXT_MAX, Process
from ..refusals import Refused
from ..services.authoring.text import render_markdown


def process_or_404(slug: str) -> Process:
    """The process with this slug, or a 404 page (the access check may have found it)."""
    checked = g.get("process")
    if checked is not None and checked.slug == slug:
        return checked
    process = db.session.scalar(db.select(Process).filter_by(slug=slug))
    if process is None:
        abort(404)
    return process


def published_or_404(slug: str) -> Process:
    """The process whose synthesis is published: until then its public pages answer 404,
    as if it did not exist."""
    process = process_or_404(slug)
    if not process.synthesis_published:
        abort(404)
    return process


def data_response(body: str, mimetype: str, filename: str | None = None) -> Response:
    """A response carrying ``body``; with a filename the browser saves it instead of showing it."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else None
    return Response(body, mimetype=mimetype, headers=headers)


def refusal_response(refusal: Refused, **extra: object) -> tuple[Response, int]:
    """A refusal to a script: the catalogue's body (``ok``, ``error``, ``message``) and its
    HTTP status (docs/protocol.md §9)."""
    return jsonify(refusal.payload(**extra)), refusal.status


def markdown_preview(payload: object) -> Response:
    """The live preview of a Markdown text (the organisers' item form, the expert's page):
    the sanitised HTML, the length, and a warning past the limit."""
    text = payload.get("text", "") if isinstance(payload, dict) else ""
    if not isinstance(text, str):
        return refusal_response(Refused("bad_request", _("Nothing to preview.")))
    warning = (
        _("Too long: %(count)d characters, at most %(max)d.", count=len(text), max=TEXT_MAX)
        if len(text) > TEXT_MAX
        else ""
    )
    return jsonify(
        html=str(render_markdown(text[: TEXT_MAX * 2])), length=len(text), warning=warning
    )
