"""Building a document, from the CLI or as a background job started from the exports screen.

A job never runs in the web server's process: building the Actes of a large process takes
seconds of pure CPU, which would stall every live session served by the gevent loop. The
server starts ``python -m deliberation.documents.worker JOB_FILE`` as a child process; the
job's state is a small JSON file in ``exports/jobs/`` that the worker updates (steps done /
total) and the exports screen polls. Files survive a server restart; a job whose worker is
gone while it claims to be running is reported as interrupted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..extensions import db
from ..models import Process

KINDS = ("synthesis", "proceedings")
FILE_WORDS = {"synthesis": "synthese", "proceedings": "actes"}
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ROOT = Path(__file__).resolve().parent.parent.parent
# A worker that has not started within this delay, or still runs after the other, is lost.
QUEUED_TIMEOUT_SECONDS = 120
STALE_AFTER_SECONDS = 30 * 60
JOB_RETENTION_DAYS = 7

Progress = Callable[[int, int], None]
# Worker children started by this server process, reaped when their jobs are read.
_children: dict[str, subprocess.Popen] = {}


class ExportError(ValueError):
    """A request for a document that cannot be honoured (unknown kind, process gone…)."""


def default_filename(kind: str, slug: str, day: date | None = None) -> str:
    return f"{slug}-{FILE_WORDS[kind]}-{(day or date.today()).isoformat()}.docx"


def build_document(
    kind: str,
    process_id: int,
    output: Path | None,
    exports_dir: str,
    progress: Progress | None = None,
) -> Path:
    """Build the Synthèse or the Actes of one process and save it; returns the file's path."""
    if kind not in KINDS:
        raise ExportError(f"Unknown document kind {kind!r}.")
    process = db.session.get(Process, process_id)
    if process is None:
        raise ExportError(f"No process with id {process_id}.")
    if kind == "synthesis":
        from .synthesis import build_synthesis as build
    else:
        from .proceedings import build_proceedings as build
    document = build(process, progress)
    path = Path(output) if output else Path(exports_dir) / default_filename(kind, process.slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written next to its final name then renamed: a download never sees half a file.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    document.save(str(partial))
    os.replace(partial, path)
    return path


# -- jobs ---------------------------------------------------------------------------------


@dataclass
class Job:
    id: str
    kind: str
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    partial.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(partial, path)


def _from_data(data: dict[str, Any]) -> Job:
    return Job(**{k: v for k, v in data.items() if k in Job.__dataclass_fields__})


def _age_seconds(stamp: str) -> float:
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()
    except ValueError:
        return 0.0


def load_job(exports_dir: str, job_id: str) -> Job | None:
    """A job's state; a job whose worker is gone without finishing is marked interrupted."""
    try:
        path = _job_path(exports_dir, job_id)
        job = _from_data(json.loads(path.read_text(encoding="utf-8")))
    except (ExportError, OSError, ValueError, TypeError):
        return None
    child = _children.get(job.id)
    if child is not None and child.poll() is not None:
        _children.pop(job.id, None)  # reaped: no zombie left behind
    if job.finished:
        return job
    if child is not None:
        gone = child.poll() is not None
    elif job.pid:
        gone = not _alive(job.pid) or _age_seconds(job.created_at) > STALE_AFTER_SECONDS
    else:
        # Queued by a server that has since restarted, and no worker ever picked it up.
        gone = _age_seconds(job.created_at) > QUEUED_TIMEOUT_SECONDS
    if gone:
        # Read again: the worker may have finished between the first read and the check.
        job = _from_data(json.loads(path.read_text(encoding="utf-8")))
        if not job.finished:
            job.state, job.error, job.finished_at = "failed", "interrupted", _now()
            save_job(exports_dir, job)
    return job


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_jobs(exports_dir: str, older_than_days: int = JOB_RETENTION_DAYS) -> int:
    """Forget job files older than the retention (the documents themselves stay)."""
    directory = jobs_dir(exports_dir)
    if not directory.is_dir():
        return 0
    limit = datetime.now(UTC).timestamp() - older_than_days * 86400
    removed = 0
    for path in directory.glob("*.json"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            continue  # another server process removed it first
    return removed


def recent_jobs(exports_dir: str, process_id: int, limit: int = 10) -> list[Job]:
    directory = jobs_dir(exports_dir)
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    jobs = []
    for path in paths:
        job = load_job(exports_dir, path.stem)
        if job and job.process_id == process_id:
            jobs.append(job)
        if len(jobs) >= limit:
            break
    return jobs


def start_job(
    kind: str,
    process: Process,
    exports_dir: str,
    database_url: str,
    synchronous: bool = False,
) -> Job:
    """Queue a document build; the worker runs in a child process unless ``synchronous``."""
    if kind not in KINDS:
        raise ExportError(f"Unknown document kind {kind!r}.")
    prune_jobs(exports_dir)
    job = Job(id=uuid.uuid4().hex, kind=kind, process_id=process.id, slug=process.slug)
    save_job(exports_dir, job)
    if synchronous:
        run_job(exports_dir, job.id)
        return load_job(exports_dir, job.id) or job
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EXPORTS_DIR": exports_dir,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "deliberation.documents.worker", exports_dir, job.id],
        cwd=str(ROOT),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
    )
    # Only the worker writes the job file from now on (it records its own pid).
    _children[job.id] = child
    for other in [key for key, process in _children.items() if process.poll() is not None]:
        _children.pop(other, None)
    return job


def run_job(exports_dir: str, job_id: str) -> Job:
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
        path = build_document(job.kind, job.process_id, None, exports_dir, progress)
    except Exception as error:  # the job must end in a state the screen can show
        job.state, job.error = "failed", f"{type(error).__name__}: {error}"[:500]
    else:
        job.state, job.file, job.done = "done", str(path), job.total
    job.finished_at = _now()
    save_job(exports_dir, job)
    return job


def exported_files(exports_dir: str, slug: str) -> list[Path]:
    """This process's documents in the exports directory, newest first."""
    directory = Path(exports_dir)
    if not directory.is_dir():
        return []
    pattern = re.compile(
        rf"^{re.escape(slug)}-({'|'.join(FILE_WORDS.values())})-\d{{4}}-\d{{2}}-\d{{2}}\.docx$"
    )
    files = [path for path in directory.glob("*.docx") if pattern.match(path.name)]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def forget_process(exports_dir: str, process_id: int, slug: str) -> int:
    """After a process is deleted: remove its documents and job files, so that a process
    created later with the same address (or id) never lists them. How many files went."""
    removed = 0
    paths = list(exported_files(exports_dir, slug))
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
    return removed
