"""Client-manager micro-benchmark: python-socketio's ``Manager`` against
``deliberation.live.manager.IndexedManager`` on a hall's rooms, no network.

Each socket goes through the calls the Socket.IO server makes (``pre_connect``, ``connect``)
and joins what ``live.handlers.on_connect`` joins (its role room and its participant's room,
besides its own sid room); then every socket disconnects as the server does it
(``pre_disconnect``, ``disconnect``), in random order. Both go by batches of ``--batch``
sockets in flight at once (all pre-connected, then all connected; all pre-disconnected, then
all disconnected), as when a hall's handlers wait on the database. ``--sockets 6000
--participants 2000`` is a hall of 2,000 phones whose sockets were replaced twice during a
reconnect storm (~8,000 rooms at the start).

Command: ``python -m bench.manager [--sockets N] [--participants P] [--batch B]
[--repeat R]``; one JSON line per manager to stdout (best of R runs, seconds).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from types import SimpleNamespace
from typing import Any

import socketio

from deliberation.live.manager import IndexedManager

NAMESPACE = "/"
ROLE_ROOM = "session:1:phones"


def _manager(kind: str) -> Any:
    manager = socketio.Manager() if kind == "base" else IndexedManager()
    ids = itertools.count()
    manager.set_server(
        SimpleNamespace(
            eio=SimpleNamespace(generate_id=lambda: f"sid-{next(ids)}"),
            packet_class=SimpleNamespace(json=json),
        )
    )
    return manager


def run(
    kind: str, sockets: int, participants: int, batch: int, seed: int
) -> dict[str, float | int]:
    manager = _manager(kind)
    started = time.perf_counter()
    sids: list[str] = []
    for first in range(0, sockets, batch):
        batch_sids = [
            manager.pre_connect(f"eio-{n}", NAMESPACE)
            for n in range(first, min(first + batch, sockets))
        ]
        for n, sid in enumerate(batch_sids, start=first):
            # In the connect handler (pre-connected), as live.handlers.on_connect.
            manager.enter_room(sid, NAMESPACE, ROLE_ROOM)
            manager.enter_room(sid, NAMESPACE, f"participant:{n % participants}")
            manager.connect(sid, NAMESPACE)
        sids.extend(batch_sids)
    connected = time.perf_counter()
    rooms = len(manager.rooms[NAMESPACE])
    for sid in sids:
        manager.get_rooms(sid, NAMESPACE)
    listed = time.perf_counter()
    random.Random(seed).shuffle(sids)
    for first in range(0, sockets, batch):
        batch_sids = sids[first : first + batch]
        for sid in batch_sids:
            manager.pre_disconnect(sid, NAMESPACE)
        for sid in batch_sids:
            manager.disconnect(sid, NAMESPACE)
    done = time.perf_counter()
    assert manager.rooms == {}, "every room should be gone"
    return {
        "connect_s": connected - started,
        "get_rooms_s": listed - connected,
        "disconnect_s": done - listed,
        "rooms_at_start": rooms,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=6000)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for kind in ("base", "indexed"):
        runs = [
            run(kind, args.sockets, args.participants, args.batch, args.seed)
            for _ in range(args.repeat)
        ]
        best = {key: min(r[key] for r in runs) for key in runs[0]}
        line = {"manager": kind, "sockets": args.sockets, "participants": args.participants}
        line["batch"] = args.batch
        line.update({k: round(v, 4) if isinstance(v, float) else v for k, v in best.items()})
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
