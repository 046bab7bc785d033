"""Building a document, from the CLI or as a background job started from the exports screen.

A job never runs in the web server's process: building the Actes of a large process takes
seconds of pure CPU, which would stall every live session served by the gevent loop. Jobs
are queued and run by worker processes (:mod:`.queue`); a job's state is a small JSON file
in ``exports/jobs/`` that its worker updates (steps done / total) and the exports screen
polls. Files survive a server restart.

**Failures.** A worker that died (killed, out of memory) leaves a job ``running`` with a
dead pid: it is reported ``interrupted``. A full disk (``ENOSPC``) fails the job with
``no_space``. Either way the screen shows a message, never an error page, and half-written
files (``.part``, ``.tmp``) are removed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..extensions import db
from ..models import Process
from .pdf import write_pdf

DOCUMENT_KINDS = ("synthesis", "proceedings", "supports", "handouts")
FILE_WORDS = {"synthesis": "synthese", "proceedings": "actes", "supports": "soutiens"}
# Kinds that write several files into a folder of their own (not listed on the exports page).
FOLDER_KINDS = ("handouts",)
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_TYPES = {".docx": DOCX_MIME, ".pdf": "application/pdf"}
ROOT = Path(__file__).resolve().parent.parent.parent
# A job still waiting, or still running, after this long is lost.
STALE_AFTER_SECONDS = 30 * 60
JOB_RETENTION_DAYS = 7
# Half-written files older than this are left from a crash: removed.
LEFTOVER_AFTER_SECONDS = 3600

Progress = Callable[[int, int], None]


class ExportError(ValueError):
    """A request for a document that cannot be honoured (unknown kind, process gone…)."""


def default_filename(document_kind: str, slug: str, day: date | None = None) -> str:
    return f"{slug}-{FILE_WORDS[document_kind]}-{(day or date.today()).isoformat()}.docx"


def build_document(
    document_kind: str,
    process_id: int,
    output: Path | None,
    exports_dir: str,
    progress: Progress | None = None,
    pdf: bool = False,
) -> Path:
    """Build the Synthèse or the Actes of one process and save it; returns the file's path.
    With ``pdf``, LibreOffice (when installed) also writes its PDF beside it."""
    if document_kind not in DOCUMENT_KINDS:
        raise ExportError(f"Unknown document kind {document_kind!r}.")
    process = db.session.get(Process, process_id)
    if process is None:
        raise ExportError(f"No process with id {process_id}.")
    if document_kind == "handouts":
        from .handouts import handouts_dir, write_handouts

        directory = handouts_dir(process_dir(exports_dir, process.id))
        return write_handouts(process, directory, progress, pdf=pdf)
    if document_kind == "synthesis":
        from .synthesis import build_synthesis as build
    elif document_kind == "supports":
        from .support_annex import build_support_annex as build
    else:
        from .proceedings import build_proceedings as build
    document = build(process, progress)
    path = (
        Path(output)
        if output
        else process_dir(exports_dir, process.id) / default_filename(document_kind, process.slug)
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written next to its final name then renamed: a download never sees half a file.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        document.save(str(partial))
        os.chmod(partial, 0o600)  # names, votes and comments: the server's user only
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    if pdf:
        write_pdf(path)
    return path


# -- jobs ---------------------------------------------------------------------------------


@dataclass
class Job:
    id: str
    kind: str  # the document kind: its name in the job files and the status JSON
    process_id: int
    slug: str
    state: str = "queued"  # queued → running → done | failed
    done: int = 0
    total: int = 0
    file: str = ""
    error: str = ""
    pid: int = 0
    created_at: str = field(default_factory=lambda: _now())
    finished_at: str = ""

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def public(self) -> dict[str, Any]:
        """What the status endpoint shows (no pid, no paths)."""
        data = asdict(self)
        data.pop("pid")
        data["file"] = Path(self.file).name if self.file else ""
        return data

    @property
    def stale(self) -> bool:
        return _age_seconds(self.created_at) > STALE_AFTER_SECONDS


def _now() -> str:
    # To the microsecond: jobs queued within one second still run in the order asked.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def jobs_dir(exports_dir: str) -> Path:
    return Path(exports_dir) / "jobs"


def _job_path(exports_dir: str, job_id: str) -> Path:
    if not JOB_ID.match(job_id):
        raise ExportError("Unknown job.")
    return jobs_dir(exports_dir) / f"{job_id}.json"


def save_job(exports_dir: str, job: Job) -> None:
    path = _job_path(exports_dir, job.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(partial, path)
    except BaseException:
        # A full disk: no half-written state file stays behind.
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def _from_data(data: dict[str, Any]) -> Job:
    return Job(**{k: v for k, v in data.items() if k in Job.__dataclass_fields__})


def _age_seconds(stamp: str) -> float:
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()
    except ValueError:
        return 0.0


def _read(path: Path) -> Job | None:
    try:
        return _from_data(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):  # gone, or half a file from a crash
        return None


def load_job(exports_dir: str, job_id: str) -> Job | None:
    """A job's state; a job whose worker is gone without finishing is marked interrupted."""
    try:
        path = _job_path(exports_dir, job_id)
    except ExportError:
        return None
    job = _read(path)
    if job is None or job.finished:
        return job
    if job.state == "running":
        gone = not _alive(job.pid) or job.stale
    else:
        # Waiting: lost only when claimed by a worker that died before starting it, or
        # when it has waited far too long (dispatch() starts workers for the others).
        claimed_by = claimer(exports_dir, job.id)
        gone = (claimed_by is not None and not _alive(claimed_by)) or job.stale
    if gone:
        # Read again: the worker may have finished between the first read and the check.
        job = _read(path) or job
        if not job.finished:
            job.state, job.error, job.finished_at = "failed", "interrupted", _now()
            # The disk may be full: the screen still says what happened, from memory.
            with contextlib.suppress(OSError):
                save_job(exports_dir, job)
    return job


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        # A worker this process started and that has died is a zombie until reaped, and
        # a zombie still "exists": reap it here (nothing else may be waiting for it).
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not a child of this process (another server started it), or reaped already
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile (another server process pruned it)
        return 0.0


def prune_jobs(exports_dir: str, older_than_days: int = JOB_RETENTION_DAYS) -> int:
    """Forget job files older than the retention (the documents themselves stay), and the
    half-written files a crash may have left."""
    directory = jobs_dir(exports_dir)
    if not directory.is_dir():
        return 0
    now = datetime.now(UTC).timestamp()
    limit = now - older_than_days * 86400
    removed = 0
    for path in [*directory.glob("*.json"), *directory.glob("*.claim")]:
        if mtime(path) < limit:
            with contextlib.suppress(OSError):  # another server process removed it first
                path.unlink()
                removed += path.suffix == ".json"
    leftovers = [*directory.glob("*.tmp"), *Path(exports_dir).glob(".*.part")]
    for path in leftovers:
        if mtime(path) < now - LEFTOVER_AFTER_SECONDS:
            with contextlib.suppress(OSError):
                path.unlink()
    return removed


def recent_jobs(exports_dir: str, process_id: int, limit: int = 10) -> list[Job]:
    directory = jobs_dir(exports_dir)
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.json"), key=mtime, reverse=True)
    jobs = []
    for path in paths:
        job = load_job(exports_dir, path.stem)
        if job and job.process_id == process_id:
            jobs.append(job)
        if len(jobs) >= limit:
            break
    return jobs


def claim_path(exports_dir: str, job_id: str) -> Path:
    return jobs_dir(exports_dir) / f"{job_id}.claim"


def claimer(exports_dir: str, job_id: str) -> int | None:
    """The pid of the worker that claimed a job, or None when unclaimed."""
    try:
        text = claim_path(exports_dir, job_id).read_text(encoding="ascii")
    except OSError:
        return None
    return int(text) if text.strip().isdigit() else 0


def queued_jobs(exports_dir: str) -> list[Job]:
    """Jobs waiting for a worker (not yet claimed), oldest first."""
    directory = jobs_dir(exports_dir)
    if not directory.is_dir():
        return []
    waiting = []
    for path in directory.glob("*.json"):
        job = _read(path)
        unclaimed = job is not None and claimer(exports_dir, job.id) is None
        if unclaimed and job.state == "queued" and not job.stale:
            waiting.append(job)
    return sorted(waiting, key=lambda job: (job.created_at, job.id))


def run_job(exports_dir: str, job_id: str, pdf: bool = False) -> Job:
    """Run one job here and now (the worker's body; also the synchronous path of tests)."""
    job = load_job(exports_dir, job_id)
    if job is None:
        raise ExportError("Unknown job.")
    job.state, job.pid = "running", os.getpid()
    save_job(exports_dir, job)

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total
        save_job(exports_dir, job)

    try:
        path = build_document(job.kind, job.process_id, None, exports_dir, progress, pdf=pdf)
    except Exception as error:  # the job must end in a state the screen can show
        job.state = "failed"
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            job.error = "no_space"
        else:
            job.error = f"{type(error).__name__}: {error}"[:500]
    else:
        job.state, job.file, job.done = "done", str(path), job.total
    job.finished_at = _now()
    save_job(exports_dir, job)
    return job


def process_dir(exports_dir: str, process_id: int) -> Path:
    """A process's documents live in a folder named by its id, not its address: a process
    created later with the same address never sees them."""
    return Path(exports_dir) / str(int(process_id))


DOCUMENT_NAME = re.compile(
    rf"^.+-({'|'.join(FILE_WORDS.values())})-\d{{4}}-\d{{2}}-\d{{2}}\.(docx|pdf)$"
)


def exported_files(exports_dir: str, process_id: int) -> list[Path]:
    """This process's documents (.docx, and their PDF when LibreOffice made one), newest
    first."""
    directory = process_dir(exports_dir, process_id)
    if not directory.is_dir():
        return []
    files = [path for path in directory.iterdir() if DOCUMENT_NAME.match(path.name)]
    return sorted(files, key=mtime, reverse=True)


def forget_process(exports_dir: str, process_id: int) -> int:
    """After a process is deleted: remove its documents and job files. How many went."""
    removed = 0
    paths = list(process_dir(exports_dir, process_id).glob("*"))
    directory = jobs_dir(exports_dir)
    if directory.is_dir():
        for path in directory.glob("*.json"):
            job = load_job(exports_dir, path.stem)
            if job is not None and job.process_id == process_id:
                paths.append(path)
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except OSError:
            continue  # already gone
    with contextlib.suppress(OSError):
        process_dir(exports_dir, process_id).rmdir()
    return removed
