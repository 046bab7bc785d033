"""Logging out on one server process disconnects the organiser's console socket held by
another process (PostgreSQL and the Redis message queue shared, as docs/deployment.md sets
them up), and a colleague's console on that process stays connected."""

from __future__ import annotations

import asyncio

from bench.live_phones import CSRF_INPUT
from bench.live_servers import ORGANIZER_EMAIL, ORGANIZER_PASSWORD
from deliberation.extensions import db
from deliberation.models import LiveSession
from deliberation.services.people.accounts import create_or_update_organizer
from tests.conftest import processes_sharing_redis
from tests.live_fixtures import make_member

COLLEAGUE, COLLEAGUE_PASSWORD = "colleague@example.org", "a colleague's long pass"


async def _console(http, server_url: str, email: str, password: str, sockets_url: str, sid: int):
    """Log in on ``server_url``; open a facilitator socket on ``sockets_url`` with the cookie."""
    import socketio
    import yarl

    async with http.get(f"{server_url}/login") as page:
        token = CSRF_INPUT.search(await page.text()).group(1)
    form = {"csrf_token": token, "email": email, "password": password}
    async with http.post(f"{server_url}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 302, await answer.text()
    cookies = http.cookie_jar.filter_cookies(yarl.URL(server_url))
    header = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    client = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()
    client.on("disconnect", lambda *_reason: gone.set())
    await client.connect(
        sockets_url,
        transports=["websocket"],
        headers={"Cookie": header},
        auth={"role": "facilitator", "session_id": sid},
    )
    return client, gone


async def _log_out_on_a(a_url: str, b_url: str, session_id: int) -> None:
    import aiohttp

    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as http,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as colleague_http,
    ):
        console, gone = await _console(
            http, a_url, ORGANIZER_EMAIL, ORGANIZER_PASSWORD, b_url, session_id
        )
        colleague, colleague_gone = await _console(
            colleague_http, b_url, COLLEAGUE, COLLEAGUE_PASSWORD, b_url, session_id
        )
        try:
            async with http.get(f"{a_url}/organize/") as page:
                token = CSRF_INPUT.search(await page.text()).group(1)
            async with http.post(
                f"{a_url}/logout", data={"csrf_token": token}, allow_redirects=False
            ) as answer:
                assert answer.status == 302
            # Through the message queue, from process A to the socket on process B.
            await asyncio.wait_for(gone.wait(), timeout=10)
            assert not console.connected
            await asyncio.sleep(0.5)
            assert colleague.connected and not colleague_gone.is_set()
            ack = await colleague.call("show_item", {"item_id": None}, timeout=10)
            assert ack["ok"] is True
        finally:
            for client in (console, colleague):
                if client.connected:
                    await client.disconnect()


def test_logout_on_one_process_disconnects_the_console_on_the_other(
    tmp_path, pg_database_url, app_for_two_processes
):
    app, session = app_for_two_processes
    with app.app_context():
        colleague, _created = create_or_update_organizer(COLLEAGUE, COLLEAGUE_PASSWORD)
        process_id = db.session.get(LiveSession, session["session_id"]).process_id
        make_member(process_id, colleague.id, "co_organizer")
        db.session.remove()
    with processes_sharing_redis(tmp_path, pg_database_url) as servers:
        asyncio.run(_log_out_on_a(servers[0].url, servers[1].url, session["session_id"]))
