"""Small helpers several blueprints share: finding a process by its slug, open-data responses,
a refusal answered as JSON."""

from __future__ import annotations

from flask import Response, abort, g, jsonify

from ..extensions import db
from ..models import Process
from ..refusals import Refused


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
