"""Simulated phones for ``bench.live``: one load-generator process runs a few hundred of them.

Each phone behaves as ``static/js/phone.js`` does (docs/protocol.md §4): it joins over HTTP
(``GET /j/<CODE>`` for the CSRF token, ``POST /j/<CODE>``, token from the cookie), connects a
Socket.IO client over the websocket transport, and when a ``state`` shows an open poll it
votes once at a random moment of the voting window. An unacknowledged ballot stays pending
and is sent again, with the same ``ballot_id``, after every reconnection.

Phones of the ``api`` or ``form`` transport never open a socket (a phone without a live
connection, docs/protocol.md §10): told that a poll opened (``poll``), each posts its ballot
at a random moment of the window, by ``POST /api/ballots`` (the HTTP twin of ``vote``) or by
reloading the phone page and posting its plain form (``POST /s/<CODE>/vote``), as a phone
without JavaScript does; ``live_http.py``.

The process talks to the orchestrator through two queues: it reports ``joined``,
``connected`` and ``done``, and obeys ``connect``, ``drop`` (abort every websocket at a
given wall-clock time, as a hall whose wifi fails), ``poll`` (HTTP phones: a poll opened),
``failover`` (a host is killed at that wall-clock time: its phones' connections drop and come
back through nginx by themselves) and ``finish``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import re
import resource
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

ANSWERS = ("yes", "no", "abstain")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
JOIN_CONCURRENCY = 8
CONNECT_CONCURRENCY = 40
ACK_TIMEOUT_S = 15.0
MAX_ATTEMPTS = 20
CONNECT_ATTEMPTS = 10
# How long a dial waits for the server's answer to its Socket.IO CONNECT (its token checked,
# its first state built). socket.io-client, the phones' library, waits up to its `timeout`
# option, 20 s by default; python-socketio's client waits 1 s and then hangs up, and its own
# reconnection (the one a failover relies on) does not let the caller choose. Measured: with
# 1 s, a survivor taking 1,000+ phones at once answered each CONNECT in more than 1 s, each
# phone hung up and dialled again, and the hall never came back (docs/benchmarks.md,
# "Failover of a large hall").
CONNECT_WAIT_S = 20.0


def raise_fd_limit() -> int:
    """Raise the soft file-descriptor limit to the hard one; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def cookie_value(response: Any, name: str) -> str | None:
    morsel = response.cookies.get(name)
    return morsel.value if morsel is not None else None


class KeptOptions(dict):
    """python-engineio's client moves a ``Cookie`` header into its HTTP session's cookie
    jar (one jar for a generator's hundreds of phones: each phone's cookie cannot live
    there) and pops ``headers`` from ``websocket_extra_options`` at the first connection.
    Keeping them here sends this phone's cookie with every websocket handshake, the
    reconnections included, as a browser does."""

    def pop(self, key: Any, default: Any = None) -> Any:
        return self.get(key, default)


def phone_client_class() -> type:
    """python-socketio's AsyncClient, waiting for the CONNECT answer as long as a phone does
    (``CONNECT_WAIT_S``) on every dial, its automatic reconnections included."""
    import socketio

    class PhoneClient(socketio.AsyncClient):
        async def connect(self, *args: Any, wait_timeout: float = CONNECT_WAIT_S, **kwargs: Any):
            return await super().connect(*args, wait_timeout=wait_timeout, **kwargs)

    return PhoneClient


@dataclass
class Phone:
    index: int
    base_url: str
    token: str = ""
    ticket: str = ""  # the personal ticket this phone joins with
    device: str = ""  # its device_id cookie (nginx keeps a phone on one host by it)
    session_cookie: str = ""  # Flask's session cookie (the CSRF token of its forms)
    client: Any = None
    ballot: dict | None = None  # the pending (or acknowledged) ballot
    answer: str = ""
    first_sent: float | None = None
    acked_at: float | None = None
    ack_error: str | None = None
    duplicate: bool = False
    attempts: int = 0
    voting: bool = False
    poll_seen_at: float | None = None  # when the opened poll reached this phone
    refusal: str | None = None  # the error code of the last refused connection
    states: int = 0
    last_state_at: float = 0.0
    connected_at: float | None = None
    dropped_at: float | None = None
    resynced_at: float | None = None
    connected_event: asyncio.Event = field(default_factory=asyncio.Event)
    ack_future: asyncio.Future | None = None


class Generator:
    def __init__(self, config: dict[str, Any], commands: Any, results: Any) -> None:
        self.config = config
        self.commands = commands
        self.results = results
        self.rng = random.Random(config["seed"])
        tokens = config.get("tokens") or [""] * len(config["phone_indexes"])
        tickets = config.get("tickets") or [""] * len(config["phone_indexes"])
        self.phones = [
            Phone(
                index=i,
                base_url=config["servers"][i % len(config["servers"])],
                token=token,
                ticket=ticket,
            )
            for i, token, ticket in zip(config["phone_indexes"], tokens, tickets, strict=True)
        ]
        self.join_ms: list[float] = []
        self.join_errors: dict[str, int] = {}
        self.connect_ms: list[float] = []
        self.connect_errors: dict[str, int] = {}
        self.busy_refusals = 0  # connections refused as server_busy, then dialled again
        self.connect_retries = 0  # connections that failed otherwise, then dialled again
        self.vote_tasks: list[asyncio.Task] = []
        self.server_errors: dict[str, int] = {}
        self.http: Any = None
        self.transport = config.get("transport", "socket")
        self.failover_at: float | None = None
        self.page_ms: list[float] = []  # form phones: the phone page reloaded to vote
        self.client_class: Any = phone_client_class() if self.transport == "socket" else None
        for phone in self.phones:
            # Phones joined in bulk have no device cookie yet: a browser would have one.
            phone.device = secrets.token_urlsafe(24)

    # -- joining over HTTP ----------------------------------------------------------------

    async def join(self, phone: Phone, limit: asyncio.Semaphore) -> None:
        if phone.token:  # joined in bulk by the orchestrator
            return
        code = self.config["code"]
        groups = self.config["groups"]
        async with limit:
            started = time.perf_counter()
            for _attempt in range(5):
                try:
                    async with self.http.get(f"{phone.base_url}/j/{code}") as page:
                        html = await page.text()
                        session_cookie = cookie_value(page, "session")
                        device_cookie = cookie_value(page, "device_id")
                    match = CSRF_INPUT.search(html)
                    if page.status != 200 or match is None or session_cookie is None:
                        raise RuntimeError(f"join page {page.status}")
                    form = {
                        "csrf_token": match.group(1),
                        "token": "",
                        "ticket": phone.ticket,
                        "name": f"Phone {phone.index}",
                        "group": groups[phone.index % len(groups)] if groups else "",
                    }
                    async with self.http.post(
                        f"{phone.base_url}/j/{code}",
                        data=form,
                        headers={"Cookie": f"session={session_cookie}; device_id={device_cookie}"},
                        allow_redirects=False,
                    ) as answer:
                        token = cookie_value(answer, "participant_token")
                        if answer.status != 200 or not token:
                            raise RuntimeError(f"join post {answer.status}")
                    phone.token = token
                    phone.device = device_cookie or phone.device
                    phone.session_cookie = cookie_value(answer, "session") or session_cookie
                    self.join_ms.append((time.perf_counter() - started) * 1000)
                    return
                except Exception as error:  # noqa: BLE001 - counted and retried
                    key = type(error).__name__ + ": " + str(error)[:60]
                    self.join_errors[key] = self.join_errors.get(key, 0) + 1
                    await asyncio.sleep(0.5)

    # -- the socket ------------------------------------------------------------------------

    def make_client(self, phone: Phone) -> Any:
        client = self.client_class(
            reconnection=True,
            reconnection_delay=1,
            reconnection_delay_max=5,
            randomization_factor=0.5,
            http_session=self.http,
            # Offer permessage-deflate as every phone browser does (aiohttp does not by
            # default): the server's cost of compressing each message is part of the load.
            websocket_extra_options=KeptOptions(
                {"compress": 15} if self.config.get("deflate", True) else {},
                headers=self.cookies(phone),
            ),
        )

        async def on_connect() -> None:
            phone.connected_event.set()

        async def on_disconnect(*_args: Any) -> None:
            phone.connected_event.clear()
            if (
                self.failover_at is not None
                and time.time() >= self.failover_at - 0.5
                and phone.dropped_at is None
            ):
                # Its host is gone: it comes back through nginx (python-socketio redials).
                phone.dropped_at = time.time()
                phone.resynced_at = None
            if phone.ack_future is not None and not phone.ack_future.done():
                phone.ack_future.set_exception(ConnectionError("disconnected"))

        async def on_state(state: dict) -> None:
            now = time.time()
            phone.states += 1
            phone.last_state_at = now
            if phone.connected_at is None:
                phone.connected_at = now
            if phone.dropped_at is not None and phone.resynced_at is None:
                phone.resynced_at = now
            poll = state.get("poll") or {}
            if poll.get("state") == "open" and not state.get("voted") and not phone.voting:
                phone.voting = True
                phone.poll_seen_at = now
                delay = self.rng.uniform(0, self.config["window_s"])
                self.vote_tasks.append(asyncio.create_task(self.vote(phone, poll, delay)))

        client.on("connect", on_connect)
        client.on("disconnect", on_disconnect)

        async def on_connect_error(data: Any = None) -> None:
            phone.refusal = data.get("error") if isinstance(data, dict) else None

        client.on("state", on_state)
        client.on("connect_error", on_connect_error)
        return client

    async def connect(self, phone: Phone, limit: asyncio.Semaphore) -> None:
        if not phone.token:
            return
        async with limit:
            phone.client = self.make_client(phone)
            started = time.perf_counter()
            for attempt in range(CONNECT_ATTEMPTS):
                phone.refusal = None
                try:
                    await phone.client.connect(
                        phone.base_url,
                        transports=["websocket"],
                        auth={"role": "phone", "token": phone.token},
                        wait_timeout=30,
                    )
                    await asyncio.wait_for(self._first_state(phone), 30)
                    self.connect_ms.append((time.perf_counter() - started) * 1000)
                    return
                except Exception as error:  # noqa: BLE001 - counted
                    retry = (
                        phone.refusal in (None, "server_busy") and attempt + 1 < CONNECT_ATTEMPTS
                    )
                    if retry:
                        # As a browser does: socket.io-client dials again after a transport
                        # error, and phone.js after a server_busy refusal (1-3 s later).
                        if phone.refusal == "server_busy":
                            self.busy_refusals += 1
                        else:
                            self.connect_retries += 1
                        await asyncio.sleep(1 + 2 * self.rng.random())
                        continue
                    key = type(error).__name__ + ": " + (phone.refusal or str(error)[:60])
                    self.connect_errors[key] = self.connect_errors.get(key, 0) + 1
                    return

    def cookies(self, phone: Phone) -> dict[str, str]:
        """What a browser sends with its websocket handshake: its device cookie (by which
        nginx keeps it on one host, deploy/nginx.conf.template)."""
        return {"Cookie": f"device_id={phone.device}"}

    async def _first_state(self, phone: Phone) -> None:
        while phone.states == 0:
            await asyncio.sleep(0.02)

    # -- voting ----------------------------------------------------------------------------

    async def vote(self, phone: Phone, poll: dict, delay: float) -> None:
        await asyncio.sleep(delay)
        if phone.ballot is None:
            phone.answer = self.rng.choice(ANSWERS)
            phone.ballot = {
                "poll_id": poll["id"],
                "ballot_id": uuid.uuid4().hex,
                "choice": {"answer": phone.answer},
                "round": poll.get("round"),
            }
        loop = asyncio.get_running_loop()
        while phone.attempts < MAX_ATTEMPTS:
            try:
                await asyncio.wait_for(phone.connected_event.wait(), 150)
            except TimeoutError:
                phone.ack_error = "never_reconnected"
                return
            phone.attempts += 1
            if phone.first_sent is None:
                phone.first_sent = time.time()
            phone.ack_future = loop.create_future()
            future = phone.ack_future

            def on_ack(ack: Any, future: asyncio.Future = future) -> None:
                if not future.done():
                    future.set_result(ack)

            try:
                await phone.client.emit("vote", phone.ballot, callback=on_ack)
                ack = await asyncio.wait_for(future, ACK_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - disconnected or timed out: keep it pending
                await asyncio.sleep(0.2)
                continue
            if isinstance(ack, dict) and ack.get("ok"):
                phone.acked_at = time.time()
                phone.duplicate = bool(ack.get("duplicate"))
                return
            code = ack.get("error") if isinstance(ack, dict) else "bad_ack"
            if code in ("server_busy", "server_error"):
                # Nothing was counted; keep the ballot (docs/protocol.md) and send it again
                # after a pause (a phone would resend it at its next connection).
                self.server_errors[code] = self.server_errors.get(code, 0) + 1
                await asyncio.sleep(2 + 2 * self.rng.random())
                continue
            phone.ack_error = code
            return
        phone.ack_error = "too_many_attempts"

    # -- commands --------------------------------------------------------------------------

    def start_reading_commands(self) -> None:
        """One daemon thread forwards the orchestrator's commands into ``self.inbox``."""
        loop = asyncio.get_running_loop()
        self.inbox: asyncio.Queue = asyncio.Queue()

        def read() -> None:
            while True:
                command = self.commands.get()
                loop.call_soon_threadsafe(self.inbox.put_nowait, command)
                if command[0] == "finish":
                    return

        threading.Thread(target=read, daemon=True).start()

    def drop_all(self) -> None:
        """Every phone loses its connection at once and dials again, as when the wifi fails.

        The socket is closed from the phone's side, then the phone reconnects after a random
        0.5-1.5 s (socket.io-client's first back-off step) and retries with back-off; its
        unacknowledged ballot is sent again with the same ``ballot_id`` once connected."""
        now = time.time()
        for phone in self.phones:
            if phone.client is None or phone.connected_at is None:
                continue
            phone.dropped_at = now
            phone.resynced_at = None
            self.vote_tasks.append(asyncio.create_task(self.redial(phone)))

    async def redial(self, phone: Phone) -> None:
        with contextlib.suppress(Exception):
            await phone.client.disconnect()
        await asyncio.sleep(self.rng.uniform(0.5, 1.5))
        for attempt in range(12):
            try:
                await phone.client.connect(
                    phone.base_url,
                    transports=["websocket"],
                    auth={"role": "phone", "token": phone.token},
                    wait_timeout=30,
                )
                return
            except Exception:  # noqa: BLE001 - a refused or timed-out dial: back off, retry
                await asyncio.sleep(min(5.0, 1.0 + attempt) * self.rng.uniform(0.5, 1.5))

    async def run(self) -> None:
        import aiohttp

        self.start_reading_commands()
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self.http = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        try:
            elapsed = await self.every_phone(self.join, JOIN_CONCURRENCY)
            figures = {
                "joined": sum(1 for p in self.phones if p.token),
                "join_ms": self.join_ms,
                "join_errors": self.join_errors,
                "join_s": elapsed,
            }
            self.results.put(("joined", self.config["generator"], figures))
            await self.expect("connect")
            # HTTP phones open no socket: they are "connected" as soon as they joined.
            step = self.connect if self.transport == "socket" else self.no_socket
            elapsed = await self.every_phone(step, CONNECT_CONCURRENCY)
            figures = {
                "connected": sum(1 for p in self.phones if p.connected_at),
                "connect_ms": self.connect_ms,
                "connect_errors": self.connect_errors,
                "connect_busy_refusals": self.busy_refusals,
                "connect_retries": self.connect_retries,
                "connect_s": elapsed,
            }
            self.results.put(("connected", self.config["generator"], figures))
            await self.voting_phase()
            self.results.put(("done", self.config["generator"], self.report()))
            await self.expect("finish")
        finally:
            clients = [phone.client for phone in self.phones if phone.client is not None]
            await asyncio.gather(
                *(asyncio.wait_for(client.shutdown(), 5) for client in clients),
                return_exceptions=True,
            )
            await self.http.close()

    async def no_socket(self, phone: Phone, _limit: asyncio.Semaphore) -> None:
        if phone.token:
            phone.connected_at = time.time()

    async def every_phone(self, step: Any, concurrency: int) -> float:
        """Run ``step(phone, limit)`` for every phone, ``concurrency`` at a time; seconds."""
        limit = asyncio.Semaphore(concurrency)
        started = time.time()
        await asyncio.gather(*(step(phone, limit) for phone in self.phones))
        return time.time() - started

    async def expect(self, name: str) -> tuple:
        while True:
            command = await self.inbox.get()
            if command[0] == name:
                return command

    async def voting_phase(self) -> None:
        """Until every phone has an answer to its ballot (and, after a drop, a new state)."""
        deadline = time.time() + self.config["window_s"] + self.config["settle_s"]
        drop_at: float | None = None
        while time.time() < deadline:
            while not self.inbox.empty():
                command = self.inbox.get_nowait()
                if command[0] == "drop":
                    drop_at = command[1]
                elif command[0] == "failover":
                    self.failover_at = command[1]
                elif command[0] == "poll":
                    self.poll_opened(command[1])
            if drop_at is not None and time.time() >= drop_at:
                self.drop_all()
                drop_at = None
            finished = all(
                phone.acked_at is not None or phone.ack_error is not None
                for phone in self.phones
                if phone.connected_at is not None
            )
            resynced = all(
                phone.dropped_at is None or phone.resynced_at is not None for phone in self.phones
            )
            # A host is to be killed: not done before it was (and its phones came back).
            failover_pending = self.failover_at is not None and time.time() < self.failover_at + 2
            if (
                finished
                and resynced
                and drop_at is None
                and not failover_pending
                and self.config["expect_drop_done"](self.phones)
            ):
                break
            await asyncio.sleep(0.05)

    def poll_opened(self, poll: dict) -> None:
        """HTTP phones: the poll is open (a phone without a socket learns it from the
        page it reloads); each votes at a random moment of the window."""
        from .live_http import vote_http

        now = time.time()
        for phone in self.phones:
            if phone.token and not phone.voting:
                phone.voting = True
                phone.poll_seen_at = now
                delay = self.rng.uniform(0, self.config["window_s"])
                self.vote_tasks.append(asyncio.create_task(vote_http(self, phone, poll, delay)))

    def report(self) -> dict[str, Any]:
        acked = [p for p in self.phones if p.acked_at is not None]
        errors: dict[str, int] = {}
        for phone in self.phones:
            if phone.ack_error:
                errors[phone.ack_error] = errors.get(phone.ack_error, 0) + 1
        return {
            "sent": sum(1 for p in self.phones if p.first_sent is not None),
            "acked": len(acked),
            "duplicates": sum(1 for p in acked if p.duplicate),
            "resends": sum(max(0, p.attempts - 1) for p in self.phones),
            "ack_ms": [(p.acked_at - p.first_sent) * 1000 for p in acked],
            "ack_timeline": [(p.first_sent, (p.acked_at - p.first_sent) * 1000) for p in acked],
            "last_ack_at": max((p.acked_at for p in acked), default=None),
            "poll_seen_at": [p.poll_seen_at for p in self.phones if p.poll_seen_at is not None],
            "ack_errors": errors,
            "refusals_retried": self.server_errors,
            "acked_ballots": [(p.token, p.answer) for p in acked],
            "dropped": sum(1 for p in self.phones if p.dropped_at is not None),
            "resynced": sum(1 for p in self.phones if p.resynced_at is not None),
            "dropped_at": min((p.dropped_at for p in self.phones if p.dropped_at), default=None),
            "last_resync_at": max(
                (p.resynced_at for p in self.phones if p.resynced_at), default=None
            ),
            "still_connected": sum(1 for p in self.phones if p.connected_event.is_set()),
            "page_ms": self.page_ms,
        }


def generator_main(config: dict[str, Any], commands: Any, results: Any) -> None:
    """Entry point of one load-generator process (multiprocessing, spawn)."""
    raise_fd_limit()
    # 500 phones in one process are 500 devices in a hall: their full garbage collections
    # (100-250 ms measured, holding every simulated phone) would be counted as server
    # latency. A run lasts minutes; reference counting frees the rest.
    gc.disable()
    drop = config.pop("drop", False)
    # With a drop planned, a phone is done only once it has seen a drop and come back.
    config["expect_drop_done"] = (
        (lambda phones: all(p.dropped_at is not None for p in phones if p.client))
        if drop
        else (lambda phones: True)
    )
    try:
        asyncio.run(Generator(config, commands, results).run())
    except Exception as error:  # noqa: BLE001 - the orchestrator must hear about it
        results.put(("error", config["generator"], repr(error)))
