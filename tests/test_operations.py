"""The operator's tools (issue 18): private files, the start-up check, /healthz, backups
that restore, documents that belong to a process's id, CSV cells that cannot run."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from deliberation import operations
from deliberation.documents import jobs
from deliberation.extensions import db
from deliberation.models import PollCount, Process
from deliberation.services.authoring.process_export import dump_process
from deliberation.services.demo.demo import ensure_demo
from tests.conftest import REDIS_URL, ROOT, LiveServer, make_app, redis_available


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _serve_once(server: LiveServer) -> subprocess.CompletedProcess:
    """``python app.py`` expected to refuse: it must exit by itself, quickly."""
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- private files and the start-up check -------------------------------------------------


def test_database_is_private_and_a_damaged_one_refuses_to_serve(tmp_path):
    server = LiveServer(tmp_path)
    database = Path(server.database_url.removeprefix("sqlite:///"))

    refused = _serve_once(server)
    assert refused.returncode != 0
    assert "Not serving: no database at" in refused.stderr and "db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not database.exists()  # the check created nothing

    server.flask("db", "upgrade")
    assert _mode(database) == 0o600
    assert _mode(server.instance_path) == 0o700

    # The header overwritten, as a disk or a careless copy would: not a database any more.
    with open(database, "r+b") as file:
        file.write(b"this is not a SQLite file" * 8)
    refused = _serve_once(server)
    assert refused.returncode != 0
    assert f"the database file {database} is damaged" in refused.stderr
    assert "flask --app app restore" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_an_unmigrated_database_refuses_to_serve(tmp_path):
    server = LiveServer(tmp_path)
    database = Path(server.database_url.removeprefix("sqlite:///"))
    sqlite3.connect(database).close()  # an empty file: a database with no tables
    refused = _serve_once(server)
    assert refused.returncode != 0
    assert "the database lacks tables" in refused.stderr


def test_startup_checks_pass_on_a_migrated_database(tmp_path, runner, app):
    with app.app_context():
        assert operations.startup_problem(db.engine) is None
    assert runner.invoke(args=["db", "stamp", "head"]).exit_code == 0
    with app.app_context():
        assert operations.startup_problem(db.engine) is None
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'elsewhere'")
        assert "not this version's" in operations.startup_problem(db.engine)


def test_a_world_readable_database_is_reported(app):
    with app.app_context():
        path = operations.sqlite_path(db.engine.url)
        path.chmod(0o644)
        assert operations.startup_warnings(db.engine) == [
            f"{path} can be read by other users of this computer: chmod 600 {path}"
        ]
        path.chmod(0o600)
        assert operations.startup_warnings(db.engine) == []


# -- /healthz -----------------------------------------------------------------------------


def test_healthz_ok_then_failing_parts(app, client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {
        "status": "ok",
        "database": "ok",
        "message_queue": "not used",
        "disk": "ok",
    }
    assert answer.headers["Cache-Control"] == "no-store"

    app.config["HEALTH_MIN_FREE_MB"] = 10**12  # more than any disk here
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json()["disk"] == "low" and answer.get_json()["status"] == "failing"
    app.config["HEALTH_MIN_FREE_MB"] = 0

    with app.app_context():
        path = operations.sqlite_path(db.engine.url)
        db.engine.dispose()
    path.write_bytes(b"garbage" * 1000)
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json()["database"] == "failing"
    assert set(answer.get_json()) == {"status", "database", "message_queue", "disk"}


def test_queue_health():
    assert operations.queue_health(None) == "not used"
    assert operations.queue_health("redis://127.0.0.1:1/0") == "failing"
    reason = redis_available()
    if reason:
        pytest.skip(reason)
    assert operations.queue_health(REDIS_URL) == "ok"


# -- backup and restore -------------------------------------------------------------------


def _snapshot(app) -> tuple[str, list[tuple]]:
    """The process file of the demo and every vote counter: what a restore must give back."""
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))
        counts = db.session.execute(
            db.select(PollCount.poll_id, PollCount.group, PollCount.key, PollCount.count).order_by(
                PollCount.poll_id, PollCount.group, PollCount.key
            )
        ).all()
        return dump_process(process), [tuple(row) for row in counts]


def test_backup_while_writing_then_restore_into_a_fresh_database(tmp_path, app, runner):
    with app.app_context():
        ensure_demo("organisateur@example.org")
        path = operations.sqlite_path(db.engine.url)
    before = _snapshot(app)
    assert before[1], "the demo records votes: there are counters to compare"

    # Another writer holds the write lock, mid-transaction, as a server voting would.
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE process SET title = 'not committed' WHERE slug = 'assises-insertion'")
    backup_file = tmp_path / "backups" / "today.sqlite"
    result = runner.invoke(args=["backup", str(backup_file)])
    writer.execute("ROLLBACK")
    writer.close()
    assert result.exit_code == 0, result.output
    assert _mode(backup_file) == 0o600

    (tmp_path / "fresh").mkdir()
    fresh = make_app(tmp_path / "fresh")
    result = fresh.test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code == 0, result.output
    kept = next((tmp_path / "fresh").glob("test.sqlite.before-restore-*"))
    assert _mode(kept) == 0o600
    assert _snapshot(fresh) == before  # the uncommitted title is not in the backup
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(tmp_path, app, runner):
    with app.app_context():
        ensure_demo("organisateur@example.org")
    before = _snapshot(app)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["restore", "--yes", str(junk)])
    assert result.exit_code != 0
    assert "is not a sound SQLite backup" in result.output
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    result = runner.invoke(args=["restore", "--yes", str(other)])
    assert "is not a backup of this application's database" in result.output
    result = runner.invoke(args=["restore", "--yes", str(tmp_path / "missing.sqlite")])
    assert "no backup file at" in result.output
    assert _snapshot(app) == before


def test_backup_and_restore_on_postgresql(tmp_path, pg_database_url):
    source = make_app(tmp_path, pg_database_url)
    with source.app_context():
        ensure_demo("organisateur@example.org")
    before = _snapshot(source)
    dump = tmp_path / "pg.dump"
    result = source.test_cli_runner().invoke(args=["backup", str(dump)])
    assert result.exit_code == 0, result.output
    assert _mode(dump) == 0o600
    with source.app_context():
        db.session.remove()
        db.drop_all()  # the disaster
        db.engine.dispose()
    result = source.test_cli_runner().invoke(args=["restore", "--yes", str(dump)])
    assert result.exit_code == 0, result.output
    assert _snapshot(source) == before
    with source.app_context():
        db.session.remove()
        db.engine.dispose()


# -- documents belong to a process's id --------------------------------------------------


def test_documents_go_with_their_process_and_never_reach_a_new_one(app):
    exports = app.config["EXPORTS_DIR"]
    with app.app_context():
        ensure_demo("organisateur@example.org")
        old = db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))
        path = jobs.build_document("synthesis", old.id, None, exports)
        assert path.parent == jobs.process_dir(exports, old.id)
        assert _mode(path) == 0o600
        assert jobs.exported_files(exports, old.id) == [path]
        old_id = old.id
        db.session.delete(old)
        db.session.commit()
        assert jobs.forget_process(exports, old_id) == 1
        assert not path.exists() and not jobs.process_dir(exports, old_id).exists()
        new = Process(slug="assises-insertion", title="Une autre")
        db.session.add(new)
        db.session.commit()
        assert jobs.exported_files(exports, new.id) == []
