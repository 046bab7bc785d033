"""The server closes a poll when its countdown ends (unless the facilitator said not to).

One timer per opened poll, started after the opening's commit: a task of the Socket.IO
server (a greenlet under gevent) that sleeps until the end and then asks
:func:`~deliberation.services.live.voting.close_at_countdown`, which checks again under the
poll's lock (closed by hand, reset or reopened meanwhile: nothing happens). Nothing blocks.

The timer lives in the process that opened the poll: after a restart the countdown still
shows on every screen, and the facilitator closes the vote by hand (docs/facilitating.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import force_locale

from ..extensions import db, socketio
from ..models import Poll, utcnow
from ..services.live import voting
from . import broadcast

log = logging.getLogger(__name__)

# A sleep may end a little early; a few more naps, then give up (bounded).
MAX_NAPS = 5
NAP_MARGIN_S = 0.05


@dataclass(frozen=True)
class Deadline:
    """What the timer needs once the request that opened the poll is gone."""

    poll_id: int
    round: int
    ends_at: datetime

    @classmethod
    def of(cls, poll: Poll) -> Deadline | None:
        if poll.state != "open" or poll.countdown_ends_at is None:
            return None
        return cls(poll.id, poll.round, poll.countdown_ends_at)


def schedule(
    app: Flask, deadline: Deadline, spawn: Callable[..., Any] = socketio.start_background_task
) -> None:
    spawn(close_when_due, app, deadline)


def close_when_due(
    app: Flask, deadline: Deadline, sleep: Callable[[float], Any] = socketio.sleep
) -> Poll | None:
    """Sleep until the deadline, close the poll if still due, tell every screen."""
    for _nap in range(MAX_NAPS):
        left = (deadline.ends_at - utcnow()).total_seconds()
        if left <= 0:
            break
        sleep(left + NAP_MARGIN_S)
    try:
        with app.app_context():
            closed = voting.close_at_countdown(deadline.poll_id, deadline.round)
            if closed is not None:
                # No request here: the screens' words in the process's language.
                with force_locale(closed.session.process.language or "fr"):
                    broadcast.session_changed(closed.session_id)
            db.session.remove()
            return closed
    except Exception:  # a timer has nobody to answer: log; the facilitator can still close
        log.exception("closing poll %s at the end of its countdown failed", deadline.poll_id)
        return None
