"""Server CPU of one message sent to a room of websockets (issue 17, "One message to a room").

    python -m bench.fanout [--sockets 500] [--messages 40] [--size 3000] [--deflate 0.5]

Starts ``bench.fanout_server`` (the app's Socket.IO transport on gevent, no database) and
connects ``--sockets`` websocket clients on loopback (Engine.IO v4 spoken directly over
aiohttp; a share ``--deflate`` of them offers permessage-deflate, as phone browsers do, the
others do not). Then ``--messages`` room messages are sent one after the other, each once
every client has received the previous one; the server's CPU (utime + stime from
``/proc/<pid>/stat``) is read before and after. The same number of messages sent to an empty
room gives the fixed cost of a message (the HTTP request that triggers it); what remains,
divided by messages x sockets, is the server's CPU per message per socket. Each message
carries the server's clock at the emit: ``room_ms_*`` is how long the room took, from the
emit to the last client's receipt (median and worst over the messages; the clients' own CPU,
``clients_cpu_s``, bounds it from below). ``elapsed_s`` also holds each trigger's HTTP round
trip (~40 ms of delayed acknowledgement each), not a latency to read.

Prints one JSON line: the figures, and the load average at the start and the end (a CPU
figure is comparable across loads, but not exactly: caches and frequency are shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CONNECT_CONCURRENCY = 50
SENT_AT = re.compile(r'"sent_at":([0-9.]+)')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def profile(pid: int, path: str) -> subprocess.Popen:
    """py-spy sampling the server (collapsed stacks in ``path``) until it is interrupted."""
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
    command += ["--format", "raw", "--rate", "250", "--nonblocking", "-o", path]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    return profiler


class Hall:
    """The clients, and how many room messages all of them have received."""

    def __init__(self, sockets: int) -> None:
        self.sockets = sockets
        self.received = 0
        self.wrong = 0
        self.all_received = asyncio.Event()
        self.expected = 0
        # generation -> seconds from the emit to the last socket's receipt
        self.last_received: dict[int, float] = {}

    def expect(self, total: int) -> None:
        self.expected = total
        self.all_received.clear()
        if self.received >= total:
            self.all_received.set()

    def got(self, data: str, generation: int) -> None:
        now = time.time()
        if f'"generation":{generation},' not in data:
            self.wrong += 1
        sent_at = float(SENT_AT.search(data).group(1))
        self.last_received[generation] = max(self.last_received.get(generation, 0), now - sent_at)
        self.received += 1
        if self.received >= self.expected:
            self.all_received.set()


async def client(
    http: aiohttp.ClientSession, url: str, deflate: bool, hall: Hall, connected: asyncio.Queue
) -> None:
    async with http.ws_connect(url, compress=15 if deflate else 0, max_msg_size=0) as ws:
        opened = await ws.receive_str()
        assert opened.startswith("0{"), opened
        await ws.send_str("40")
        answer = await ws.receive_str()
        assert answer.startswith("40"), answer
        await connected.put(True)
        generation = 0
        async for message in ws:
            data = message.data
            if data == "2":
                await ws.send_str("3")  # Engine.IO's PONG
            elif data.startswith('42["state"'):
                generation += 1
                hall.got(data, generation)


async def run(args: argparse.Namespace) -> dict[str, object]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.fanout_server", str(port)], cwd=ROOT, env=os.environ
    )
    base = f"http://127.0.0.1:{port}"
    hall = Hall(args.sockets)
    connector = aiohttp.TCPConnector(limit=0)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/emit?n=0&size=1&room=nobody") as answer:
                        await answer.read()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
            connected: asyncio.Queue = asyncio.Queue()
            gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
            deflating = round(args.sockets * args.deflate)

            async def dial(index: int) -> None:
                async with gate:
                    deflate = index < deflating
                    tasks.append(asyncio.ensure_future(client(http, url, deflate, hall, connected)))
                    await connected.get()

            tasks: list[asyncio.Task] = []
            await asyncio.gather(*(dial(index) for index in range(args.sockets)))

            async def send(n: int, room: str = "") -> None:
                query = f"n={n}&size={args.size}" + (f"&room={room}" if room else "")
                async with http.get(f"{base}/emit?{query}") as answer:
                    await answer.read()

            # The fixed cost of a message: the same requests, to a room nobody is in.
            before = server_cpu_s(server.pid)
            for n in range(args.messages):
                await send(n, room="nobody")
            fixed_s = server_cpu_s(server.pid) - before

            warm_up = 3
            for n in range(1, warm_up + 1):
                hall.expect(n * args.sockets)
                await send(n)
                await hall.all_received.wait()
            load_start = os.getloadavg()
            profiler = profile(server.pid, args.profile) if args.profile else None
            before, started = server_cpu_s(server.pid), time.perf_counter()
            clients_started = time.process_time()
            for n in range(warm_up + 1, warm_up + args.messages + 1):
                hall.expect(n * args.sockets)
                await send(n)
                await asyncio.wait_for(hall.all_received.wait(), timeout=60)
            room_s = server_cpu_s(server.pid) - before
            elapsed = time.perf_counter() - started
            clients_s = time.process_time() - clients_started
            load_end = os.getloadavg()
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                profiler.wait(timeout=60)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    room_times = [hall.last_received[n] for n in range(warm_up + 1, warm_up + args.messages + 1)]
    per_socket_s = (room_s - fixed_s) / (args.messages * args.sockets)
    return {
        "sockets": args.sockets,
        "deflating": deflating,
        "messages": args.messages,
        "size": args.size,
        "server_cpu_s": round(room_s, 3),
        "fixed_cpu_s": round(fixed_s, 3),
        "server_us_per_message_per_socket": round(per_socket_s * 1e6, 2),
        "elapsed_s": round(elapsed, 2),
        "clients_cpu_s": round(clients_s, 2),
        "room_ms_median": round(1000 * statistics.median(room_times), 1),
        "room_ms_max": round(1000 * max(room_times), 1),
        "wrong_messages": hall.wrong,
        "load_start": [round(x, 2) for x in load_start],
        "load_end": [round(x, 2) for x in load_end],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sockets", type=int, default=500, choices=range(1, 501), metavar="N")
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--size", type=int, default=3000, help="characters of text a message")
    parser.add_argument("--deflate", type=float, default=0.5, help="share offering deflate")
    parser.add_argument("--profile", help="py-spy's collapsed stacks of the server, to this file")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
