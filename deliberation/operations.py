"""The operator's tools: is the database usable before serving, is the instance healthy
now, and backups that can be restored (docs/deployment.md, "Operating").

No Flask request here: the start-up check runs before anything listens, the health endpoint
(``views/health.py``) and the ``backup`` / ``restore`` commands (``cli.py``) call these.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .keys import readable_by_others

# Below this much free space where documents are written, the health check fails: a Word
# export of a large process takes tens of megabytes while it is being written.
MIN_FREE_MB = 200
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
QUEUE_TIMEOUT_S = 1.0


class OperationsError(RuntimeError):
    """Something the operator must do, said in one sentence."""


# -- the database file ------------------------------------------------------------------


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite database URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    # mode=ro: checking a file never creates it, nor changes it.
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as connection:
        yield connection


def damage(path: Path) -> str | None:
    """What SQLite's quick check finds wrong in a database file, or None when it is sound."""
    try:
        with _read_only(path) as connection:
            rows = connection.execute("PRAGMA quick_check").fetchall()
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        return str(error)
    found = [row[0] for row in rows if row[0] != "ok"]
    return "; ".join(found[:3]) if found else None


def schema_problem(engine: Engine, migrations: Path = MIGRATIONS_DIR) -> str | None:
    """Whether the database holds the schema this code expects: every table of the models,
    and, where Alembic keeps its version, Alembic's head."""
    heads = set(ScriptDirectory(str(migrations)).get_heads())
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        where = engine.url.render_as_string(hide_password=True)
        return f"the database at {where} cannot be read ({error.__class__.__name__}: {error.orig})"
    if not set(db.metadata.tables) <= tables:
        return "the database lacks tables: run `flask --app app db upgrade` (make run does)"
    if current and current != heads:
        return "the database's schema is not this version's: run `flask --app app db upgrade`"
    return None


def startup_problem(engine: Engine, migrations: Path = MIGRATIONS_DIR) -> str | None:
    """Why the server must not start on this database, in one sentence; None if it may."""
    path = sqlite_path(engine.url)
    if path is not None:
        if not path.exists():
            return f"no database at {path}: run `flask --app app db upgrade` (make run does)"
        found = damage(path)
        if found:
            return (
                f"the database file {path} is damaged ({found}). Restore the latest backup: "
                "`flask --app app restore FILE` (docs/deployment.md, Backups)"
            )
    return schema_problem(engine, migrations)


def startup_warnings(engine: Engine) -> list[str]:
    path = sqlite_path(engine.url)
    if path is not None and path.exists() and readable_by_others(path):
        return [f"{path} can be read by other users of this computer: chmod 600 {path}"]
    return []


# -- health ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    database: str  # "ok" | "failing"
    message_queue: str  # "ok" | "failing" | "not used"
    disk: str  # "ok" | "low"

    @property
    def ok(self) -> bool:
        return "failing" not in (self.database, self.message_queue) and self.disk == "ok"

    def public(self) -> dict[str, str]:
        return {
            "status": "ok" if self.ok else "failing",
            "database": self.database,
            "message_queue": self.message_queue,
            "disk": self.disk,
        }


def database_health(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            # SQLite reads the schema here: a file that is no longer a database fails on
            # this, not on SELECT 1.
            probe = "SELECT count(*) FROM sqlite_master" if sqlite_path(engine.url) else "SELECT 1"
            connection.exec_driver_sql(probe).scalar()
    except SQLAlchemyError:
        return "failing"
    return "ok"


def queue_health(message_queue: str | None) -> str:
    if not message_queue:
        return "not used"
    if not message_queue.startswith(("redis://", "rediss://", "unix://")):
        return "ok"  # another broker: checked by its own monitoring
    client = redis.Redis.from_url(
        message_queue, socket_timeout=QUEUE_TIMEOUT_S, socket_connect_timeout=QUEUE_TIMEOUT_S
    )
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "failing"
    finally:
        client.close()
    return "ok"


def disk_health(exports_dir: str, min_free_mb: int = MIN_FREE_MB) -> str:
    directory = Path(exports_dir)
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent  # not made yet: the disk it will be made on
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return "low"
    return "ok" if free >= min_free_mb * 1024 * 1024 else "low"


def health(engine: Engine, message_queue: str | None, exports_dir: str, min_free_mb: int) -> Health:
    return Health(
        database=database_health(engine),
        message_queue=queue_health(message_queue),
        disk=disk_health(exports_dir, min_free_mb),
    )


# -- backups -----------------------------------------------------------------------------


def _libpq_url(url: URL) -> str:
    """pg_dump's form of a SQLAlchemy URL (no driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _private_copy_target(destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    os.close(handle)
    os.chmod(temporary, 0o600)
    return Path(temporary)


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy a live SQLite database with its online backup API: a consistent snapshot, while
    the server goes on writing (WAL: readers never block writers)."""
    temporary = _private_copy_target(destination)
    try:
        with (
            _read_only(source) as reader,
            closing(sqlite3.connect(temporary)) as writer,
        ):
            reader.backup(writer)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def backup(url: str | URL, destination: Path) -> Path:
    """Write a backup of the database to ``destination`` (0600); returns its path."""
    parsed = make_url(url)
    path = sqlite_path(parsed)
    if path is not None:
        if not path.exists():
            raise OperationsError(f"there is no database at {path} to back up")
        _sqlite_copy(path, destination)
        return destination
    if parsed.get_backend_name() == "postgresql":
        _run_pg("pg_dump", "--format=custom", f"--file={destination}", _libpq_url(parsed))
        os.chmod(destination, 0o600)
        return destination
    raise OperationsError(f"no backup for {parsed.get_backend_name()} databases")


def restore(url: str | URL, source: Path) -> Path | None:
    """Replace the database's content by a backup's. SQLite: the current file is kept aside
    first (returned), so a mistaken restore loses nothing. Stop the server before."""
    parsed = make_url(url)
    if not source.is_file():
        raise OperationsError(f"no backup file at {source}")
    path = sqlite_path(parsed)
    if path is not None:
        found = damage(source)
        if found:
            raise OperationsError(f"{source} is not a sound SQLite backup ({found})")
        with _read_only(source) as reader:
            tables = {row[0] for row in reader.execute("SELECT name FROM sqlite_master")}
        if not set(db.metadata.tables) <= tables:
            raise OperationsError(f"{source} is not a backup of this application's database")
        kept = None
        if path.exists():
            kept = path.with_name(f"{path.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
            _sqlite_copy(path, kept)
        with (
            _read_only(source) as reader,
            closing(sqlite3.connect(path, timeout=30)) as writer,
        ):
            reader.backup(writer)
        os.chmod(path, 0o600)
        return kept
    if parsed.get_backend_name() == "postgresql":
        _run_pg(
            "pg_restore", "--clean", "--if-exists", "--no-owner",
            f"--dbname={_libpq_url(parsed)}", str(source),
        )  # fmt: skip
        return None
    raise OperationsError(f"no restore for {parsed.get_backend_name()} databases")


def _run_pg(program: str, *arguments: str) -> None:
    if shutil.which(program) is None:
        raise OperationsError(f"{program} is not installed (Debian: apt install postgresql-client)")
    done = subprocess.run([program, *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OperationsError(f"{program} failed: {done.stderr.strip()[:500]}")
