"""Full garbage collections between votes, not in the middle of one.

A process holding 2,000 websockets tracks hundreds of thousands of objects. CPython's full
(generation 2) collection scans them all, holding the GIL: 90-230 ms measured with a hall
connected (docs/benchmarks.md), during which no greenlet runs — every ballot arriving
then waits, and one such pause in a 10-second vote is the slowest 2 % of acknowledgements.

When serving (:func:`install`, called by ``app.py`` and the gunicorn config, never in the
tests), the objects alive after start-up are frozen (never scanned again), automatic full
collections are switched off, and the broadcast loop calls :func:`collect_if_quiet`
several times a second: it runs the full collection once nothing has happened for
``QUIET_S`` (no ballot counted, no phone connecting, no new state sent to a session's
screens: a poll opening is when a hall starts voting), at most every ``MIN_INTERVAL_S``,
and anyway after
``MAX_DEFER_S``. The young generations are still collected as usual (a few milliseconds
each). Reference counting, which frees almost everything, is untouched.
"""

from __future__ import annotations

import gc
import threading
import time

QUIET_S = 2.0
MIN_INTERVAL_S = 30.0
MAX_DEFER_S = 300.0
# A generation-2 threshold never reached: full collections only through collect_if_quiet.
NEVER = 2**31 - 1

_lock = threading.Lock()
_installed = False
_last_activity = float("-inf")
_last_full = 0.0
_thresholds_before: tuple[int, int, int] | None = None


def install() -> None:
    """Serving only: freeze start-up objects and pace full collections ourselves."""
    global _installed, _last_full, _thresholds_before
    gc.collect()
    gc.freeze()
    _thresholds_before = young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    with _lock:
        _installed = True
        _last_full = time.monotonic()


def uninstall() -> None:
    """Back to CPython's own pacing, as it was before :func:`install` (tests)."""
    global _installed
    gc.unfreeze()
    if _thresholds_before is not None:
        gc.set_threshold(*_thresholds_before)
    with _lock:
        _installed = False


def activity() -> None:
    """A ballot was counted, or a session's screens got a new state (a poll opened)."""
    global _last_activity
    _last_activity = time.monotonic()


def collect_if_quiet(now: float | None = None) -> bool:
    """Run a full collection if it is time and no vote is under way; say whether it ran."""
    global _last_full
    now = time.monotonic() if now is None else now
    with _lock:
        if not _installed:
            return False
        since_full = now - _last_full
        busy = now - _last_activity < QUIET_S
        if since_full < MIN_INTERVAL_S or (busy and since_full < MAX_DEFER_S):
            return False
        _last_full = now
    gc.collect()
    return True
