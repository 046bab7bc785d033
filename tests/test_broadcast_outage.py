"""A tally push that finds no database connection (a host's phones all arriving at once on
the survivor, docs/benchmarks.md "Failover") is an outage: one log line, no traceback, and
the session's tally goes out at the next turn instead of being forgotten."""

from __future__ import annotations

import logging

from sqlalchemy.exc import TimeoutError as PoolTimeout

from deliberation.live import broadcast


class Records(logging.Handler):
    """The broadcast logger's own records: caplog depends on propagation to the root logger,
    which another test of the same worker may have configured away."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_push_without_a_database_connection_is_postponed_not_lost(app, monkeypatch):
    pushed: list[int] = []
    failures = iter([PoolTimeout("QueuePool limit reached")])

    def push(session_id: int) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        pushed.append(session_id)

    monkeypatch.setattr(broadcast, "_push_tally", push)
    broadcast.reset()
    logger = logging.getLogger(broadcast.__name__)
    monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setattr(logger, "level", logging.WARNING)
    records = Records()
    logger.addHandler(records)
    try:
        with app.app_context():
            broadcast.ballot_counted(7)
            assert broadcast.flush_now() == 1
            assert pushed == []  # the database was unavailable
            assert broadcast.flush_now() == 1  # still dirty: tried again at the next turn
    finally:
        logger.removeHandler(records)
    assert pushed == [7]
    assert [record.levelname for record in records.records] == ["WARNING"]
    assert "postponed" in records.records[0].getMessage()
    assert records.records[0].exc_info is None  # no traceback for an outage
