"""Database plumbing: SQLite pragmas and write transactions that take the lock up front.

SQLite allows one writer at a time. A deferred transaction that reads first and writes
later can fail with "database is locked" when another writer got there in between, and the
busy timeout does not help then. Every write that must not be lost (a ballot, a poll
transition) therefore runs in :func:`write_transaction`, which starts with
``BEGIN IMMEDIATE`` on SQLite and locks the rows it names on PostgreSQL.

Waiting for the lock must not stop the server. SQLite's busy timeout sleeps inside the C
library: under gevent that stops every greenlet of the process (a lock held from outside —
a backup, a ``sqlite3`` shell — froze the whole hall). When the process runs on gevent the
busy timeout is therefore 0, and :func:`write_transaction` waits for the lock itself, with
gevent's sleep between attempts, for at most ``LOCK_WAIT_S`` (then ``OperationalError``,
which callers answer "server busy"). Threads (tests, commands) keep SQLite's own wait.

One unit of work: every service write runs in :func:`write_transaction` (a ``with`` block, or
the :func:`writes` decorator around a whole service function). A service called by another
joins its caller's transaction, so the outer call commits everything or nothing. A refusal
raised inside rolls the block back: views and socket handlers never commit nor roll back;
after an error they only call :func:`discard_failed_work` before reading again.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db
from .offload import gevent_patched

_immediate: ContextVar[bool] = ContextVar("immediate_write", default=False)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Under gevent: how long write_transaction waits for SQLite's lock, cooperatively.
LOCK_WAIT_S = 5.0
_FIRST_RETRY_S, _LONGEST_RETRY_S = 0.005, 0.1

P = ParamSpec("P")
R = TypeVar("R")


def busy_timeout_ms() -> int:
    """SQLite's own (blocking) wait: none where it would stop every greenlet."""
    return 0 if gevent_patched() else SQLITE_BUSY_TIMEOUT_MS


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
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
        # Deleted rows are overwritten with zeros, not left in free space: a closed secret
        # poll's ballots are rewritten without their participants (services.live.secrecy).
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
    Inside another write transaction it only joins it: the outermost one commits.
    """
    if _immediate.get():
        yield
        return
    session = db.session()  # the scoped session's current Session (has in_transaction)
    if session.in_transaction():
        session.commit()
    token = _immediate.set(True)
    try:
        with _begin_with_lock(session):
            yield
    finally:
        _immediate.reset(token)


def writes(function: Callable[P, R]) -> Callable[P, R]:
    """Run a service function as one unit of work: in :func:`write_transaction` (committed
    when it returns, rolled back when it raises), or in its caller's when there is one."""

    @functools.wraps(function)
    def in_transaction(*args: P.args, **kwargs: P.kwargs) -> R:
        with write_transaction():
            return function(*args, **kwargs)

    return in_transaction


def discard_failed_work() -> None:
    """After an error a view or a handler caught (an outage, a bug): end whatever the
    session still holds, so what is read next (an error page, the next session's tally)
    does not run in a failed transaction. Writes never wait here: they ran, or were rolled
    back, in :func:`write_transaction`."""
    db.session.rollback()


def _busy(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_BUSY or "database is locked" in str(error.orig)


def _begin_with_lock(session: Session) -> SessionTransaction:
    """Begin, and take the write lock now (SQLite: ``BEGIN IMMEDIATE`` runs when the
    connection is first used); while SQLite answers busy, wait (gevent's sleep when serving)
    and try again, for at most ``LOCK_WAIT_S``."""
    deadline = time.monotonic() + LOCK_WAIT_S
    delay = _FIRST_RETRY_S
    while True:
        transaction = session.begin()
        try:
            session.connection()
            return transaction
        except OperationalError as error:
            transaction.rollback()
            if not _busy(error) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(2 * delay, _LONGEST_RETRY_S)
