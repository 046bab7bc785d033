"""The token buckets of live/guard.py, on a fake clock: who is a flooder."""

from __future__ import annotations

import pytest

from deliberation.live import guard


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(guard.time, "monotonic", lambda: now[0])
    return now


def test_a_flood_of_cheap_events_is_told_from_an_honest_phone(app, clock):
    """A vote costs 1 and the bucket refills 10 a second: a phone sending 1,000 votes a
    second was let through one every 0.1 s, and a count of refusals *in a row* never reached
    the limit — the flood was never disconnected (seen in tests/test_hostile_flood.py on a
    loaded machine). Counted since the bucket was last full, it is."""
    with app.app_context():
        flooder = guard._Bucket(tokens=guard.DEFAULT_BURST, stamp=clock[0])
        let_through = 0
        for _ in range(300):  # 0.3 s at 1,000 votes a second
            clock[0] += 0.001
            let_through += guard._take(flooder, 1) == 0
        assert let_through > guard.DEFAULT_BURST  # a vote every refill still gets through
        assert flooder.refused_since_full >= guard.DEFAULT_FLOOD_DISCONNECT

        # An impatient but honest phone: 40 events at once after a reconnect (10 refused),
        # then it waits as told until its bucket is full again — fifty times over.
        honest = guard._Bucket(tokens=guard.DEFAULT_BURST, stamp=clock[0])
        refused = 0
        for _ in range(50):
            for _ in range(40):
                refused += guard._take(honest, 1) > 0
            clock[0] += guard.DEFAULT_BURST / guard.DEFAULT_RATE
        assert refused == 50 * 10
        assert honest.refused_since_full < guard.DEFAULT_FLOOD_DISCONNECT
