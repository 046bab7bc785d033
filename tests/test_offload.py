"""Password hashing runs off the gevent loop: other greenlets keep running meanwhile."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from deliberation.models import Organizer
from deliberation.offload import run_blocking

ROOT = Path(__file__).resolve().parent.parent
TICK = 0.005

# Run in a fresh interpreter: monkey-patching the test process would change every other test.
# offload.py is loaded by path: importing the deliberation package (Flask, Alembic...) would
# add seconds; Organizer's use of run_blocking is checked in-process below.
SCRIPT = """
from gevent import monkey

monkey.patch_all()

import hashlib, importlib.util, json, sys, time

import gevent
from werkzeug.security import check_password_hash, generate_password_hash

spec = importlib.util.spec_from_file_location("offload", sys.argv[1])
offload = importlib.util.module_from_spec(spec)
spec.loader.exec_module(offload)
ticks = 0


def ticker():
    global ticks
    while True:
        gevent.sleep(TICK)
        ticks += 1


def measure(call):
    before, start = ticks, time.perf_counter()
    result = call()
    return {"ticks": ticks - before, "seconds": time.perf_counter() - start, "result": result}


def scrypt():
    return hashlib.scrypt(b"pw", salt=b"s" * 16, n=2**15, r=8, p=1, maxmem=2**26).hex()


gevent.spawn(ticker)
gevent.sleep(4 * TICK)
report = {
    "direct": measure(scrypt),
    "offloaded": measure(lambda: offload.run_blocking(scrypt)),
    "hash": measure(lambda: offload.run_blocking(generate_password_hash, "long enough")),
}
stored = report["hash"]["result"]
report["check"] = measure(lambda: offload.run_blocking(check_password_hash, stored, "long enough"))
print(json.dumps(report))
""".replace("TICK", repr(TICK))


def test_direct_call_without_gevent_patching():
    assert run_blocking(lambda a, b=0: (a + b, threading.get_ident()), 2, b=3) == (
        5,
        threading.get_ident(),
    )
    with pytest.raises(ZeroDivisionError):
        run_blocking(lambda: 1 / 0)


def test_password_behaviour_unchanged():
    organizer = Organizer(email="o@example.org")
    organizer.set_password("long enough")
    assert organizer.password_hash.startswith("scrypt:")
    assert organizer.check_password("long enough")
    assert not organizer.check_password("wrong")
    organizer.password_hash = generate_password_hash("old", method="pbkdf2:sha256:1000")
    assert organizer.check_password("old")


def test_organizer_hashes_through_run_blocking(monkeypatch):
    offloaded: list[str] = []

    def spy(function, *args, **kwargs):
        offloaded.append(function.__name__)
        return run_blocking(function, *args, **kwargs)

    monkeypatch.setattr("deliberation.models.users.run_blocking", spy)
    organizer = Organizer(email="o@example.org")
    organizer.set_password("long enough")
    assert organizer.check_password("long enough")
    assert offloaded == ["generate_password_hash", "check_password_hash"]


def _enough_ticks(measure: dict) -> bool:
    # The loop kept turning while the hash ran: a quarter of the ideal count at least. (The
    # hashing thread shares the cores with the other test worker and any other load, so the
    # ticker gets fewer turns on a busy machine; a blocked loop gets none, as "direct" shows.)
    return measure["ticks"] >= max(5, 0.25 * measure["seconds"] / TICK)


def test_hashing_under_gevent_lets_other_greenlets_run():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "deliberation" / "offload.py")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({k: (v["ticks"], round(v["seconds"], 3)) for k, v in report.items()}))

    # The contrast: a direct call holds the loop, the ticker cannot advance at all.
    assert report["direct"]["ticks"] == 0
    assert report["direct"]["seconds"] > 4 * TICK

    assert report["offloaded"]["result"] == report["direct"]["result"]
    assert report["hash"]["result"].startswith("scrypt:")
    assert report["check"]["result"] is True
    for name in ("offloaded", "hash", "check"):
        assert _enough_ticks(report[name]), (name, report[name])
