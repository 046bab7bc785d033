"""Workshop handouts: the organisers publish a field's *Recommandations* and *Éclairages*
in one click (built by the export workers, ``documents.handouts``); anyone reads them on
the process's public page ``/p/<slug>/documents`` with its programme and registration
link, and the phone links to its field's documents before and during the workshop."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from ..documents import handouts as documents
from ..documents import jobs, queue
from ..extensions import db
from ..models import Field, LiveSession, Process
from ..services.people.access import Capability
from ..services.publishing import handouts
from ..services.registration import events
from ..services.validation import ValidationError
from ..wording import words
from .common import process_or_404
from .guard import requires

bp = Blueprint("handouts", __name__, url_prefix="/organize/<slug>/handouts")
public_bp = Blueprint("documents", __name__, url_prefix="/p/<slug>/documents")

FILE_WORDS = {"recommendations": "recommandations", "inputs": "eclairages"}


def _directory(process: Process) -> Path:
    exports_dir = current_app.config["EXPORTS_DIR"]
    return documents.handouts_dir(jobs.process_dir(exports_dir, process.id))


def _files(process: Process, field_: Field | None) -> list[dict]:
    """The built files of a field (None: the introduction note): kind, name, size, date."""
    directory = _directory(process)
    kinds = [""] if field_ is None else list(documents.KINDS)
    found = []
    for kind in kinds:
        for suffix in (".docx", ".pdf"):
            name = documents.file_name(field_.id if field_ else None, kind, suffix)
            path = directory / name
            if path.is_file():
                found.append(
                    {
                        "kind": kind or documents.INTRODUCTION,
                        "name": name,
                        "format": suffix[1:].upper(),
                        "size_kb": max(1, round(path.stat().st_size / 1024)),
                        "built_at": documents.built_at(path),
                    }
                )
    return found


def _latest_job(process: Process) -> jobs.Job | None:
    exports_dir = current_app.config["EXPORTS_DIR"]
    return next(
        (j for j in jobs.recent_jobs(exports_dir, process.id, 30) if j.kind == "handouts"), None
    )


@bp.get("")
@requires(Capability.VIEW)
def index(slug: str):
    process = process_or_404(slug)
    job = _latest_job(process)
    if job is not None and job.state == "queued":
        queue.dispatch(
            current_app.config["EXPORTS_DIR"],
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            int(current_app.config.get("EXPORT_WORKERS") or queue.DEFAULT_WORKERS),
        )
    return render_template(
        "handouts/admin.html",
        process=process,
        fields=[(f, _files(process, f)) for f in process.fields],
        introduction=_files(process, None),
        job=job,
        kind_labels=kind_labels(),
    )


def kind_labels() -> dict[str, str]:
    return {
        "recommendations": _("Recommendations"),
        "inputs": _("Expert inputs"),
        documents.INTRODUCTION: _("Introduction note"),
    }


@bp.post("")
@requires(Capability.EXPORT)
def publish(slug: str):
    """Publish, publish again (after changes) or withdraw a field's handouts; the worker
    then builds every published field's files and removes the others."""
    process = process_or_404(slug)
    withdrawing = request.form.get("action") == "unpublish"
    try:
        if withdrawing:
            handouts.unpublish(process, request.form.get("field_id"))
        else:
            handouts.publish(process, request.form.get("field_id"))
    except ValidationError as error:
        flash(error.message, "error")
        return redirect(url_for("handouts.index", slug=process.slug), 303)
    try:
        queue.start_job(
            "handouts",
            process,
            current_app.config["EXPORTS_DIR"],
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            synchronous=bool(current_app.config.get("EXPORT_JOBS_SYNCHRONOUS")),
            workers=int(current_app.config.get("EXPORT_WORKERS") or queue.DEFAULT_WORKERS),
            pdf=bool(current_app.config.get("EXPORT_PDF")),
        )
    except OSError:
        flash(_("The documents could not be built: the server's disk is full."), "error")
        return redirect(url_for("handouts.index", slug=process.slug), 303)
    if withdrawing:
        flash(_("Withdrawn: the field's documents are no longer public."), "success")
    else:
        flash(
            _("Published: the documents are being built; this page shows when they are ready."),
            "success",
        )
    return redirect(url_for("handouts.index", slug=process.slug), 303)


# -- public ------------------------------------------------------------------------------


def _public_process(slug: str) -> Process:
    process = db.session.scalar(db.select(Process).filter_by(slug=slug))
    if process is None or not (handouts.published_fields(process) or events.ever_opened(process)):
        abort(404)  # nothing public yet: the page reveals nothing
    return process


@public_bp.get("")
def page(slug: str):
    process = _public_process(slug)
    published = handouts.published_fields(process)
    positions = {f.id: n for n, f in enumerate(process.fields, start=1)}
    return render_template(
        "handouts/public.html",
        process=process,
        fields=[(positions[f.id], f, _files(process, f)) for f in published],
        introduction=_files(process, None) if published else [],
        events=events.events_of(process),
        registration_open=events.is_open(process),
        registration_page=events.ever_opened(process),
        kind_labels=kind_labels(),
    )


@public_bp.get("/<name>")
def download(slug: str, name: str):
    process = _public_process(slug)
    match = documents.HANDOUT_NAME.match(name)
    if match is None:
        abort(404)
    published = {f.id: f for f in handouts.published_fields(process)}
    field_id, kind, suffix = match.group(1), match.group(2), match.group(3)
    if field_id is None:
        if not published:
            abort(404)
        nice = words(process.language)["introduction"]
    else:
        if int(field_id) not in published:
            abort(404)
        position = [f.id for f in process.fields].index(int(field_id)) + 1
        nice = f"atelier-{position}-{FILE_WORDS[kind]}"
    directory = _directory(process)
    if not (directory / name).is_file():
        abort(404)
    download_name = f"{process.slug}-{_slug_words(nice)}.{suffix}"
    return send_from_directory(
        directory, name, as_attachment=True, download_name=download_name, max_age=0
    )


def _slug_words(text: str) -> str:
    kept = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in kept.split("-") if part)


@public_bp.app_template_global()
def handouts_link(live_session: LiveSession) -> str | None:
    """The public documents of a session's field, when published (the phone's link)."""
    field_ = live_session.field if live_session.field_id else None
    if field_ is None or field_.handouts_published_at is None:
        return None
    return field_documents_link(live_session.process.slug, field_.id)


def field_documents_link(process_slug: str, field_id: int) -> str:
    """The public documents page, at one field's handouts."""
    return url_for("documents.page", slug=process_slug, _anchor=f"field-{field_id}")
