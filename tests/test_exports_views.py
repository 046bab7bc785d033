"""The exports screen: jobs in a worker process, progress, downloads, open data, publishing."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import docx
import pytest
from conftest import log_in as log_in_browser
from conftest import make_app
from test_documents_synthesis import demo_process

from deliberation.documents import jobs
from deliberation.extensions import db
from deliberation.models import Process
from deliberation.services.people import membership
from deliberation.services.people.accounts import create_or_update_organizer

EMAIL, PASSWORD = "organisatrice@example.org", "un mot de passe solide"
BASE = "/organize/assises-insertion/exports"


def log_in(app, client) -> None:
    with app.app_context():
        organizer, _created = create_or_update_organizer(EMAIL, PASSWORD, name="Org")
        membership.add_member(demo_process(), organizer, "co_organizer")
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302


def wait_for(client, status_url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    seen_states = []
    while time.monotonic() < deadline:
        status = client.get(status_url).get_json()
        seen_states.append(status["state"])
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job still {seen_states[-1]} after {timeout} s")


def test_screen_needs_a_log_in(client):
    response = client.get(BASE)
    assert response.status_code == 302 and "/login" in response.location


def test_job_runs_in_a_worker_process_end_to_end(app, client):
    """The production path: the server starts ``python -m deliberation.documents.worker``."""
    log_in(app, client)
    page = client.get(BASE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/organize/assises-insertion/exports/synthesis"' in html
    assert 'action="/organize/assises-insertion/exports/proceedings"' in html

    response = client.post(f"{BASE}/proceedings", headers={"Accept": "application/json"})
    assert response.status_code == 202
    started = response.get_json()
    assert started["state"] in ("queued", "running", "done")
    job_file = Path(app.config["EXPORTS_DIR"]) / "jobs" / f"{started['id']}.json"

    status = wait_for(client, started["status_url"])
    assert status["state"] == "done", status
    worker_pid = json.loads(job_file.read_text())["pid"]
    assert worker_pid and worker_pid != os.getpid()  # built in another process
    assert status["done"] == status["total"] > 1
    assert re.fullmatch(r"assises-insertion-actes-\d{4}-\d{2}-\d{2}\.docx", status["file"])

    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download.mimetype == jobs.DOCX_MIME
    document = docx.Document(io.BytesIO(download.data))
    assert document.paragraphs[1].text == "Actes"
    # The screen now lists the file.
    assert status["file"] in client.get(BASE).get_data(as_text=True)


def test_synchronous_jobs_for_tests_and_the_redirect_flow(tmp_path):
    app = make_app(tmp_path, EXPORT_JOBS_SYNCHRONOUS=True)
    client = app.test_client()
    log_in(app, client)
    response = client.post(f"{BASE}/synthesis")
    assert response.status_code == 302
    job_id = re.search(r"job=([0-9a-f]{32})", response.location).group(1)
    status = client.get(f"{BASE}/jobs/{job_id}.json").get_json()
    assert status["state"] == "done" and status["kind"] == "synthesis"
    assert "-synthese-" in status["file"]
    assert client.get(status["download_url"]).status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_refusals(app, client):
    log_in(app, client)
    assert client.post(f"{BASE}/poster").status_code == 404
    assert client.post("/organize/nope/exports/synthesis").status_code == 404
    assert client.get(f"{BASE}/files/..%2Fsecret.docx").status_code == 404
    assert client.get(f"{BASE}/files/other-synthese-2024-01-01.docx").status_code == 404
    missing = client.get(f"{BASE}/jobs/{'0' * 32}.json")
    assert missing.status_code == 404 and missing.get_json()["error"] == "unknown_job"
    assert client.get(f"{BASE}/jobs/not-an-id.json").status_code == 404


def test_a_job_whose_worker_died_is_reported_interrupted(app, client):
    log_in(app, client)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))
        job = jobs.Job(
            id="a" * 32,
            kind="synthesis",
            process_id=process.id,
            slug=process.slug,
            state="running",
            pid=dead.pid,
        )
        jobs.save_job(app.config["EXPORTS_DIR"], job)
    status = client.get(f"{BASE}/jobs/{'a' * 32}.json").get_json()
    assert status["state"] == "failed" and status["error"] == "interrupted"
    assert status["message"]
    # Queued before a restart and never picked up by a worker.
    with app.app_context():
        job = jobs.Job(
            id="b" * 32,
            kind="synthesis",
            process_id=process.id,
            slug=process.slug,
            created_at="2020-01-01T00:00:00+00:00",
        )
        jobs.save_job(app.config["EXPORTS_DIR"], job)
    status = client.get(f"{BASE}/jobs/{'b' * 32}.json").get_json()
    assert status["state"] == "failed" and status["error"] == "interrupted"


def test_open_data_links_and_publish_toggle(app, client):
    log_in(app, client)
    csv_response = client.get(f"{BASE}/results.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert csv_response.data.decode().startswith("poll_id,")
    assert client.get(f"{BASE}/results.json").get_json()["process"]["slug"] == "assises-insertion"

    assert client.get("/p/assises-insertion").status_code == 404
    assert client.post(f"{BASE}/publish", data={"published": "1"}).status_code == 302
    assert client.get("/p/assises-insertion").status_code == 200
    assert "/p/assises-insertion" in client.get(BASE).get_data(as_text=True)
    client.post(f"{BASE}/publish", data={"published": "0"})
    assert client.get("/p/assises-insertion").status_code == 404


def test_csrf_is_required(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, EXPORT_JOBS_SYNCHRONOUS=True)
    client = app.test_client()
    with app.app_context():
        organizer, _created = create_or_update_organizer(EMAIL, PASSWORD)
        membership.add_member(demo_process(), organizer, "co_organizer")
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login_page).group(1)
    client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    page = client.get(BASE).get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 3
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post(f"{BASE}/publish", data={"published": "1"}).status_code == 400
    response = client.post(
        f"{BASE}/synthesis", headers={"Accept": "application/json", "X-CSRFToken": token}
    )
    assert response.status_code == 202 and response.get_json()["state"] == "done"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_cli_and_screen_use_the_same_file_names(tmp_path):
    """``flask export synthesis`` and the screen's button save the same file name, so an
    organiser finds the command's file where the screen puts its own."""
    app = make_app(tmp_path, EXPORT_JOBS_SYNCHRONOUS=True)
    client = app.test_client()
    log_in(app, client)
    on_screen = client.post(f"{BASE}/synthesis", headers={"Accept": "application/json"})
    assert on_screen.status_code == 202 and on_screen.get_json()["state"] == "done"
    screen_file = on_screen.get_json()["file"]
    result = app.test_cli_runner().invoke(
        args=["export", "synthesis", "--process", "assises-insertion"]
    )
    assert result.exit_code == 0, result.output
    cli_path = Path(result.output.strip().removeprefix("Wrote "))
    with app.app_context():
        process_id = demo_process().id
    # The same file in the same folder: the command's document replaced the screen's.
    assert cli_path == jobs.process_dir(app.config["EXPORTS_DIR"], process_id) / screen_file
    assert cli_path in jobs.exported_files(app.config["EXPORTS_DIR"], process_id)
    assert re.fullmatch(r"assises-insertion-synthese-\d{4}-\d{2}-\d{2}\.docx", screen_file)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.timeout(240)
def test_export_screen_in_chromium_against_the_real_server(live_server, browser):
    """``python app.py`` (gevent) starts the worker; the page shows progress, then the link."""
    email = live_server.add_member("export-browser", PASSWORD)
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    try:
        log_in_browser(page, live_server.url, email, PASSWORD)
        page.goto(f"{live_server.url}{BASE}")
        assert page.is_visible("#export-no-files") and page.is_hidden("#export-files")
        states: list[str] = []
        page.expose_function("noteState", lambda state: states.append(state))
        page.evaluate(
            """() => new MutationObserver(() => document.querySelectorAll('.export-state')
                .forEach(s => window.noteState(s.textContent)))
                .observe(document.getElementById('export-progress'),
                         {subtree: true, childList: true, characterData: true})"""
        )
        page.click('form.export-start[data-kind="synthesis"] button')
        link = page.wait_for_selector("#export-progress .export-state a", timeout=120_000)
        # Steps in words, never « 0/? »; the file is listed without reloading the page.
        assert not any("?" in state for state in states), states
        assert page.is_hidden("#export-no-files")
        listed = page.inner_text("#export-files li:first-child")
        assert link.inner_text().endswith(listed.split(" (")[0]) and "KB)" in listed
        assert "-synthese-" in link.inner_text()
        assert page.eval_on_selector("#export-progress progress", "p => p.value === p.max")
        with page.expect_download() as download_info:
            link.click()
        path = download_info.value.path()
        assert docx.Document(str(path)).paragraphs[1].text == "Synthèse des possibles"
    finally:
        context.close()


def test_old_job_files_are_pruned(tmp_path):
    exports = str(tmp_path)
    old = jobs.Job(id="c" * 32, kind="synthesis", process_id=1, slug="x")
    recent = jobs.Job(id="d" * 32, kind="synthesis", process_id=1, slug="x")
    jobs.save_job(exports, old)
    jobs.save_job(exports, recent)
    old_file = jobs.jobs_dir(exports) / f"{old.id}.json"
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old_file, (eight_days_ago, eight_days_ago))
    assert jobs.prune_jobs(exports) == 1
    assert not old_file.exists() and jobs.load_job(exports, recent.id) is not None
