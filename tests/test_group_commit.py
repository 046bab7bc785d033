"""The group commit: one writer at a time, batches of whoever waits, each caller its answer."""

from __future__ import annotations

import threading
import time

import pytest

from deliberation.group_commit import GroupCommit


def test_callers_waiting_during_a_write_are_written_together():
    writes: list[list[int]] = []
    inside = threading.Lock()

    def write(batch: list[int]) -> list[int]:
        assert inside.acquire(blocking=False), "two writes at once"
        try:
            writes.append(list(batch))
            time.sleep(0.02)  # a write long enough for others to queue up
            return [number * 10 for number in batch]
        finally:
            inside.release()

    group = GroupCommit(write, max_batch=8)
    results: dict[int, int] = {}

    def call(number: int) -> None:
        results[number] = group.submit(number)

    threads = [threading.Thread(target=call, args=(number,)) for number in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {number: number * 10 for number in range(40)}
    assert sorted(n for batch in writes for n in batch) == list(range(40))  # each once
    assert len(writes) < 40 and max(len(batch) for batch in writes) > 1
    assert max(len(batch) for batch in writes) <= 8
    assert group.batches == len(writes) and group.largest_batch == max(map(len, writes))


def test_a_failed_write_raises_in_every_caller_of_its_batch_and_the_next_batch_goes_on():
    started = threading.Event()
    release = threading.Event()

    def write(batch: list[str]) -> list[str]:
        if batch[0] == "first":
            started.set()
            release.wait(5)
            raise RuntimeError("disk on fire")
        return [f"{item} written" for item in batch]

    group = GroupCommit(write)
    outcomes: dict[str, str] = {}

    def call(item: str) -> None:
        try:
            outcomes[item] = group.submit(item)
        except RuntimeError as error:
            outcomes[item] = f"error: {error}"

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert started.wait(5)
    later = [threading.Thread(target=call, args=(f"later-{n}",)) for n in range(3)]
    for thread in later:
        thread.start()
    time.sleep(0.05)  # they queue behind the failing write
    release.set()
    for thread in [first, *later]:
        thread.join(timeout=5)
    assert outcomes["first"] == "error: disk on fire"
    assert {outcomes[f"later-{n}"] for n in range(3)} == {f"later-{n} written" for n in range(3)}
    assert group.submit("after") == "after written"  # the lead was given back


def test_a_write_must_answer_every_request():
    group = GroupCommit(lambda batch: [])
    with pytest.raises(RuntimeError, match="one result per request"):
        group.submit("lost")


def test_one_callers_loop_never_waits_to_gather(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("deliberation.group_commit.time.sleep", slept.append)
    group = GroupCommit(lambda batch: batch, gather_s=0.5)
    assert [group.submit(n) for n in range(50)] == list(range(50))
    assert slept == [] and group.batches == 50


def test_a_crowd_makes_the_leader_gather():
    """Writes that never yield (SQLite under gevent) batch only if the leader waits."""
    from deliberation.group_commit import CROWD

    writes: list[list[int]] = []

    def write(batch: list[int]) -> list[int]:
        writes.append(list(batch))
        return batch

    group = GroupCommit(write, gather_s=0.05)
    barrier = threading.Barrier(CROWD)

    def call(number: int) -> None:
        barrier.wait(5)
        group.submit(number)
        barrier.wait(5)
        group.submit(100 + number)  # by now the crowd is known: the leader gathers

    threads = [threading.Thread(target=call, args=(n,)) for n in range(CROWD)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(n for batch in writes for n in batch) == sorted(
        [*range(CROWD), *range(100, 100 + CROWD)]
    )
    assert max(len(batch) for batch in writes) >= CROWD // 2
