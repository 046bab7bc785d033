"""Live benchmark: a hall of phones voting at once, measured end to end.

    python -m bench.live --phones 2000 [--processes 2] [--reconnect] [--window 10]

Starts the server as a deployment does (``python app.py``, gevent) — one process on a
temporary SQLite file, or P processes sharing a throwaway PostgreSQL database and the Redis
message queue — then phones in load-generator processes (python-socketio asyncio clients,
websocket transport, ``--per-generator`` phones each). Phones join over HTTP, connect,
and each casts one ballot at a random moment of the ``--window`` once the facilitator (a
logged-in socket) opens the poll; a projector socket on the first server watches ``tally``.
``--reconnect`` aborts every phone's connection in the middle of the window: they come back
by themselves and resend what was not acknowledged.

Prints one JSON line (see docs/benchmarks.md, "Live"); exits 1 when a target is missed.
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from .live_phones import CSRF_INPUT, generator_main, raise_fd_limit
from .live_servers import (
    ORGANIZER_EMAIL,
    ORGANIZER_PASSWORD,
    Deployment,
    bulk_join,
    page_weight,
    read_back,
    set_up_session,
)

TARGETS = {
    "ack_p99_ms": 250,
    "projector_final_ms": 500,
    "server_kib_per_phone": 100,
    "resync_s": 30,
    "page_weight_bytes": 50_000,
}
PHASE_TIMEOUT_S = 600


def progress(message: str) -> None:
    """One line on stderr per phase (the JSON result goes to stdout)."""
    print(f"[bench.live {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(fraction * len(ordered)) - 1)
    return round(ordered[rank], 1)


class ServerMeter:
    """Peak resident memory and CPU time of the server processes, sampled every 0.2 s."""

    def __init__(self, pids: list[int]) -> None:
        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        return sum(process.memory_info().rss for process in self.processes)

    def cpu(self) -> float:
        return sum(sum(process.cpu_times()[:2]) for process in self.processes)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.peak_rss = max(self.peak_rss, self.rss())
            except Exception:  # noqa: BLE001, S112 - a server that ended: stop sampling
                return

    def start(self) -> None:
        self.peak_rss = self.rss()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class Screens:
    """The projector and the facilitator console, as Socket.IO clients of the first server."""

    def __init__(self, base_url: str, session: dict[str, Any]) -> None:
        self.base_url = base_url
        self.session = session
        self.tallies: list[tuple[float, int]] = []
        self.projector_connected: int | None = None
        self.projector: Any = None
        self.facilitator: Any = None
        self.http: Any = None
        self.cookie_header = ""

    async def start(self) -> None:
        import aiohttp
        import yarl

        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self.http.get(f"{self.base_url}/login") as page:
            token = CSRF_INPUT.search(await page.text())
        form = {"csrf_token": token.group(1) if token else "", "email": ORGANIZER_EMAIL}
        form["password"] = ORGANIZER_PASSWORD
        async with self.http.post(f"{self.base_url}/login", data=form, allow_redirects=False) as r:
            if r.status != 302:
                raise RuntimeError(f"facilitator login failed: HTTP {r.status}")
        cookies = self.http.cookie_jar.filter_cookies(yarl.URL(self.base_url))
        self.cookie_header = "; ".join(f"{n}={morsel.value}" for n, morsel in cookies.items())
        await self.dial()

    async def redial(self) -> None:
        """Close both screens' sockets and open them again. A server saturated for minutes
        (2,000 HTTP joins) may miss their pings and drop them without the client noticing
        (its next packet is then read as HTTP): redial right before the poll opens."""
        for client in (self.projector, self.facilitator):
            with contextlib.suppress(Exception):  # already gone
                await asyncio.wait_for(client.disconnect(), timeout=5)
        await self.dial()

    async def dial(self) -> None:
        import socketio

        cookie_header = self.cookie_header
        self.projector = socketio.AsyncClient(reconnection=True)

        async def on_tally(tally: dict) -> None:
            if tally.get("poll_id") is not None:
                self.tallies.append((time.time(), int(tally.get("voted") or 0)))
            self.projector_connected = tally.get("connected")

        self.projector.on("tally", on_tally)
        await self.projector.connect(
            self.base_url,
            transports=["websocket"],
            auth={"role": "projector", "code": self.session["code"]},
        )
        self.facilitator = socketio.AsyncClient(reconnection=True)
        await self.facilitator.connect(
            self.base_url,
            transports=["websocket"],
            headers={"Cookie": cookie_header},
            auth={"role": "facilitator", "session_id": self.session["session_id"]},
        )

    async def action(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        # The console may lose its connection while the server is saturated (pings
        # answered late): it reconnects by itself; wait for it rather than fail the run.
        ack: Any = None
        for _attempt in range(120):
            try:
                ack = await self.facilitator.call(event, payload, timeout=60)
                break
            except Exception:  # noqa: BLE001 - BadNamespaceError while reconnecting
                await asyncio.sleep(1)
        if ack is None:
            raise RuntimeError(f"{event}: the console could not reach the server")
        if not ack.get("ok"):
            raise RuntimeError(f"{event} refused: {ack}")
        return ack["state"]

    async def wait_for_count(self, count: int, timeout: float) -> float | None:
        """When the projector first showed ``count`` ballots (None if it never did)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for moment, voted in self.tallies:
                if voted >= count:
                    return moment
            await asyncio.sleep(0.05)
        return None

    async def stop(self) -> None:
        for client in (self.projector, self.facilitator):
            if client is not None:
                await client.disconnect()
        if self.http is not None:
            await self.http.close()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.context = multiprocessing.get_context("spawn")
        self.results = self.context.Queue()
        self.command_queues: list[Any] = []
        self.generators: list[Any] = []
        self.figures: dict[str, Any] = {}

    async def gather(self, kind: str) -> dict[int, Any]:
        """One message of this kind from every generator."""
        loop = asyncio.get_running_loop()
        received: dict[int, Any] = {}
        deadline = time.time() + PHASE_TIMEOUT_S
        while len(received) < len(self.generators):
            remaining = deadline - time.time()
            if remaining <= 0:
                raise TimeoutError(f"generators did not report '{kind}' in time")
            message = await loop.run_in_executor(None, self._get, min(remaining, 5))
            if message is None:
                if any(not process.is_alive() for process in self.generators):
                    raise RuntimeError("a load generator died")
                continue
            if message[0] == "error":
                raise RuntimeError(f"generator {message[1]}: {message[2]}")
            if message[0] == kind:
                received[message[1]] = message[2]
        return received

    def _get(self, timeout: float) -> Any:
        import queue

        try:
            return self.results.get(timeout=timeout)
        except queue.Empty:
            return None

    def broadcast(self, *command: Any) -> None:
        for commands in self.command_queues:
            commands.put(command)

    def spawn(self, servers: list[str], session: dict[str, Any], tokens: list[str]) -> None:
        phones = self.args.phones
        count = max(1, math.ceil(phones / self.args.per_generator))
        for generator in range(count):
            commands = self.context.Queue()
            indexes = list(range(generator, phones, count))
            config = {
                "generator": generator,
                "tokens": [tokens[i] for i in indexes] if tokens else None,
                "tickets": [session["tickets"][i] for i in indexes],
                "servers": servers,
                "code": session["code"],
                "groups": session["groups"],
                "phone_indexes": indexes,
                "window_s": self.args.window,
                "settle_s": 150,
                "seed": 1000 + generator,
                "drop": self.args.reconnect,
            }
            process = self.context.Process(
                target=generator_main, args=(config, commands, self.results), daemon=True
            )
            process.start()
            self.generators.append(process)
            self.command_queues.append(commands)

    async def run(self, deployment: Deployment) -> dict[str, Any]:
        import psutil

        args = self.args
        figures = self.figures
        deployment.create_database()
        if args.phones > 2500:
            # The default allowance of new places per session (3,000 a minute) is sized for
            # a hall of 2,000; a bigger hall is sized by its operator (docs/deployment.md).
            deployment.env["JOIN_LIMIT_PER_SESSION"] = f"{2 * args.phones} per minute"
        app = deployment.app()
        session = set_up_session(app, args.phones)
        servers = deployment.start()
        meter = ServerMeter([server.pid for server in deployment.servers])
        screens = Screens(servers[0], session)
        await screens.start()
        meter.start()
        cpu_start = meter.cpu()
        figures["server_rss_idle_mb"] = round(meter.rss() / 2**20, 1)

        tokens: list[str] = []
        if args.join == "bulk":
            progress(f"{args.phones} phones joining through services.live.sessions.join (untimed)")
            tokens = bulk_join(app, session, args.phones)
        progress(f"{len(servers)} server(s) up; {args.phones} phones joining over HTTP")
        self.spawn(servers, session, tokens)
        started = time.time()
        joined = await self.gather("joined")
        join_ms = [ms for report in joined.values() for ms in report["join_ms"]]
        figures["joined"] = sum(report["joined"] for report in joined.values())
        figures["join_s"] = round(time.time() - started, 2)
        figures["join_per_s"] = round(figures["joined"] / max(figures["join_s"], 1e-6), 1)
        figures["join_p50_ms"] = percentile(join_ms, 0.5)
        figures["join_p99_ms"] = percentile(join_ms, 0.99)
        errors = _merge(report["join_errors"] for report in joined.values())
        if errors:
            figures["join_errors"] = errors
        figures["server_cpu_join_s"] = round(meter.cpu() - cpu_start, 2)

        rss_before_sockets = meter.rss()
        cpu_before_sockets = meter.cpu()
        progress(f"{figures['joined']} joined in {figures['join_s']} s; connecting sockets")
        self.broadcast("connect")
        started = time.time()
        connected = await self.gather("connected")
        connect_ms = [ms for report in connected.values() for ms in report["connect_ms"]]
        figures["connected"] = sum(report["connected"] for report in connected.values())
        figures["connect_s"] = round(time.time() - started, 2)
        figures["connect_p50_ms"] = percentile(connect_ms, 0.5)
        figures["connect_p99_ms"] = percentile(connect_ms, 0.99)
        for name in ("connect_busy_refusals", "connect_retries"):
            figures[name] = sum(report[name] for report in connected.values())
        errors = _merge(report["connect_errors"] for report in connected.values())
        if errors:
            figures["connect_errors"] = errors
        await asyncio.sleep(1)
        rss_connected = meter.rss()
        figures["server_rss_connected_mb"] = round(rss_connected / 2**20, 1)
        figures["server_kib_per_phone"] = round(
            (rss_connected - rss_before_sockets) / 1024 / max(figures["connected"], 1), 1
        )
        figures["server_cpu_connect_s"] = round(meter.cpu() - cpu_before_sockets, 2)

        progress(f"{figures['connected']} connected in {figures['connect_s']} s; opening the poll")
        await screens.redial()
        profilers = start_profilers(deployment, args.profile)
        cpu_before_vote = meter.cpu()
        generator_cpu_before = _cpu_of(psutil, self.generators)
        opened_at = time.time()
        state = await screens.action(
            "open_poll",
            {"item_id": session["item_id"], "method": "yes_no", "show_live": args.show_live},
        )
        figures["open_poll_ms"] = round((time.time() - opened_at) * 1000, 1)
        poll_id = state["poll"]["id"]
        if args.reconnect:
            self.broadcast("drop", opened_at + args.window / 2)
        done = await self.gather("done")
        all_done_at = time.time()
        acked = [ballot for report in done.values() for ballot in report["acked_ballots"]]
        ack_ms = [ms for report in done.values() for ms in report["ack_ms"]]
        # From the console's open_poll to the phones seeing the poll open (the fan-out).
        seen = sorted(at for report in done.values() for at in report.pop("poll_seen_at"))
        if seen:
            figures["poll_seen_p50_ms"] = round((seen[len(seen) // 2] - opened_at) * 1000, 1)
            figures["poll_seen_all_ms"] = round((seen[-1] - opened_at) * 1000, 1)
        # When each ballot was sent and how long its ack took, per generator (kept with --keep).
        timeline = {index: report.pop("ack_timeline") for index, report in done.items()}
        # The same, leaving out the ballots sent within a second of the poll opening (while
        # the new state is still going out to the hall): where the slow ones are.
        later = [ms for pairs in timeline.values() for sent, ms in pairs if sent - opened_at >= 1]
        figures["ack_p99_after_1s_ms"] = percentile(later, 0.99)
        if args.keep:
            (deployment.workdir / "ack_timeline.json").write_text(json.dumps(timeline))
        last_ack_at = max((r["last_ack_at"] for r in done.values() if r["last_ack_at"]), default=0)
        figures["votes_sent"] = sum(report["sent"] for report in done.values())
        figures["votes_acked"] = len(acked)
        figures["acks_duplicate"] = sum(report["duplicates"] for report in done.values())
        figures["resends"] = sum(report["resends"] for report in done.values())
        errors = _merge(report["ack_errors"] for report in done.values())
        if errors:
            figures["ack_errors"] = errors
        retried = _merge(report["refusals_retried"] for report in done.values())
        if retried:
            figures["refusals_retried"] = retried
        figures["ack_p50_ms"] = percentile(ack_ms, 0.5)
        figures["ack_p95_ms"] = percentile(ack_ms, 0.95)
        figures["ack_p99_ms"] = percentile(ack_ms, 0.99)
        figures["ack_max_ms"] = percentile(ack_ms, 1.0)
        if args.reconnect:
            dropped_at = min((r["dropped_at"] for r in done.values() if r["dropped_at"]), default=0)
            last_resync = max(
                (r["last_resync_at"] for r in done.values() if r["last_resync_at"]), default=0
            )
            figures["dropped"] = sum(report["dropped"] for report in done.values())
            figures["resynced"] = sum(report["resynced"] for report in done.values())
            complete = dropped_at and last_resync and figures["resynced"] == figures["dropped"]
            figures["resync_s"] = round(last_resync - dropped_at, 2) if complete else None

        progress(f"{figures['votes_acked']} ballots acknowledged; checking the projector")
        final_seen = await screens.wait_for_count(len(acked), timeout=10)
        figures["projector_final_ms"] = (
            round((final_seen - last_ack_at) * 1000, 1) if final_seen else None
        )
        figures["projector_connected"] = screens.projector_connected
        figures["server_cpu_vote_s"] = round(meter.cpu() - cpu_before_vote, 2)
        figures["generator_cpu_vote_s"] = round(
            _cpu_of(psutil, self.generators) - generator_cpu_before, 2
        )
        figures["vote_phase_s"] = round(all_done_at - opened_at, 2)
        stop_profilers(profilers)
        try:
            closing = time.time()
            await screens.action("close_poll", {"poll_id": poll_id})
            # A secret close rewrites every ballot of the poll in its transaction.
            figures["close_poll_ms"] = round((time.time() - closing) * 1000, 1)
        except RuntimeError:
            # The console socket did not come back from a saturated server: close the
            # poll through the service so the count can still be read back.
            figures["console_lost"] = True
            close_directly(app, poll_id)
        figures["server_rss_mb"] = round(meter.peak_rss / 2**20, 1)
        figures["server_cpu_s"] = round(meter.cpu() - cpu_start, 2)
        meter.stop()

        first_token = acked[0][0] if acked else None
        if first_token:
            figures.update(await page_weight(servers[0], session["code"], first_token))
        self.broadcast("finish")
        await screens.stop()
        for process in self.generators:
            process.join(timeout=30)
        figures.update(read_back(app, session["session_id"], acked))
        return figures


def close_directly(app: Any, poll_id: int) -> None:
    from deliberation.extensions import db
    from deliberation.models import Poll
    from deliberation.services.live import voting

    with app.app_context():
        voting.close_poll(db.session.get(Poll, poll_id), actor="bench")
        db.session.remove()


def start_profilers(deployment: Deployment, directory: str | None) -> list[subprocess.Popen]:
    """py-spy on each server process during the vote (collapsed stacks, one file each)."""
    if not directory:
        return []
    os.makedirs(directory, exist_ok=True)
    py_spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return [
        subprocess.Popen(
            [py_spy, "record", "--pid", str(server.pid), "--format", "raw", "--rate", "200"]
            + ["--output", os.path.join(directory, f"server-{index}.txt"), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index, server in enumerate(deployment.servers)
    ]


def stop_profilers(profilers: list[subprocess.Popen]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        try:
            profiler.wait(timeout=30)
        except subprocess.TimeoutExpired:
            profiler.kill()


def _merge(dicts: Any) -> dict[str, int]:
    merged: dict[str, int] = {}
    for one in dicts:
        for key, value in one.items():
            merged[key] = merged.get(key, 0) + value
    return merged


def _cpu_of(psutil: Any, processes: list[Any]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += sum(psutil.Process(process.pid).cpu_times()[:2])
    return total


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                "",
            )
    except OSError:
        pass
    memory = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory = int(re.findall(r"MemTotal:\s+(\d+)", meminfo.read())[0]) // 1024
    except (OSError, IndexError):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_mb": memory,
        "python": platform.python_version(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def missed_targets(figures: dict[str, Any]) -> list[str]:
    missed = []
    for key, limit in TARGETS.items():
        value = figures.get(key)
        if key not in figures:
            continue
        if value is None or value >= limit:
            missed.append(f"{key}={value} (target < {limit})")
    for key in ("lost", "double_counted", "wrong_choice"):
        if figures.get(key):
            missed.append(f"{key}={figures[key]}")
    if figures.get("votes_counted") != figures.get("phones"):
        missed.append(f"votes_counted={figures.get('votes_counted')} of {figures.get('phones')}")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--processes", type=int, default=1, help="server processes (2+: PG+Redis)")
    parser.add_argument("--reconnect", action="store_true", help="every phone drops mid-poll")
    parser.add_argument("--window", type=float, default=10.0, help="voting window, seconds")
    parser.add_argument("--per-generator", type=int, default=500, help="phones per generator")
    parser.add_argument(
        "--show-live", action="store_true", help="results on the projector during the vote"
    )
    parser.add_argument(
        "--join",
        choices=("http", "bulk"),
        default="http",
        help="phones join over HTTP (default, timed) or in bulk through the service (faster)",
    )
    parser.add_argument("--profile", metavar="DIR", help="py-spy the servers during the vote")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (server logs)"
    )
    args = parser.parse_args(argv)

    fd_limit = raise_fd_limit()
    figures: dict[str, Any] = {
        "phones": args.phones,
        "processes": args.processes,
        "reconnect": args.reconnect,
        "window_s": args.window,
        "join": args.join,
        "fd_soft_limit": fd_limit,
        "database": "sqlite" if args.processes == 1 else "postgresql",
        "message_queue": "redis" if args.processes > 1 else None,
    }
    needed = args.phones // max(args.processes, 1) + 100
    if fd_limit < needed:
        print(f"file-descriptor limit {fd_limit} < {needed}: raise `ulimit -n`", file=sys.stderr)
        return 2
    deployment = Deployment(args.processes)
    bench = Bench(args)
    bench.figures = figures
    status = 0
    try:
        asyncio.run(bench.run(deployment))
    except Exception as error:  # noqa: BLE001 - reported in the JSON line
        figures["error"] = f"{type(error).__name__}: {error}"
        figures["server_log_tail"] = deployment.log_tail()[-1500:]
        status = 1
    finally:
        for process in bench.generators:
            if process.is_alive():
                process.terminate()
        deployment.stop()
        deployment.drop_database(keep_files=args.keep)
        if args.keep:
            figures["workdir"] = str(deployment.workdir)
    figures["machine"] = machine()
    missed = missed_targets(figures)
    figures["targets_missed"] = missed
    figures.pop("page_parts", None) if not args.keep else None
    print(json.dumps(figures), flush=True)
    return 1 if (missed or status) else status


if __name__ == "__main__":
    sys.exit(main())
