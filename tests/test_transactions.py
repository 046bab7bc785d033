"""One unit of work (deliberation.database): a service write commits everything or nothing,
a service called by another joins its transaction, and a refusal needs no rollback from the
caller. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation.database import write_transaction, writes
from deliberation.extensions import db
from deliberation.models import Process, Territory
from deliberation.services.authoring import processes
from deliberation.services.validation import ValidationError


class Refusal(Exception):
    pass


def _territories(process_id: int) -> list[str]:
    return sorted(db.session.scalars(select(Territory.name).filter_by(process_id=process_id)).all())


@writes
def _add(process_id: int, name: str) -> None:
    db.session.add(Territory(process_id=process_id, name=name))


@writes
def _add_then_refuse(process_id: int, name: str) -> None:
    db.session.add(Territory(process_id=process_id, name=name))
    db.session.flush()  # written to the database, then undone by the refusal
    raise Refusal


@writes
def _add_two(process_id: int, fail_after_first: bool) -> None:
    _add(process_id, "first")  # joins this transaction: not committed on its own
    if fail_after_first:
        raise Refusal
    _add(process_id, "second")


@pytest.fixture
def process_id(any_db_app):
    with any_db_app.app_context():
        process = Process(slug="uow", title="Unit of work", language="en")
        with write_transaction():
            db.session.add(process)
        yield process.id


def test_a_write_commits_when_it_returns(process_id):
    _add(process_id, "Liège")
    db.session.remove()  # a new session sees it: it was committed
    assert _territories(process_id) == ["Liège"]


def test_a_refusal_leaves_nothing_and_the_session_usable(process_id):
    with pytest.raises(Refusal):
        _add_then_refuse(process_id, "Namur")
    # No rollback by the caller: the session reads and writes again at once.
    assert _territories(process_id) == []
    _add(process_id, "Liège")
    db.session.remove()
    assert _territories(process_id) == ["Liège"]


def test_a_service_called_by_another_joins_its_transaction(process_id):
    with pytest.raises(Refusal):
        _add_two(process_id, fail_after_first=True)
    db.session.remove()
    assert _territories(process_id) == []  # the inner write went with the outer refusal
    _add_two(process_id, fail_after_first=False)
    db.session.remove()
    assert _territories(process_id) == ["first", "second"]


def test_a_refused_duplicate_saves_nothing_more(process_id):
    process = db.session.get(Process, process_id)
    processes.add_territory(process, "Liège")
    with pytest.raises(ValidationError):
        processes.add_territory(db.session.get(Process, process_id), "Liège")
    db.session.remove()
    count = db.session.scalar(select(func.count(Territory.id)).filter_by(process_id=process_id))
    assert count == 1
