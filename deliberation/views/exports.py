"""The exports screen: build the Synthèse and the Actes, download them, open data, publishing.

Documents are built by a worker process (``documents.jobs.start_job``), never in the
server's event loop; the page polls a small JSON status endpoint and then shows the link.
``EXPORT_JOBS_SYNCHRONOUS`` (tests only) runs the job in the request instead.
"""

from __future__ import annotations

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

from ..documents import jobs
from ..models import Process
from ..services import opendata
from ..services.access import Capability
from .common import data_response, process_or_404
from .guard import requires

bp = Blueprint("exports", __name__, url_prefix="/organize")


def _exports_dir() -> str:
    return current_app.config["EXPORTS_DIR"]


def _job_status(process: Process, job: jobs.Job) -> dict:
    status = job.public()
    status["status_url"] = url_for("exports.job_status", slug=process.slug, job_id=job.id)
    status["download_url"] = (
        url_for("exports.download", slug=process.slug, name=status["file"])
        if job.state == "done" and status["file"]
        else None
    )
    if job.state == "failed":
        status["message"] = (
            _("The export was interrupted (server restart). Please start it again.")
            if job.error == "interrupted"
            else _("The export failed. Please try again; if it fails again, tell an administrator.")
        )
    return status


@bp.get("/<slug>/exports")
@requires(Capability.EXPORT)
def index(slug: str):
    process = process_or_404(slug)
    exports_dir = _exports_dir()
    recent = [_job_status(process, job) for job in jobs.recent_jobs(exports_dir, process.id)]
    files = jobs.exported_files(exports_dir, process.slug)
    return render_template(
        "exports/index.html",
        process=process,
        jobs=recent,
        running=[job for job in recent if job["state"] in ("queued", "running")],
        files=files,
        kinds={"synthesis": _("Synthesis of possibilities"), "proceedings": _("Proceedings")},
    )


@bp.post("/<slug>/exports/<kind>")
@requires(Capability.EXPORT)
def start(slug: str, kind: str):
    process = process_or_404(slug)
    if kind not in jobs.KINDS:
        abort(404)
    job = jobs.start_job(
        kind,
        process,
        _exports_dir(),
        current_app.config["SQLALCHEMY_DATABASE_URI"],
        synchronous=bool(current_app.config.get("EXPORT_JOBS_SYNCHRONOUS")),
    )
    if request.accept_mimetypes.best == "application/json":
        return jsonify(_job_status(process, job)), 202
    flash(_("The document is being built; this page shows its progress."), "info")
    return redirect(url_for("exports.index", slug=process.slug, job=job.id))


@bp.get("/<slug>/exports/jobs/<job_id>.json")
@requires(Capability.EXPORT)
def job_status(slug: str, job_id: str):
    process = process_or_404(slug)
    job = jobs.load_job(_exports_dir(), job_id)
    if job is None or job.process_id != process.id:
        return jsonify({"error": "unknown_job", "message": _("Unknown export.")}), 404
    return jsonify(_job_status(process, job))


@bp.get("/<slug>/exports/files/<name>")
@requires(Capability.EXPORT)
def download(slug: str, name: str):
    process = process_or_404(slug)
    allowed = {path.name for path in jobs.exported_files(_exports_dir(), process.slug)}
    if name not in allowed:
        abort(404)
    return send_from_directory(
        _exports_dir(), name, as_attachment=True, mimetype=jobs.DOCX_MIME, max_age=0
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
