"""The export queue: at most a few worker processes build documents, whatever the demand.

Jobs wait as files in ``exports/jobs/`` (:mod:`.jobs`). At most ``workers`` worker processes
(``EXPORT_WORKERS``, default 2) run at once, whatever the number of requests or of server
processes sharing the directory: each worker holds one *slot* — an ``flock`` on
``jobs/worker-N.lock``, which the kernel releases even when the worker is killed — and runs
the waiting jobs, oldest first, until none is left (:func:`drain`). A job is claimed by
creating ``jobs/<id>.claim`` exclusively, so two workers never run the same one.
:func:`dispatch` starts a worker on a free slot while jobs wait; the server calls it when a
job is queued and whenever the exports screen reads a waiting job, so a queue left behind by
a restart or a crashed worker starts again by itself.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..models import Process
from . import jobs

DEFAULT_WORKERS = 2
# Worker processes started by this server process, reaped as they exit.
_children: list[subprocess.Popen] = []


def ahead_of(exports_dir: str, job: jobs.Job) -> int:
    """How many waiting jobs will be started before this one."""
    return sum(
        1
        for other in jobs.queued_jobs(exports_dir)
        if (other.created_at, other.id) < (job.created_at, job.id)
    )


def _slot_path(exports_dir: str, slot: int) -> Path:
    return jobs.jobs_dir(exports_dir) / f"worker-{slot}.lock"


def hold_slot(exports_dir: str, slot: int) -> Any | None:
    """The open lock file of a free slot, now held by the caller; None when taken."""
    path = _slot_path(exports_dir, slot)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held for the worker's life, closed to release
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def claim(exports_dir: str, job_id: str) -> bool:
    """Take a job for this process; False when another worker took it first."""
    try:
        descriptor = os.open(
            jobs.claim_path(exports_dir, job_id), os.O_CREAT | os.O_EXCL | os.O_WRONLY
        )
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="ascii") as claimed:
        claimed.write(str(os.getpid()))
    return True


def claim_next(exports_dir: str) -> str | None:
    """Take the oldest waiting job for this process; its id, or None when none waits."""
    for job in jobs.queued_jobs(exports_dir):
        if claim(exports_dir, job.id):
            return job.id
    return None


def _reap() -> None:
    _children[:] = [child for child in _children if child.poll() is None]


def dispatch(exports_dir: str, database_url: str, workers: int = DEFAULT_WORKERS) -> int:
    """Start a worker on each free slot while jobs wait; how many were started.

    The slot is locked here and handed to the worker already locked (the lock belongs to
    the open file, which the worker inherits): between this call and the worker's start,
    nobody else can see the slot free and start a second worker on it."""
    _reap()
    waiting = len(jobs.queued_jobs(exports_dir))
    started = 0
    for slot in range(max(1, workers)):
        if started >= waiting:
            break
        held = hold_slot(exports_dir, slot)
        if held is None:
            continue  # a worker runs there; it takes the next waiting job itself
        with held:
            _start_worker(exports_dir, database_url, slot, held.fileno())
        started += 1
    return started


def _start_worker(exports_dir: str, database_url: str, slot: int, slot_fd: int) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EXPORTS_DIR": exports_dir,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(jobs.ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = ["-m", "deliberation.documents.worker", exports_dir, str(slot), str(slot_fd)]
    child = subprocess.Popen(
        [sys.executable, *command],
        cwd=str(jobs.ROOT),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        pass_fds=(slot_fd,),  # the slot's lock, held for the worker's life
        start_new_session=True,
    )
    _children.append(child)


def drain(exports_dir: str, slot: int, run: Callable[[str], Any], held: Any = None) -> int:
    """The worker's loop: hold the slot (``held``: its lock, already taken), run waiting
    jobs until none is left; how many ran.

    After giving the slot back it looks once more: a job queued in that instant, while
    every slot seemed taken to the server, would otherwise wait for the next dispatch."""
    ran = 0
    while True:
        slot_lock = held if held is not None else hold_slot(exports_dir, slot)
        held = None
        if slot_lock is None:
            return ran  # another worker holds this slot and drains the queue
        try:
            while (job_id := claim_next(exports_dir)) is not None:
                run(job_id)
                ran += 1
        finally:
            slot_lock.close()
        if not jobs.queued_jobs(exports_dir):
            return ran


def start_job(
    document_kind: str,
    process: Process,
    exports_dir: str,
    database_url: str,
    synchronous: bool = False,
    workers: int = DEFAULT_WORKERS,
    pdf: bool = False,
) -> jobs.Job:
    """Queue a document build and make sure a worker will run it (here and now when
    ``synchronous``; ``pdf`` is for that path, a worker reads ``EXPORT_PDF`` itself). The same
    document already waiting is not queued twice.

    Raises ``OSError`` when the job cannot even be written (a full disk)."""
    if document_kind not in jobs.DOCUMENT_KINDS:
        raise jobs.ExportError(f"Unknown document kind {document_kind!r}.")
    jobs.prune_jobs(exports_dir)
    for waiting in jobs.queued_jobs(exports_dir):
        if (waiting.kind, waiting.process_id) == (document_kind, process.id):
            dispatch(exports_dir, database_url, workers)
            return waiting
    job = jobs.Job(
        id=uuid.uuid4().hex, kind=document_kind, process_id=process.id, slug=process.slug
    )
    jobs.save_job(exports_dir, job)
    if synchronous:
        if claim(exports_dir, job.id):
            jobs.run_job(exports_dir, job.id, pdf=pdf)
        return jobs.load_job(exports_dir, job.id) or job
    # Only the workers write the job file from now on (each records its own pid).
    dispatch(exports_dir, database_url, workers)
    return job
