"""Two server processes behind the Redis message queue, sharing PostgreSQL (docs/deployment.md):
what happens on one process reaches the screens connected to the other."""

from __future__ import annotations

import asyncio
import time
import uuid

from bench.live import Screens
from deliberation.extensions import db
from deliberation.services.live import sessions
from tests.conftest import processes_sharing_redis


async def _vote_across_processes(phone_url: str, screens_url: str, session: dict, token: str):
    import socketio

    screens = Screens(screens_url, session)
    phone = socketio.AsyncClient(reconnection=False)
    phone_states: list[dict] = []
    phone.on("state", lambda state: phone_states.append(state))
    await screens.start()
    try:
        await phone.connect(
            phone_url, transports=["websocket"], auth={"role": "phone", "token": token}
        )
        # The facilitator opens the poll on process B; the phone on process A must hear it.
        state = await screens.action(
            "open_poll", {"item_id": session["item_id"], "method": "yes_no"}
        )
        poll = state["poll"]
        deadline = time.monotonic() + 10
        while not any((s.get("poll") or {}).get("state") == "open" for s in phone_states):
            assert time.monotonic() < deadline, "the open poll never reached the other process"
            await asyncio.sleep(0.05)

        ballot = {
            "poll_id": poll["id"],
            "ballot_id": uuid.uuid4().hex,
            "choice": {"answer": "yes"},
            "round": poll["round"],
        }
        ack = await phone.call("vote", ballot, timeout=10)
        assert ack == {"ok": True, "ballot_id": ballot["ballot_id"], "duplicate": False}

        # The ballot went through process A; the projector is connected to process B.
        seen_at = await screens.wait_for_count(1, timeout=10)
        assert seen_at is not None, f"projector tallies: {screens.tallies}"
        again = await phone.call("vote", ballot, timeout=10)
        assert again["duplicate"] is True
        return poll["id"]
    finally:
        await phone.disconnect()
        await screens.stop()


def test_ballot_cast_on_one_process_reaches_projector_on_the_other(
    tmp_path, pg_database_url, app_for_two_processes
):
    app, session = app_for_two_processes
    with app.app_context():
        _participant, token = sessions.join(session["code"], "Phone on A")
    with processes_sharing_redis(tmp_path, pg_database_url) as servers:
        poll_id = asyncio.run(
            _vote_across_processes(servers[0].url, servers[1].url, session, token)
        )
    with app.app_context():
        from deliberation.models import Poll
        from deliberation.services.live import voting

        assert voting.voted_count(db.session.get(Poll, poll_id)) == 1


async def _first_state(url: str, token: str) -> dict:
    import socketio

    phone = socketio.AsyncClient(reconnection=False)
    states: list[dict] = []
    phone.on("state", lambda state: states.append(state))
    await phone.connect(url, transports=["websocket"], auth={"role": "phone", "token": token})
    try:
        deadline = time.monotonic() + 10
        while not states:
            assert time.monotonic() < deadline, "no state on connect"
            await asyncio.sleep(0.02)
        return states[0]
    finally:
        await phone.disconnect()


async def _connect_after_changes_elsewhere(phone_url: str, screens_url: str, session, tokens):
    """A phone on process A keeps A's phone state (live/phone_states.py); the poll is then
    opened and closed through process B: phones connecting to A afterwards must see each
    change, although A made none of them."""
    screens = Screens(screens_url, session)
    await screens.start()
    try:
        assert (await _first_state(phone_url, tokens[0]))["poll"] is None
        state = await screens.action(
            "open_poll", {"item_id": session["item_id"], "method": "yes_no"}
        )
        poll_id = state["poll"]["id"]
        deadline = time.monotonic() + 3  # well under phone_states.MAX_AGE_S
        while True:  # the message crosses Redis: A delivers it a moment later
            seen = (await _first_state(phone_url, tokens[1]))["poll"]
            if seen is not None:
                break
            assert time.monotonic() < deadline, "process A kept serving the state before"
            await asyncio.sleep(0.05)
        assert seen["id"] == poll_id and seen["state"] == "open"
        await screens.action("close_poll", {"poll_id": poll_id})
        deadline = time.monotonic() + 3  # well under phone_states.MAX_AGE_S
        while (await _first_state(phone_url, tokens[2]))["poll"]["state"] != "closed":
            assert time.monotonic() < deadline, "process A kept serving the open poll"
            await asyncio.sleep(0.05)
    finally:
        await screens.stop()


def test_phones_connecting_to_one_process_see_what_changed_on_the_other(
    tmp_path, pg_database_url, app_for_two_processes
):
    app, session = app_for_two_processes
    with app.app_context():
        tokens = [sessions.join(session["code"], f"Phone {n}")[1] for n in range(3)]
        db.session.commit()
    with processes_sharing_redis(tmp_path, pg_database_url) as servers:
        asyncio.run(
            _connect_after_changes_elsewhere(servers[0].url, servers[1].url, session, tokens)
        )
