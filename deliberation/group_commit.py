"""Group commit: many callers, one writer at a time, each write carrying everyone waiting.

A hall votes within seconds. Written one transaction per ballot, every ballot pays the lock,
the round trips and the commit, and on PostgreSQL every one of them queues on the poll's
row lock (a convoy under load). Here a caller that finds nobody writing becomes the
*leader*: it takes every request waiting (up to ``max_batch``), writes them in one call,
hands each caller its own result, and passes the lead to the next caller in line, if any.
Callers that arrive meanwhile wait on their own event and hold no database connection.

Under a crowd (the last ``CROWD`` requests came within a second from at least half as many
different callers) the leader first waits ``gather_s`` for more, so that the fixed cost of a
transaction is shared: on SQLite a write never yields to the other greenlets, so without
this wait nobody could join a batch. A lone caller, or one caller's loop, never waits.

No background thread: the leader is one of the callers. The locks and events are
``threading``'s, which gevent patches when the server runs on it, and which are real
thread primitives in the tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

# A crowd: this many requests within a second, from at least half as many callers (threads
# or greenlets).
CROWD = 8
CROWD_WINDOW_S = 1.0

Request = TypeVar("Request")
Result = TypeVar("Result")


class _Entry(Generic[Request, Result]):
    __slots__ = ("request", "result", "error", "done", "wake")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.done = False
        self.wake = threading.Event()


class GroupCommit(Generic[Request, Result]):
    """Serialise calls of ``write`` and batch the requests that queue up meanwhile.

    ``write`` gets a list of requests and returns one result per request, in order. If it
    raises, every caller of that batch gets the exception.
    """

    def __init__(
        self,
        write: Callable[[list[Request]], Sequence[Result]],
        max_batch: int = 256,
        gather_s: float = 0.0,
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.gather_s = gather_s
        self._recent: deque[tuple[float, int]] = deque(maxlen=CROWD)
        self._lock = threading.Lock()
        self._pending: list[_Entry[Request, Result]] = []
        self._leading = False
        self.batches = 0  # how it batched (tests, and when profiling)
        self.largest_batch = 0

    def submit(self, request: Request) -> Result:
        entry: _Entry[Request, Result] = _Entry(request)
        with self._lock:
            self._pending.append(entry)
            lead = not self._leading
            self._leading = True
            self._recent.append((time.monotonic(), threading.get_ident()))
        if not lead:
            entry.wake.wait()
        if not entry.done:
            # Leading (first in line, or handed the lead): this entry heads the queue, so
            # the batch taken now holds it.
            self._lead()
        if entry.error is not None:
            raise entry.error
        return entry.result  # type: ignore[return-value]

    def _crowded(self) -> bool:
        with self._lock:
            recent = list(self._recent)
        return (
            len(recent) == CROWD
            and time.monotonic() - recent[0][0] < CROWD_WINDOW_S
            and len({caller for _, caller in recent}) >= CROWD // 2
        )

    def _lead(self) -> None:
        if self.gather_s and self._crowded():
            time.sleep(self.gather_s)  # gevent's sleep when serving: the others run meanwhile
        with self._lock:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            results = list(self._write([entry.request for entry in batch]))
            if len(results) != len(batch):
                raise RuntimeError("group commit: one result per request expected")
            for entry, result in zip(batch, results, strict=True):
                entry.result = result
        except BaseException as error:  # noqa: BLE001 - handed to every caller of the batch
            for entry in batch:
                entry.error = error
        finally:
            for entry in batch:
                entry.done = True
                entry.wake.set()
            with self._lock:
                if self._pending:
                    self._pending[0].wake.set()  # the lead passes on; _leading stays True
                else:
                    self._leading = False
