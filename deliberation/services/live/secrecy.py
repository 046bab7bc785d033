"""What a secret poll keeps once closed: turnout, an anonymous urn, and counters that show
no group the screens would hide (docs/security.md, "Secret and named votes").

While a secret poll is open its ballot rows name the participant, so that a vote can be
changed. :func:`seal` runs in the SAME transaction as the close (the poll row locked, no
ballot can slip in), and leaves:

* the counters folded: every group under the smallest group shown (``min_group``) merged
  into "other" by the rule of :func:`deliberation.tally.groups.bucket_names`, rows rewritten
  in the order of their group and key;
* a voter roll (:class:`PollVoter`): who voted, in participant order, never what or when;
* the urn: the ballot rows rewritten without participant and without time, with the folded
  group, in the order of their group and choice, so that their totals equal the counters
  and nothing in their order, ids or times follows the order of voting;
* the receipts without their participant: a resend of a known ballot id is still
  acknowledged as a duplicate, by its id alone.

Deleting rows does not erase their bytes from the database files. :func:`scrub_storage`,
called after the commit, asks the database to let go of them: on SQLite the connections run
with ``PRAGMA secure_delete=ON`` (freed space is zeroed, see ``database.configure_engine``)
and the write-ahead log is checkpointed and truncated; on PostgreSQL the tables are vacuumed
so the dead row versions are pruned. What that does and does not guarantee is written in
docs/security.md. Nothing here logs a choice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import defaultdict
from typing import Any

from flask import Flask, current_app

from ...extensions import db, socketio
from ...models import Ballot, BallotReceipt, Poll, PollCount, PollVoter
from ...offload import gevent_patched, run_blocking
from ...tally import OutcomeRule
from ...tally.groups import bucket_names
from ...tally.rules import BALLOTS_KEY

log = logging.getLogger(__name__)

# Tables whose deleted or updated rows held a participant next to a choice (or a count of a
# small group): the ones vacuumed after a secret poll closes or is reset.
SCRUBBED_TABLES = ("ballot", "ballot_receipt", "poll_count", "poll_voter", "poll_audit")
# A reader in the middle of a transaction keeps the log from being truncated: tried again
# for about half a minute (in a native thread, so nobody waits for it).
CHECKPOINT_ATTEMPTS = 12
CHECKPOINT_BUSY_MS = 2000


def _choice_key(choice: Any) -> str:
    return json.dumps(choice, sort_keys=True, separators=(",", ":"))


def seal(poll: Poll) -> None:
    """Anonymise a secret poll's ballots; call inside the close transaction, poll locked."""
    connection = db.session.connection()
    ballots, counts = Ballot.__table__, PollCount.__table__
    counters: dict[str, dict[str, int]] = defaultdict(dict)
    for group, key, count in connection.execute(
        db.select(counts.c.group, counts.c.key, counts.c.count).where(counts.c.poll_id == poll.id)
    ):
        if count:
            counters[group or ""][key] = count
    rule = OutcomeRule.from_process(poll.session.process)
    names = bucket_names(
        {group: figures.get(BALLOTS_KEY, 0) for group, figures in counters.items()},
        rule.min_group,
    )
    folded: dict[tuple[str, str], int] = defaultdict(int)
    for group, figures in counters.items():
        for key, count in figures.items():
            folded[(names[group], key)] += count

    rows = connection.execute(
        db.select(ballots.c.participant_id, ballots.c.choice, ballots.c.group).where(
            ballots.c.poll_id == poll.id
        )
    ).all()
    voters = sorted({row.participant_id for row in rows if row.participant_id is not None})
    urn = sorted(
        (names.get(row.group or "", "other"), _choice_key(row.choice), row.choice) for row in rows
    )

    connection.execute(counts.delete().where(counts.c.poll_id == poll.id))
    if folded:
        connection.execute(
            counts.insert(),
            [
                {"poll_id": poll.id, "group": group, "key": key, "count": count}
                for (group, key), count in sorted(folded.items())
            ],
        )
    connection.execute(ballots.delete().where(ballots.c.poll_id == poll.id))
    if urn:
        connection.execute(
            ballots.insert(),
            [
                {
                    "poll_id": poll.id,
                    "participant_id": None,
                    "choice": choice,
                    "group": group,
                    "cast_at": None,
                }
                for group, _key, choice in urn
            ],
        )
    if voters:
        connection.execute(
            PollVoter.__table__.insert(),
            [{"poll_id": poll.id, "participant_id": voter} for voter in voters],
        )
    receipts = BallotReceipt.__table__
    connection.execute(
        receipts.update().where(receipts.c.poll_id == poll.id).values(participant_id=None)
    )


def forget_round(poll: Poll) -> None:
    """A reset: the round's urn (or ballots), counters and voter roll go."""
    db.session.execute(db.delete(Ballot).filter_by(poll_id=poll.id))
    db.session.execute(db.delete(PollCount).filter_by(poll_id=poll.id))
    db.session.execute(db.delete(PollVoter).filter_by(poll_id=poll.id))


# -- after the commit: the bytes of the deleted rows -----------------------------------------


def scrub_storage() -> None:
    """Ask the database to drop the bytes of the rows a secret close or reset deleted.

    Never on the event loop: SQLite's checkpoint runs in a native thread (it may wait for
    readers), PostgreSQL's VACUUM in a background task whose waits yield to the others.
    Without gevent (tests, commands) it runs now, in the caller.
    """
    app = current_app._get_current_object()
    engine = db.engine
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:":
            return
        if gevent_patched():
            socketio.start_background_task(run_blocking, checkpoint_sqlite, path)
        else:
            checkpoint_sqlite(path)
    elif engine.dialect.name == "postgresql":
        if gevent_patched():
            socketio.start_background_task(vacuum_postgresql, app)
        else:
            vacuum_postgresql(app)


def checkpoint_sqlite(path: str) -> bool:
    """Copy the write-ahead log into the database file and truncate it to zero bytes.

    The log holds every page image written since the last truncation, the ballots with
    their participants included. A checkpoint that readers keep busy is tried again."""
    for attempt in range(CHECKPOINT_ATTEMPTS):
        connection = sqlite3.connect(path, timeout=CHECKPOINT_BUSY_MS / 1000)
        try:
            connection.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
            busy, _log_frames, _copied = connection.execute(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()
        except sqlite3.Error:
            busy = 1
        finally:
            connection.close()
        if not busy:
            return True
        time.sleep(min(0.5 * (attempt + 1), 3.0))
    log.warning("secret poll: the SQLite write-ahead log could not be truncated yet")
    return False


def vacuum_postgresql(app: Flask) -> bool:
    """VACUUM the tables a secret close rewrote, so their dead row versions are pruned."""
    try:
        with app.app_context():
            autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with autocommit as connection:
                connection.exec_driver_sql("VACUUM " + ", ".join(SCRUBBED_TABLES))
        return True
    except Exception:  # a failed vacuum loses nothing: autovacuum comes later
        log.warning("secret poll: VACUUM after close failed", exc_info=True)
        return False
