"""Hostile clients benchmark (issue 11): what one misbehaving phone costs the others.

    python -m bench.hostile flood [--seconds 5] [--rate 1000] [--only vote,sync]
                                  [--database sqlite|postgresql]
    python -m bench.hostile fds [--phones 300] [--gunicorn]

``flood``: the server as ``make run`` serves it (``python app.py``, gevent, SQLite). One
phone socket floods one event type at ``--rate`` events per second for ``--seconds``, for
each event type in turn (every phone and facilitator event, an unknown event, a payload
nested too deep, one too large), reconnecting at once whenever the server disconnects it
(a hostile client would). Meanwhile other phones (five witnesses) vote and sync,
alternately, each every 400 ms, each time waiting for the acknowledgement: their
acknowledgement times are the figure (target: p99 < 250 ms), and none of their requests may
be refused or lost. The flooder runs in a process of its own.

``fds``: file descriptors held by the server per connected phone (websocket, and polling
upgraded to websocket as a browser does), read from ``/proc/<pid>/fd``.

Prints one JSON document (docs/benchmarks.md, "Hostile clients"); exits 1 when a target is
missed. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from typing import Any

from .live import Screens, machine, percentile
from .live_phones import raise_fd_limit
from .live_servers import ROOT, Deployment, bulk_join, free_port, set_up_session

TARGET_P99_MS = 250
# Each witness phone sends a vote or a sync every WITNESS_EVERY_S, as a busy honest phone
# could (within its own rate limit: 1 + 4 tokens every 0.8 s); several witnesses give the
# percentile enough samples in 5 s.
WITNESSES = 5
WITNESS_EVERY_S = 0.4
ACK_TIMEOUT_S = 5.0


def progress(message: str) -> None:
    print(f"[bench.hostile {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _deep(levels: int) -> Any:
    value: Any = {"x": 1}
    for _ in range(levels):
        value = [value]
    return value


def flood_payloads(poll_id: int, item_id: int) -> dict[str, tuple[str, Any]]:
    """What the flooder sends, by name: (event, payload); a payload may be a function."""
    return {
        "vote": (
            "vote",
            lambda: {"poll_id": poll_id, "ballot_id": uuid.uuid4().hex, "choice": {"answer": "no"}},
        ),  # fmt: skip
        "sync": ("sync", {}),
        "propose": (
            "propose",
            lambda: {"kind": "comment", "text": "Encore!", "client_id": uuid.uuid4().hex},
        ),  # fmt: skip
        "my_proposals": ("my_proposals", {}),
        "list_proposals": ("list_proposals", {}),
        "moderate": ("moderate", {"proposal_id": 1, "action": "accept"}),
        "show_item": ("show_item", {"item_id": item_id}),
        "open_poll": ("open_poll", {"item_id": item_id, "method": "yes_no"}),
        "close_poll": ("close_poll", {"poll_id": poll_id}),
        "publish_poll": ("publish_poll", {"poll_id": poll_id}),
        "reset_poll": ("reset_poll", {"poll_id": poll_id}),
        "set_show_live": ("set_show_live", {"poll_id": poll_id, "show_live": "false"}),
        "unknown": ("no_such_event", {"x": 1}),
        "too_deep": ("vote", _deep(20)),
        "too_large": ("sync", {"padding": "x" * 70_000}),
    }


class Flooder:
    """One phone socket sending one event type as fast as asked, reconnecting when put out."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.client: Any = None
        self.sent = 0
        self.acks: dict[str, int] = {}
        self.reconnects = 0
        self.refused_connects = 0

    async def dial(self) -> None:
        import socketio

        self.client = socketio.AsyncClient(reconnection=False)
        await self.client.connect(
            self.url, auth={"role": "phone", "token": self.token}, transports=["websocket"],
            wait_timeout=10,
        )  # fmt: skip

    def _on_ack(self, ack: Any = None) -> None:
        key = "ok" if isinstance(ack, dict) and ack.get("ok") else "state"
        if isinstance(ack, dict) and ack.get("ok") is False:
            key = str(ack.get("error"))
        self.acks[key] = self.acks.get(key, 0) + 1

    async def run(self, event: str, payload: Any, rate: float, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        tick = 0.01
        per_tick = max(1, round(rate * tick))
        next_tick = time.monotonic()
        while time.monotonic() < deadline:
            if not self.client.connected:
                with contextlib.suppress(Exception):
                    await self.client.disconnect()
                try:
                    await self.dial()
                    self.reconnects += 1
                except Exception:  # noqa: BLE001 - refused: try again at once, as a hostile would
                    self.refused_connects += 1
                    await asyncio.sleep(0.01)
                continue
            for _ in range(per_tick):
                body = payload() if callable(payload) else payload
                try:
                    await self.client.emit(event, body, callback=self._on_ack)
                    self.sent += 1
                except Exception:  # noqa: BLE001 - disconnected meanwhile
                    break
            next_tick += tick
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))


class Witness:
    """A second phone: a vote, then a sync, every ``WITNESS_EVERY_S``, each waiting for its
    answer."""

    def __init__(self, url: str, token: str, poll_id: int) -> None:
        self.url = url
        self.token = token
        self.poll_id = poll_id
        self.client: Any = None
        self.latencies: list[float] = []
        self.refused: list[Any] = []
        self.lost = 0
        self.last_answer = ""

    async def dial(self) -> None:
        import socketio

        self.client = socketio.AsyncClient(reconnection=True)
        await self.client.connect(
            self.url, auth={"role": "phone", "token": self.token}, transports=["websocket"],
            wait_timeout=10,
        )  # fmt: skip

    async def run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        await asyncio.sleep(random.uniform(0, WITNESS_EVERY_S))
        turn = 0
        while time.monotonic() < deadline:
            turn += 1
            answer = "yes" if turn % 4 == 1 else "no"
            if turn % 2:
                event, body = "vote", {"poll_id": self.poll_id, "ballot_id": uuid.uuid4().hex,
                                       "choice": {"answer": answer}}  # fmt: skip
            else:
                event, body = "sync", {}
            started = time.perf_counter()
            try:
                ack = await self.client.call(event, body, timeout=ACK_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - a timeout: lost
                self.lost += 1
                continue
            self.latencies.append((time.perf_counter() - started) * 1000)
            if event == "vote" and not (isinstance(ack, dict) and ack.get("ok")):
                self.refused.append(ack)
            elif event == "vote":
                self.last_answer = answer
            if event == "sync" and not (isinstance(ack, dict) and ack.get("role") == "phone"):
                self.refused.append(ack)
            await asyncio.sleep(WITNESS_EVERY_S)


def flooder_main(url: str, token: str, name: str, ids: tuple[int, int], rate: float,
                 seconds: float, results: Any) -> None:  # fmt: skip
    """The flooder, in a process of its own: its client's CPU is not the witness's."""

    async def run() -> dict[str, Any]:
        event, payload = flood_payloads(*ids)[name]
        flooder = Flooder(url, token)
        await flooder.dial()
        results.put("ready")
        await flooder.run(event, payload, rate, seconds)
        await asyncio.sleep(1.0)  # acks still on their way
        with contextlib.suppress(Exception):
            await flooder.client.disconnect()
        return {
            "flood_sent": flooder.sent,
            "flood_rate_per_s": round(flooder.sent / seconds),
            "flood_acks": dict(flooder.acks),
            "flood_reconnects": flooder.reconnects,
            "flood_refused_connects": flooder.refused_connects,
        }

    results.put(asyncio.run(run()))


async def run_flood(
    seconds: float, rate: float, only: str = "", database: str = "sqlite"
) -> dict[str, Any]:
    """Every flood kind in turn (or those named in ``only``); the figures as a dict."""
    import multiprocessing

    import psutil

    deployment = Deployment(processes=1, postgresql=database == "postgresql")
    deployment.create_database()
    url = deployment.start()[0]
    app = deployment.app()
    results: dict[str, Any] = {"machine_before": machine(), "database": database}
    try:
        session = set_up_session(app)
        tokens = bulk_join(app, session, 1 + WITNESSES)
        screens = Screens(url, session)
        await screens.start()
        opened = await screens.action(
            "open_poll", {"item_id": session["item_id"], "method": "yes_no"}
        )
        ids = (opened["poll"]["id"], session["item_id"])
        names = only.split(",") if only else list(flood_payloads(0, 0))
        witnesses = [Witness(url, token, ids[0]) for token in tokens[1:]]
        for witness in witnesses:
            await witness.dial()
        server = psutil.Process(deployment.servers[0].pid)
        spawn = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        runs = {}
        for name in names:
            progress(f"flooding {name} at {rate}/s for {seconds} s")
            queue = spawn.Queue()
            child = spawn.Process(
                target=flooder_main,
                args=(url, tokens[0], name, ids, rate, seconds, queue),
            )
            child.start()
            assert await loop.run_in_executor(None, queue.get, True, 60) == "ready"
            for witness in witnesses:
                witness.latencies, witness.refused, witness.lost = [], [], 0
            cpu_before = sum(server.cpu_times()[:2])
            await asyncio.gather(*(witness.run(seconds) for witness in witnesses))
            flood = await loop.run_in_executor(None, queue.get, True, 60)
            child.join(10)
            latencies = [ms for witness in witnesses for ms in witness.latencies]
            refused = [ack for witness in witnesses for ack in witness.refused]
            lost = sum(witness.lost for witness in witnesses)
            runs[name] = {
                **flood,
                "witness_requests": len(latencies) + lost,
                "witness_ack_p50_ms": percentile(latencies, 0.5),
                "witness_ack_p99_ms": percentile(latencies, 0.99),
                "witness_ack_max_ms": round(max(latencies), 1) if latencies else None,
                "witness_refused": refused[:5],
                "witness_lost": lost,
                "server_cpu_s": round(sum(server.cpu_times()[:2]) - cpu_before, 2),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
            progress(json.dumps({name: runs[name]}))
        for witness in witnesses:
            await witness.client.disconnect()
        await screens.stop()
        results["runs"] = runs
        results["tracebacks_in_server_log"] = deployment.log_tail().count("Traceback")
    finally:
        deployment.stop()
        deployment.drop_database()
    results["machine_after"] = machine()
    runs = results["runs"]
    worst = max((run["witness_ack_p99_ms"] or 0) for run in runs.values())
    results["worst_witness_p99_ms"] = worst
    clean = all(not run["witness_refused"] and not run["witness_lost"] for run in runs.values())
    results["within_targets"] = (
        worst < TARGET_P99_MS and clean and results["tracebacks_in_server_log"] == 0
    )
    return results


# -- file descriptors per phone -------------------------------------------------------------


def _fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def _connect_phones(url: str, tokens: list[str], transports: list[str]) -> list[Any]:
    import socketio

    clients = []
    for token in tokens:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            url, auth={"role": "phone", "token": token}, transports=transports, wait_timeout=10
        )
        clients.append(client)
    await asyncio.sleep(1.0)  # polling upgrades settle
    return clients


async def _fds(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit()
    deployment = Deployment(processes=1)
    deployment.create_database()
    if args.gunicorn:
        deployment.ports.append(free_port())
        log = open(deployment.workdir / "server-0.log", "ab")  # noqa: SIM115
        deployment.servers.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "app:app"],
                cwd=ROOT,
                env={**deployment.env, "PORT": str(deployment.ports[0])},
                stdout=log,
                stderr=log,
            )  # fmt: skip
        )
        url = f"http://127.0.0.1:{deployment.ports[0]}"
        time.sleep(4)
    else:
        url = deployment.start()[0]
    app = deployment.app()
    results: dict[str, Any] = {"server": "gunicorn" if args.gunicorn else "python app.py"}
    try:
        import psutil

        session = set_up_session(app)
        tokens = bulk_join(app, session, args.phones)
        root = psutil.Process(deployment.servers[0].pid)
        # gunicorn serves from its worker, the child of the arbiter.
        server = (root.children() or [root])[0] if args.gunicorn else root
        for label, transports in (
            ("websocket", ["websocket"]),
            ("polling_upgraded", ["polling", "websocket"]),
        ):
            await asyncio.sleep(1.0)
            before = _fd_count(server.pid)
            clients = await _connect_phones(url, tokens, transports)
            during = _fd_count(server.pid)
            for client in clients:
                await client.disconnect()
            await asyncio.sleep(2.0)
            results[label] = {
                "phones": len(clients),
                "fds_before": before,
                "fds_with_phones": during,
                "fds_per_phone": round((during - before) / len(clients), 2),
                "fds_after": _fd_count(server.pid),
            }
            progress(json.dumps({label: results[label]}))
    finally:
        deployment.stop()
        deployment.drop_database()
    results["machine"] = machine()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    flood = commands.add_parser("flood")
    flood.add_argument("--seconds", type=float, default=5.0)
    flood.add_argument("--rate", type=float, default=1000.0)
    flood.add_argument("--only", default="", help="comma-separated flood kinds")
    flood.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    fds = commands.add_parser("fds")
    fds.add_argument("--phones", type=int, default=300)
    fds.add_argument("--gunicorn", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "flood":
        results = asyncio.run(run_flood(args.seconds, args.rate, args.only, args.database))
        print(json.dumps(results, indent=2))
        return 0 if results["within_targets"] else 1
    results = asyncio.run(_fds(args))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
