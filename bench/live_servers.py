"""Server side of ``bench.live``: a throwaway database, the server processes started as a
deployment starts them (``python app.py``: gevent, ``PORT``, ``DATABASE_URL``,
``SOCKETIO_MESSAGE_QUEUE``), the session to vote in, the read-back of the count, and the
phone page's weight over the wire."""

from __future__ import annotations

import gzip
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ORGANIZER_EMAIL = "bench@example.org"
ORGANIZER_PASSWORD = "bench-password-" + secrets.token_hex(4)
ASSET = re.compile(r'<(?:script[^>]+src|link[^>]+href)="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Deployment:
    """The database, the environment and the server processes of one bench run."""

    processes: int
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-live-")))
    database_url: str = ""
    pg_name: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    servers: list[subprocess.Popen] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    # One process runs on SQLite unless asked for PostgreSQL (bench.hostile --database).
    postgresql: bool = False

    def create_database(self) -> None:
        if self.processes == 1 and not self.postgresql:
            self.database_url = "sqlite:///" + str(self.workdir / "bench.sqlite")
        else:
            import psycopg

            self.pg_name = f"bench_live_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
            self.database_url = f"postgresql+psycopg://{base}/{self.pg_name}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "bench-" + secrets.token_hex(16),
            "EXPORTS_DIR": str(self.workdir / "exports"),
            "DEFAULT_LANGUAGE": "en",
            # Every simulated phone joins from 127.0.0.1, and runs share one Redis (whose
            # counts outlive a run): the address ceiling is not what is measured here. The
            # per-session allowance (JOIN_LIMIT_PER_SESSION) stays at its default.
            "JOIN_LIMIT_PER_ADDRESS": "1000000 per minute",
            # Likewise the sockets one address may hold: a hall connecting on a saturated
            # machine leaves abandoned attempts open until their ping times out.
            "SOCKETS_PER_ADDRESS": "1000000",
        }
        self.env.pop("SOCKETIO_MESSAGE_QUEUE", None)
        if self.processes > 1:
            self.env["SOCKETIO_MESSAGE_QUEUE"] = REDIS_URL
            # A channel (and throttle keys) of its own: another run on the same Redis at the
            # same moment has sessions with the same ids, whose messages must not reach it.
            run = uuid.uuid4().hex[:12]
            self.env["SOCKETIO_CHANNEL"] = f"bench-live-{run}"
            self.env["RATELIMIT_KEY_PREFIX"] = f"bench-live-{run}"
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            check=True,
            timeout=120,
        )

    def start(self) -> list[str]:
        for index in range(self.processes):
            port = free_port()
            log = open(self.workdir / f"server-{index}.log", "ab")  # noqa: SIM115
            self.servers.append(
                subprocess.Popen(
                    [sys.executable, "app.py"],
                    cwd=ROOT,
                    env={**self.env, "PORT": str(port)},
                    stdout=log,
                    stderr=log,
                )
            )
            self.ports.append(port)
        for server, port in zip(self.servers, self.ports, strict=True):
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError("server exited: " + self.log_tail())
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("server did not start in 60 s") from None
                    time.sleep(0.1)
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def log_tail(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-2000:] for path in self.workdir.glob("server-*.log")
        )

    def stop(self) -> None:
        for server in self.servers:
            if server.poll() is None:
                server.terminate()
        for server in self.servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)

    def drop_database(self, keep_files: bool = False) -> None:
        """Drop the PostgreSQL database (always) and the temporary directory (unless kept)."""
        if self.pg_name:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        if not keep_files:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def app(self) -> Any:
        """An app on the same database, for setting up and reading back (never serving)."""
        from deliberation import create_app

        return create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.database_url,
                "SECRET_KEY": self.env["SECRET_KEY"],
                "SOCKETIO_MESSAGE_QUEUE": None,
                "EXPORTS_DIR": self.env["EXPORTS_DIR"],
            }
        )


def set_up_session(app: Any, phones: int = 0) -> dict[str, Any]:
    """An organiser, a small process, a general-assembly session with one question."""
    return set_up_sessions(app, 1, phones)[0]


def set_up_sessions(
    app: Any, count: int, phones: int = 0, kind: str = "assembly"
) -> list[dict[str, Any]]:
    """An organiser, a small process, ``count`` sessions of that kind with one question
    each. A general assembly admits with personal tickets (one issued per phone); a
    workshop with its join code alone (the defaults of ``sessions.create_session``)."""
    from deliberation.extensions import db
    from deliberation.models import Process
    from deliberation.services.live import admission, sessions
    from deliberation.services.people import accounts, membership

    results = []
    with app.app_context():
        organizer, _created = accounts.create_or_update_organizer(
            ORGANIZER_EMAIL, ORGANIZER_PASSWORD, "Bench"
        )
        process = Process(slug="bench-hall", title="Bench hall", language="en")
        db.session.add(process)
        db.session.commit()
        membership.add_member(process, organizer, "facilitator")  # runs the sessions
        for index in range(count):
            title = "General assembly (bench)" if kind == "assembly" else "Workshop"
            session = sessions.create_session(process, kind, f"{title} {index + 1}")
            if phones and session.admission == "tickets":
                # In sheets of at most MAX_TICKETS_PER_BATCH, as an organiser prints them.
                for start in range(0, phones, admission.MAX_TICKETS_PER_BATCH):
                    admission.issue_tickets(
                        session, min(admission.MAX_TICKETS_PER_BATCH, phones - start)
                    )
            item = sessions.add_agenda_item(session, "free", text="Do we adopt the recommendation?")
            tickets = [ticket.code for ticket in admission.tickets_of(session)]
            results.append(
                {
                    "session_id": session.id,
                    "code": session.join_code,
                    "item_id": item.id,
                    "groups": list(process.groups or []),
                    "tickets": tickets or [""] * phones,
                }
            )
        db.session.remove()
    return results


def bulk_join(app: Any, session: dict[str, Any], phones: int) -> list[str]:
    """Participants created through ``services.live.sessions.join``, the primitive under the
    admission service that POST /j calls (no ticket, no throttle: not what is measured)."""
    from deliberation.extensions import db
    from deliberation.services.live import sessions

    groups = session["groups"] or [""]
    tokens = []
    with app.app_context():
        for i in range(phones):
            _participant, token = sessions.join(
                session["code"], f"Phone {i}", groups[i % len(groups)]
            )
            tokens.append(token)
        db.session.remove()
    return tokens


def read_back(app: Any, session_id: int, acked: list[tuple[str, str]]) -> dict[str, Any]:
    """What the database holds for the bench poll, checked against what phones were told."""
    from deliberation.extensions import db
    from deliberation.models import Ballot, BallotReceipt, Poll, PollCount, PollVoter
    from deliberation.services.live import sessions, voting

    with app.app_context():
        poll = db.session.scalar(
            db.select(Poll).filter_by(session_id=session_id).order_by(Poll.id.desc()).limit(1)
        )
        counted = voting.voted_count(poll)
        rows = db.session.scalars(db.select(Ballot).filter_by(poll_id=poll.id)).all()
        ballots = {ballot.participant_id: ballot.choice.get("answer") for ballot in rows}
        sealed = poll.secret and poll.state in ("closed", "published")
        if sealed:
            # A closed secret poll names nobody: who voted is in the roll, what in the urn.
            roll = set(
                db.session.scalars(db.select(PollVoter.participant_id).filter_by(poll_id=poll.id))
            )
            urn = [ballot.choice.get("answer") for ballot in rows]
        receipts = db.session.scalar(
            db.select(db.func.count()).where(BallotReceipt.poll_id == poll.id)
        )
        counters: dict[str, int] = {}
        for key, count in db.session.execute(
            db.select(PollCount.key, db.func.sum(PollCount.count))
            .where(PollCount.poll_id == poll.id)
            .group_by(PollCount.key)
        ):
            counters[key] = int(count)
        lost = 0
        mismatched = 0
        if sealed:
            # Each phone's last acknowledged answer, against the urn as a whole.
            last = dict(acked)
            for token in last:
                participant = sessions.participant_from_token(token)
                if participant is None or participant.id not in roll:
                    lost += 1
            told: dict[str, int] = {}
            for answer in last.values():
                told[answer] = told.get(answer, 0) + 1
            for answer in set(told) | set(urn):
                mismatched += max(0, told.get(answer, 0) - urn.count(answer))
            ballots = dict(enumerate(urn))  # one entry per urn row, for the figures below
        else:
            for token, answer in acked:
                participant = sessions.participant_from_token(token)
                if participant is None or participant.id not in ballots:
                    lost += 1
                elif ballots[participant.id] != answer:
                    mismatched += 1
        by_answer: dict[str, int] = {}
        for answer in ballots.values():
            by_answer[answer] = by_answer.get(answer, 0) + 1
        counters_match = all(
            counters.get(key, 0) == by_answer.get(key, 0) for key in ("yes", "no", "abstain")
        )
        result = {
            "poll_id": poll.id,
            "poll_state": poll.state,
            "votes_counted": counted,
            "ballot_rows": len(ballots),
            "receipts": receipts,
            "lost": lost,
            "wrong_choice": mismatched,
            "double_counted": max(0, counted - len(ballots)),
            "counters_match_ballots": counters_match and counted == len(ballots),
        }
        db.session.remove()
    return result


def _decoded(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # installed with Flask-Compress

        return brotli.decompress(body)
    return body


async def page_weight(base_url: str, code: str, token: str) -> dict[str, Any]:
    """The phone page's first load: HTML + every stylesheet and script it names.

    Asked as a phone's browser asks (``Accept-Encoding: gzip, deflate, br``): the bytes
    received are the page weight over the wire. ``page_weight_gzip_bytes`` is what the
    same resources weigh gzip-compressed (level 6), whatever the server did."""
    import aiohttp

    wire = gzipped_total = raw_total = 0
    encodings: set[str] = set()
    parts = []
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        urls = [f"{base_url}/s/{code}"]
        for position, url in enumerate(urls):
            headers = {"Accept-Encoding": "gzip, deflate, br"}
            if position == 0:
                headers["Cookie"] = f"participant_token={token}"
            async with http.get(url, headers=headers, allow_redirects=False) as response:
                body = await response.read()
                encoding = response.headers.get("Content-Encoding", "")
            raw = _decoded(body, encoding)
            encodings.add(encoding or "identity")
            gzipped = len(gzip.compress(raw, 6))
            parts.append({"url": url[len(base_url) :], "wire": len(body), "encoding": encoding})
            wire += len(body)
            gzipped_total += gzipped
            raw_total += len(raw)
            if position == 0:
                for src in ASSET.findall(raw.decode("utf-8", "replace")):
                    if src.startswith("/"):
                        urls.append(base_url + src.split("#")[0])
    return {
        "page_weight_bytes": wire,
        "page_weight_gzip_bytes": gzipped_total,
        "page_weight_uncompressed_bytes": raw_total,
        "page_encodings": sorted(encodings),
        "page_parts": parts,
    }
