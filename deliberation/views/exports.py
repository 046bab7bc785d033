"""The exports screen: build the Synthèse and the Actes, download them, open data, publishing.

Documents are built by worker processes (``documents.queue``: at most ``EXPORT_WORKERS`` at
once, the other jobs wait), never in the server's event loop; the page polls a small JSON
status endpoint and then shows the link. A failed job (full disk, a worker that died) is a
message on the page, never an error page. ``EXPORT_JOBS_SYNCHRONOUS`` (tests only) runs the
job in the request instead.
"""

from __future__ import annotations

import errno
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from ..documents import jobs, queue
from ..models import Process
from ..refusals import Refused
from ..services.people.access import Capability
from ..services.publishing import opendata
from .common import data_response, process_or_404, refusal_response
from .guard import requires

bp = Blueprint("exports", __name__, url_prefix="/organize")


def _exports_dir() -> str:
    return current_app.config["EXPORTS_DIR"]


def _workers() -> int:
    return int(current_app.config.get("EXPORT_WORKERS") or queue.DEFAULT_WORKERS)


def _failure_message(error: str) -> str:
    if error == "interrupted":
        return _(
            "The export stopped before it finished (the server restarted, or the process "
            "building it ended unexpectedly). Please start it again."
        )
    if error == "no_space":
        return _(
            "The server's disk is full: the document could not be saved. Free some space "
            "(or tell an administrator), then start the export again."
        )
    return _("The export failed. Please try again; if it fails again, tell an administrator.")


def _job_status(process: Process, job: jobs.Job) -> dict:
    status = job.public()
    status["status_url"] = url_for("exports.job_status", slug=process.slug, job_id=job.id)
    status["download_url"] = (
        url_for("exports.download", slug=process.slug, name=status["file"])
        if job.state == "done" and status["file"]
        else None
    )
    if job.state == "queued":
        # A queue left by a restart or a crashed worker starts again as soon as it is seen.
        queue.dispatch(_exports_dir(), current_app.config["SQLALCHEMY_DATABASE_URI"], _workers())
        status["ahead"] = queue.ahead_of(_exports_dir(), job)
    if job.state == "failed":
        status["message"] = _failure_message(job.error)
    if status["download_url"]:
        status["size_kb"] = _size_kb(Path(job.file))
    return status


@bp.get("/<slug>/exports")
@requires(Capability.EXPORT)
def index(slug: str):
    process = process_or_404(slug)
    exports_dir = _exports_dir()
    recent = [
        _job_status(process, job)
        for job in jobs.recent_jobs(exports_dir, process.id)
        if job.kind not in jobs.FOLDER_KINDS  # the handouts have their own page
    ]
    files = [(path.name, _size_kb(path)) for path in jobs.exported_files(exports_dir, process.id)]
    return render_template(
        "exports/index.html",
        process=process,
        jobs=recent,
        running=[job for job in recent if job["state"] in ("queued", "running")],
        files=files,
        document_kinds={
            "synthesis": _("Synthesis of possibilities"),
            "proceedings": _("Proceedings"),
            "supports": _("Public support (annex)"),
        },
        words={
            "queued": _("waiting"),
            "ahead": _("%(n)s before it", n="{n}"),
            "running": _("in progress"),
            "starting": _("starting"),
            "step": _("step %(done)s of %(total)s", done="{done}", total="{total}"),
            "size": _("%(size)d KB", size=0).replace("0", "{size}", 1),
            "done": _("ready:"),
            "failed": _("failed"),
            "download": _("download"),
            "refused": _("The export could not be started."),
        },
    )


def _size_kb(path: Path) -> int:
    try:
        return round(path.stat().st_size / 1024)
    except OSError:  # removed meanwhile
        return 0


@bp.post("/<slug>/exports/<document_kind>")
@requires(Capability.EXPORT)
def start(slug: str, document_kind: str):
    process = process_or_404(slug)
    if document_kind not in jobs.DOCUMENT_KINDS or document_kind in jobs.FOLDER_KINDS:
        abort(404)
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        job = queue.start_job(
            document_kind,
            process,
            _exports_dir(),
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            synchronous=bool(current_app.config.get("EXPORT_JOBS_SYNCHRONOUS")),
            workers=_workers(),
            pdf=bool(current_app.config.get("EXPORT_PDF")),
        )
    except OSError as error:
        # Not even the job's small state file could be written (a full disk): say so.
        current_app.logger.warning("export not started: %s", error.strerror or error)
        message = _failure_message("no_space" if error.errno == errno.ENOSPC else "failed")
        if wants_json:
            return refusal_response(Refused("not_started", message))
        flash(message, "error")
        return redirect(url_for("exports.index", slug=process.slug))
    if wants_json:
        return jsonify(_job_status(process, job)), 202
    flash(_("The document is being built; this page shows its progress."), "info")
    return redirect(url_for("exports.index", slug=process.slug, job=job.id))


@bp.get("/<slug>/exports/jobs/<job_id>.json")
@requires(Capability.EXPORT)
def job_status(slug: str, job_id: str):
    process = process_or_404(slug)
    job = jobs.load_job(_exports_dir(), job_id)
    if job is None or job.process_id != process.id:
        return refusal_response(Refused("unknown_job"))
    return jsonify(_job_status(process, job))


@bp.get("/<slug>/exports/files/<name>")
@requires(Capability.EXPORT)
def download(slug: str, name: str):
    process = process_or_404(slug)
    allowed = {path.name for path in jobs.exported_files(_exports_dir(), process.id)}
    if name not in allowed:
        abort(404)
    return send_from_directory(
        jobs.process_dir(_exports_dir(), process.id),
        name,
        as_attachment=True,
        mimetype=jobs.MIME_TYPES.get(Path(name).suffix, jobs.DOCX_MIME),
        max_age=0,
    )


@bp.get("/<slug>/exports/results.csv")
@requires(Capability.EXPORT)
def results_csv(slug: str):
    process = process_or_404(slug)
    return data_response(opendata.as_csv(process), "text/csv", f"{process.slug}-results.csv")


@bp.get("/<slug>/exports/results.json")
@requires(Capability.EXPORT)
def results_json(slug: str):
    """The organisers' copy: with each named poll's record (the public one has none)."""
    process = process_or_404(slug)
    return data_response(
        opendata.as_json(process, with_record=True),
        "application/json",
        f"{process.slug}-results.json",
    )


@bp.get("/<slug>/exports/named-votes.csv")
@requires(Capability.EXPORT)
def named_votes_csv(slug: str):
    """Who voted what in the named polls: organisers only, never published."""
    process = process_or_404(slug)
    return data_response(
        opendata.named_votes_csv(process), "text/csv", f"{process.slug}-named-votes.csv"
    )


@bp.post("/<slug>/exports/publish")
@requires(Capability.PUBLISH)
def publish(slug: str):
    process = process_or_404(slug)
    published = request.form.get("published") == "1"
    opendata.set_synthesis_published(process, published)
    flash(
        _("The synthesis is now public.") if published else _("The synthesis is no longer public."),
        "success",
    )
    return redirect(url_for("exports.index", slug=process.slug))
