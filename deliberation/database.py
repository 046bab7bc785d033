"""Database plumbing: SQLite pragmas and write transactions that take the lock up front.

SQLite allows one writer at a time. A deferred transaction that reads first and writes
later can fail with "database is locked" when another writer got there in between, and the
busy timeout does not help then. Every write that must not be lost (a ballot, a poll
transition) therefore runs in :func:`write_transaction`, which starts with
``BEGIN IMMEDIATE`` on SQLite and locks the rows it names on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

_immediate: ContextVar[bool] = ContextVar("immediate_write", default=False)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def configure_engine(engine: Engine) -> None:
    """Install the SQLite pragmas and transaction handling on one engine."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - trivial
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Deleted rows are overwritten with zeros, not left in free space: a closed secret
        # poll's ballots are rewritten without their participants (services.secrecy).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block in one transaction that holds the write lock from its first statement.

    Commits on success, rolls back on any exception. Any transaction already open in the
    scoped session is committed first, so the lock is taken before anything is read.
    """
    session = db.session()  # the scoped session's current Session (has in_transaction)
    if session.in_transaction():
        session.commit()
    token = _immediate.set(True)
    try:
        with session.begin():
            yield
    finally:
        _immediate.reset(token)
