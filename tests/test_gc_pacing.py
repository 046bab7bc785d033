"""Full garbage collections are paced by the server: between votes, not during one."""

from __future__ import annotations

import gc

import pytest

from deliberation.live import gc_pacing


@pytest.fixture
def pacing():
    thresholds = gc.get_threshold()
    gc_pacing.install()
    yield gc_pacing
    gc_pacing.uninstall()
    gc.set_threshold(*thresholds)


def test_install_freezes_start_up_objects_and_stops_automatic_full_collections(pacing):
    assert gc.get_freeze_count() > 1000
    assert gc.get_threshold()[2] == gc_pacing.NEVER


def test_full_collection_waits_for_a_quiet_moment(pacing, monkeypatch):
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(1) or 0)
    start = gc_pacing._last_full
    # Too soon after the last one.
    assert not pacing.collect_if_quiet(start + 1)
    # Time for one, but ballots are coming in: postponed.
    monkeypatch.setattr(gc_pacing, "_last_activity", start + 60)
    assert not pacing.collect_if_quiet(start + 61)
    # The vote is over (quiet for QUIET_S): it runs, once.
    assert pacing.collect_if_quiet(start + 60 + gc_pacing.QUIET_S + 0.1)
    assert not pacing.collect_if_quiet(start + 60 + gc_pacing.QUIET_S + 0.2)
    assert collections == [1]
    # A vote that never ends does not postpone it past MAX_DEFER_S.
    later = start + 60 + gc_pacing.QUIET_S + 0.1 + gc_pacing.MAX_DEFER_S
    monkeypatch.setattr(gc_pacing, "_last_activity", later)
    assert pacing.collect_if_quiet(later + 0.5)
    assert collections == [1, 1]


def test_nothing_is_paced_unless_installed(monkeypatch):
    monkeypatch.setattr(gc, "collect", lambda *args: pytest.fail("collected"))
    assert gc_pacing.collect_if_quiet(10**9) is False


def test_a_new_state_and_a_ballot_count_as_activity(app, monkeypatch):
    """A poll opening (a new state for the session) is when a hall starts voting."""
    from deliberation.live import broadcast
    from tests.live_fixtures import make_process, workshop

    with app.test_request_context():
        session = workshop(make_process())
        monkeypatch.setattr(gc_pacing, "_last_activity", float("-inf"))
        broadcast.session_changed(session.id)
        assert gc_pacing._last_activity > 0
        monkeypatch.setattr(gc_pacing, "_last_activity", float("-inf"))
        broadcast.ballot_counted(session.id)
        assert gc_pacing._last_activity > 0


def test_a_phone_connecting_counts_as_activity(app, monkeypatch):
    """A hall reconnecting at once (the wifi back) must not get a full collection's pause."""
    from deliberation.extensions import socketio
    from deliberation.services.live import sessions
    from tests.live_fixtures import make_process, workshop

    with app.app_context():
        session = workshop(make_process())
        _participant, token = sessions.join(session.join_code, "")
    monkeypatch.setattr(gc_pacing, "_last_activity", float("-inf"))
    client = socketio.test_client(app, auth={"role": "phone", "token": token})
    assert client.is_connected()
    assert gc_pacing._last_activity > 0
