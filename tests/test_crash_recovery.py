"""Kill the server with SIGKILL in the middle of a poll and start it again: every
acknowledged ballot is still there, the phones reconnect by themselves and resend what was
not acknowledged, and the count is right. Also: tallies on a real server are coalesced.

The phones here are python-socketio clients that follow the phone page's rules
(docs/protocol.md §4): pending ballots kept until a positive ack, a new ballot id for a new
choice, the same id when resending, everything pending resent after every connect.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import uuid
from collections import Counter, defaultdict

import pytest
import socketio

from deliberation.extensions import db
from deliberation.models import Ballot, BallotReceipt, Participant, Poll
from deliberation.services.live import sessions, voting
from tests.conftest import LiveServer, make_app
from tests.live_fixtures import free_item, make_process, workshop

SECRET = "live-test-secret"
RESEND_ERRORS = ("server_busy",)


class Phone:
    """A phone as the phone page behaves, minus the screen."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.lock = threading.Lock()
        self.pending: dict[int, dict] = {}
        self.acked: list[str] = []
        self.refused: list[str] = []
        self.last_choice: dict | None = None
        self.states: list[dict] = []
        self.client = socketio.Client(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0
        )
        self.client.on("connect", self._on_connect)
        self.client.on("state", self.states.append)

    def connect(self) -> None:
        self.client.connect(
            self.url,
            auth={"role": "phone", "token": self.token},
            transports=["websocket"],
            wait_timeout=10,
        )

    def _on_connect(self) -> None:
        with self.lock:
            ballots = list(self.pending.values())
        for ballot in ballots:
            self._send(ballot)

    def vote(self, poll_id: int, answer: str) -> None:
        ballot = {"poll_id": poll_id, "ballot_id": uuid.uuid4().hex, "choice": {"answer": answer}}
        with self.lock:
            self.pending[poll_id] = ballot  # a new choice replaces what was not yet sent
            self.last_choice = ballot["choice"]
        self._send(ballot)

    def _send(self, ballot: dict) -> None:
        def on_ack(ack: dict) -> None:
            with self.lock:
                current = self.pending.get(ballot["poll_id"])
                if ack.get("ok"):
                    self.acked.append(ack["ballot_id"])
                elif ack.get("error") in RESEND_ERRORS:
                    return
                else:
                    self.refused.append(ack.get("error"))
                if current is not None and current["ballot_id"] == ack.get("ballot_id"):
                    del self.pending[ballot["poll_id"]]

        # Not connected: it stays pending and goes again on connect.
        with contextlib.suppress(Exception):
            self.client.emit("vote", ballot, callback=on_ack)

    def settled(self) -> bool:
        with self.lock:
            return not self.pending and self.client.connected


def close_all(clients: list) -> None:
    """Disconnect in parallel: each websocket close may wait up to 3 s for the server's
    closing frame."""
    threads = [threading.Thread(target=client.disconnect) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def prepare(tmp_path, database_url: str | None, voters: int, show_live: bool = True):
    """A database with a workshop, an open poll and `voters` participants (and their tokens)."""
    url = database_url or "sqlite:///" + str(tmp_path / "live.sqlite")
    app = make_app(tmp_path, url, SECRET_KEY=SECRET)
    with app.test_request_context():
        process = make_process()
        session = workshop(process)
        item = free_item(session, "Do we agree?")
        # Named: the projector's live tally is compared with the database below.
        poll = voting.open_poll(session, item, "consensus", show_live=show_live, secret=False)
        groups = ["service_user", "social_worker", "employer"]
        tokens = [sessions.join(session.join_code, "", groups[i % 3])[1] for i in range(voters)]
        ids = {"poll": poll.id, "code": session.join_code}
    return app, url, ids, tokens


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_database_url")
    return None


def test_sigkill_mid_poll_loses_nothing_and_counts_once(tmp_path, database_url):
    voters = 16
    app, url, ids, tokens = prepare(tmp_path, database_url, voters)
    server = LiveServer(tmp_path, env={"SECRET_KEY": SECRET}, database_url=url).start()
    phones = [Phone(server.url, token) for token in tokens]
    try:
        for phone in phones:
            phone.connect()
        answers = ("full", "reservations", "mixed", "disagree", "block")
        for number, phone in enumerate(phones):
            phone.vote(ids["poll"], answers[number % 5])
        # Kill as soon as some ballots are acknowledged, while others are still in flight.
        wait_for(lambda: sum(len(p.acked) for p in phones) >= voters // 3, 20, "first acks")
        server.kill(signal.SIGKILL)
        acked_before_kill = {ballot for phone in phones for ballot in phone.acked}
        assert acked_before_kill
        # While the server is down, some people change their minds (pending, unsent).
        for phone in phones[:4]:
            phone.vote(ids["poll"], "block")
        server.start()  # same port, same database
        wait_for(lambda: all(phone.settled() for phone in phones), 60, "phones to resend")
        assert all(phone.refused == [] for phone in phones)

        with app.app_context():
            poll = db.session.get(Poll, ids["poll"])
            receipts = set(db.session.scalars(db.select(BallotReceipt.client_id)))
            # Every acknowledged ballot is still there.
            assert acked_before_kill <= receipts
            assert {ballot for phone in phones for ballot in phone.acked} <= receipts
            # One ballot per phone, each phone's last choice, counted once.
            assert db.session.scalar(db.select(db.func.count(Ballot.id))) == voters
            assert voting.voted_count(poll) == voters
            by_token = {
                participant.token_id: participant.id
                for participant in db.session.scalars(db.select(Participant))
            }
            for phone in phones:
                participant = sessions.participant_from_token(phone.token)
                ballot = db.session.scalar(
                    db.select(Ballot).filter_by(poll_id=poll.id, participant_id=participant.id)
                )
                assert ballot.choice == phone.last_choice
            assert len(by_token) == voters
            expected: dict[str, Counter] = defaultdict(Counter)
            for ballot in db.session.scalars(db.select(Ballot).filter_by(poll_id=poll.id)):
                expected[ballot.group]["#ballots"] += 1
                expected[ballot.group][ballot.choice["answer"]] += 1
            assert voting.counts_by_group(poll) == {g: dict(c) for g, c in expected.items()}
            with app.test_request_context():
                local_results = voting.results(poll)

        # The tally the server gives the room agrees with the database.
        screen = socketio.Client()
        screen.connect(
            server.url,
            auth={"role": "projector", "code": ids["code"]},
            transports=["websocket"],
            wait_timeout=10,
        )
        state = screen.call("sync", {}, timeout=10)
        screen.disconnect()
        assert state["counts"]["voted"] == voters
        assert state["counts"]["connected"] == voters
        assert state["results"]["ballots"] == voters
        assert state["results"]["answers"] == local_results["answers"]
        assert state["results"]["outcome"] == local_results["outcome"]
    finally:
        close_all([phone.client for phone in phones])
        server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_tallies_are_coalesced_on_a_live_server(tmp_path):
    voters = 12
    app, url, ids, tokens = prepare(tmp_path, None, voters)
    server = LiveServer(tmp_path, env={"SECRET_KEY": SECRET}, database_url=url).start()
    phones = [Phone(server.url, token) for token in tokens]
    tallies: list[tuple[float, dict]] = []
    screen = socketio.Client()
    screen.on("tally", lambda data: tallies.append((time.monotonic(), data)))
    try:
        screen.connect(
            server.url,
            auth={"role": "projector", "code": ids["code"]},
            transports=["websocket"],
            wait_timeout=10,
        )
        for phone in phones:
            phone.connect()
        for answer in ("full", "mixed", "block", "reservations"):
            for phone in phones:
                phone.vote(ids["poll"], answer)
        wait_for(lambda: all(phone.settled() for phone in phones), 30, "acks")
        wait_for(
            lambda: (
                tallies
                and tallies[-1][1]["voted"] == voters
                and len([t for t in tallies if t[1]["connected"] == voters])
            ),
            20,
            "the last tally",
        )
        time.sleep(0.6)
        assert len(tallies) < voters * 4  # 48 ballots, far fewer pushes
        # Measured on the server's clock: arrival times on a busy test machine jitter.
        sent = [data["sent_at"] for _, data in tallies]
        gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
        assert all(gap >= 0.2 for gap in gaps), gaps  # ≤ 4 per second
        assert tallies[-1][1]["results"]["ballots"] == voters
        # A refused connection says why, in the shape docs/protocol.md gives.
        intruder = socketio.Client(reconnection=False)
        refusals: list = []
        intruder.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            intruder.connect(
                server.url,
                auth={"role": "phone", "token": "forged"},
                transports=["websocket"],
                wait_timeout=10,
            )
        assert refusals[0]["message"] == "invalid_token"
        assert refusals[0]["data"]["error"] == "invalid_token" and refusals[0]["data"]["message"]
    finally:
        close_all([screen] + [phone.client for phone in phones])
        server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
