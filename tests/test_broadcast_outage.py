"""A tally push that finds no database connection (a host's phones all arriving at once on
the survivor, docs/benchmarks.md "Failover") is an outage: one log line, no traceback, and
the session's tally goes out at the next turn instead of being forgotten."""

from __future__ import annotations

import logging

from sqlalchemy.exc import TimeoutError as PoolTimeout

from deliberation.live import broadcast


def test_a_push_without_a_database_connection_is_postponed_not_lost(app, monkeypatch, caplog):
    pushed: list[int] = []
    failures = iter([PoolTimeout("QueuePool limit reached")])

    def push(session_id: int) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        pushed.append(session_id)

    monkeypatch.setattr(broadcast, "_push_tally", push)
    broadcast.reset()
    with app.app_context(), caplog.at_level(logging.WARNING, logger=broadcast.__name__):
        broadcast.ballot_counted(7)
        assert broadcast.flush_now() == 1
        assert pushed == []  # the database was unavailable
        assert broadcast.flush_now() == 1  # still dirty: tried again at the next turn
        assert pushed == [7]
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "postponed" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is None  # no traceback for an outage
