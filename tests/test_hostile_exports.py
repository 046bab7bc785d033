"""Issue 11: exports cannot exhaust the server, and their failures are messages, never 500s.

Twenty requests start at most ``EXPORT_WORKERS`` worker processes; a full disk (``ENOSPC``)
while saving the document or the job's state, and a worker killed in the middle of a job,
become a clear message on the exports page, with no half-written file left behind.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import docx.document
import psutil
import pytest
from conftest import make_app
from markupsafe import escape

from deliberation.documents import jobs, queue
from deliberation.extensions import db
from deliberation.models import Organizer, Process
from deliberation.services.people import membership
from deliberation.services.people.accounts import create_or_update_organizer
from tests.live_fixtures import make_process
from tests.test_documents_synthesis import demo_process

EMAIL, PASSWORD = "organisatrice@example.org", "un mot de passe solide"
BASE = "/organize/assises-insertion/exports"
JSON = {"Accept": "application/json"}


def logged_in(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages checked below
    with app.app_context():
        organizer, _created = create_or_update_organizer(EMAIL, PASSWORD, name="Org")
        membership.add_member(demo_process(), organizer, "co_organizer")
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 302
    return client


def workers_of(exports_dir: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "deliberation.documents.worker" in command and exports_dir in command:
            found.append(process)
    return found


def leftovers(exports_dir: str) -> list[Path]:
    root = Path(exports_dir)
    return [*root.glob(".*.part"), *root.glob("jobs/*.tmp")]


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.timeout(280)
def test_twenty_requests_never_run_more_than_the_configured_workers(tmp_path):
    app = make_app(tmp_path, EXPORT_WORKERS=2)
    client = logged_in(app)
    exports_dir = app.config["EXPORTS_DIR"]
    with app.app_context():
        organizer = db.session.scalar(db.select(Organizer).filter_by(email=EMAIL))
        smaller = [make_process(f"small-{n}") for n in range(4)]
        for process in smaller:
            membership.add_member(process, organizer, "co_organizer")
        slugs = ["assises-insertion"] + [process.slug for process in smaller]
    started = []
    for number in range(20):
        slug = slugs[number % len(slugs)]
        kind = ("synthesis", "proceedings")[number // len(slugs) % 2]
        response = client.post(f"/organize/{slug}/exports/{kind}", headers=JSON)
        assert response.status_code == 202
        started.append((slug, response.get_json()))
    # The same document asked for again while it waits is not queued twice.
    assert len({status["id"] for _slug, status in started}) == 10
    most = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        most = max(most, len(workers_of(exports_dir)))
        states = [client.get(status["status_url"]).get_json()["state"] for _slug, status in started]
        if all(state in ("done", "failed") for state in states):
            break
        time.sleep(0.1)
    assert set(states) == {"done"}, states
    assert 1 <= most <= 2, f"{most} workers at once"
    waiting = [s for _slug, s in started if s["state"] == "queued" and s.get("ahead")]
    assert waiting, "the later jobs said how many wait before them"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_full_disk_while_saving_is_a_message_and_leaves_no_part_file(tmp_path, monkeypatch):
    app = make_app(tmp_path, EXPORT_JOBS_SYNCHRONOUS=True)
    client = logged_in(app)

    def save_half(self, path):
        Path(path).write_bytes(b"PK\x03\x04 half a document")
        disk_full()

    monkeypatch.setattr(docx.document.Document, "save", save_half)
    status = client.post(f"{BASE}/synthesis", headers=JSON).get_json()
    assert status["state"] == "failed" and status["error"] == "no_space"
    assert "disk" in status["message"].lower() or "disque" in status["message"].lower()
    page = client.get(BASE)
    assert page.status_code == 200
    assert str(escape(status["message"])) in page.get_data(as_text=True)
    assert leftovers(app.config["EXPORTS_DIR"]) == []
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_full_disk_for_the_job_state_never_makes_the_page_fail(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    client = logged_in(app)
    exports_dir = app.config["EXPORTS_DIR"]
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))
        jobs.save_job(
            exports_dir,
            jobs.Job(
                id="e" * 32,
                kind="synthesis",
                process_id=process.id,
                slug=process.slug,
                state="running",
                pid=2**22 + 12345,
            ),  # fmt: skip
        )
    real_write = Path.write_text

    def write_half(self, text, *args, **kwargs):
        real_write(self, text[:5], *args, **kwargs)
        disk_full()

    monkeypatch.setattr(Path, "write_text", write_half)
    page = client.get(BASE)  # the worker is gone: marked interrupted, but cannot be saved
    assert page.status_code == 200
    assert "stopped before it finished" in page.get_data(as_text=True)
    status = client.get(f"{BASE}/jobs/{'e' * 32}.json").get_json()
    assert status["state"] == "failed" and status["error"] == "interrupted"
    # Not even a new job can be written: a message, not an error page.
    response = client.post(f"{BASE}/proceedings", headers=JSON)
    assert response.status_code == 503 and response.get_json()["message"]
    redirected = client.post(f"{BASE}/proceedings")
    assert redirected.status_code == 302
    assert client.get(BASE).status_code == 200
    assert leftovers(exports_dir) == []
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.timeout(240)
def test_a_worker_killed_mid_job_is_a_message_and_the_queue_goes_on(tmp_path):
    app = make_app(tmp_path, EXPORT_WORKERS=1)
    client = logged_in(app)
    exports_dir = app.config["EXPORTS_DIR"]
    first = client.post(f"{BASE}/proceedings", headers=JSON).get_json()
    second = client.post(f"{BASE}/synthesis", headers=JSON).get_json()
    job_file = jobs.jobs_dir(exports_dir) / f"{first['id']}.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = jobs.load_job(exports_dir, first["id"])
        if job.state == "running" and job.pid:
            break
        time.sleep(0.02)
    assert job.state == "running", job
    os.kill(job.pid, signal.SIGKILL)  # out of memory, or an operator's kill -9
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        killed = client.get(first["status_url"]).get_json()
        after = client.get(second["status_url"]).get_json()
        if killed["state"] == "failed" and after["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert killed["state"] == "failed" and killed["error"] == "interrupted", killed
    assert "stopped before it finished" in killed["message"]
    assert after["state"] == "done", after  # the queue went on without it
    page = client.get(BASE)
    assert page.status_code == 200
    assert job_file.exists()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_worker_drains_the_queue_and_never_runs_a_job_twice(tmp_path):
    exports_dir = str(tmp_path / "exports")
    for letter in "abc":
        jobs.save_job(
            exports_dir, jobs.Job(id=letter * 32, kind="synthesis", process_id=1, slug="x")
        )
    ran: list[str] = []
    assert queue.drain(exports_dir, 0, ran.append) == 3
    assert ran == ["a" * 32, "b" * 32, "c" * 32]
    assert queue.claim_next(exports_dir) is None  # claimed once, for good
    held = queue.hold_slot(exports_dir, 0)
    try:
        assert queue.drain(exports_dir, 0, ran.append) == 0  # the slot is taken: nothing ran
    finally:
        held.close()
