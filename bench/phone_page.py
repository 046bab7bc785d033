"""Server CPU per no-JavaScript form voter, in process (issue 17).

    python -m bench.phone_page [--voters 500] [--language fr] [--easy] [--profile FILE]

Each voter is a participant of one session with an open consensus poll, on its own test
client (Flask's, a temporary SQLite file, CSRF on as in production, the request headers of a
phone's browser: ``Accept-Encoding: gzip, deflate, br, zstd``). It loads its phone page
(``GET /s/<CODE>``), then posts the page's form (``POST /s/<CODE>/vote``), whose answer is the
page again drawn with « recorded ». Prints JSON: the CPU milliseconds (``time.process_time``,
this process only: no other process's load counts) per GET and per POST, their sum per voter,
the SQL statements per GET and per POST (every one the engine sends, ``BEGIN`` included), and
the bytes of a page. ``--profile`` writes a cProfile of all the requests to FILE.

CPU time is reliable on a shared machine; wall-clock time is not, and is not printed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HIDDEN = re.compile(
    r'<input type="hidden" name="(poll_id|round|ballot_id|csrf_token)" value="([^"]*)"'
)
RECORDED = 'id="vote-status" data-kind="ok"'
# Chromium's header: Flask-Compress answers the first it supports of zstd, br, gzip, deflate.
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept-Language": "fr-BE,fr;q=0.9"}


def _world(app: Any, voters: int, language: str, easy: bool) -> tuple[str, list[str]]:
    """A process, a workshop with one free item under an open consensus poll, and ``voters``
    participants; the join code and their tokens."""
    from deliberation.extensions import db
    from deliberation.models import Process
    from deliberation.services.live import sessions, voting

    with app.app_context():
        db.create_all()
        process = Process(slug="bench", title="Assises", language=language, groups=["other"])
        db.session.add(process)
        db.session.commit()
        session = sessions.create_session(process, "workshop", "Atelier")
        if easy:
            sessions.set_easy_read(session, True)
        item = sessions.add_agenda_item(
            session, "free", text="Faut-il ouvrir le samedi ? " + "Un texte de contexte. " * 20
        )
        voting.open_poll(session, item, "consensus")
        tokens = [sessions.join(session.join_code, f"P{i}", "other")[1] for i in range(voters)]
        return session.join_code, tokens


def measure(voters: int, language: str, easy: bool, profile: str | None) -> dict[str, Any]:
    from deliberation import create_app

    folder = Path(tempfile.mkdtemp(prefix="bench-phone-page-"))
    os.environ.setdefault("INSTANCE_PATH", str(folder))
    app = create_app(
        {
            "SECRET_KEY": "bench-phone-page-" + os.urandom(16).hex(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
            "SOCKETIO_MESSAGE_QUEUE": None,
        }
    )
    code, tokens = _world(app, voters + 1, language, easy)
    server = _ServerClock(app)
    statements = _StatementCount(app)
    get_cpu = post_cpu = 0.0
    get_statements = post_statements = 0
    page_bytes = sent_bytes = 0
    profiler = cProfile.Profile() if profile else None
    for index, token in enumerate(tokens):
        client = app.test_client()
        client.set_cookie("participant_token", token)
        warm_up = index == 0  # first request of the process: templates compiled, caches filled
        if profiler and not warm_up:
            profiler.enable()
        statements.seen = 0
        page = client.get(f"/s/{code}", headers=BROWSER)
        got, got_statements = server.last, statements.seen
        if profiler:
            profiler.disable()
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True) if "Content-Encoding" not in page.headers else None
        fields = dict(HIDDEN.findall(_decoded(page) if html is None else html))
        fields["answer"] = "full"
        if profiler and not warm_up:
            profiler.enable()
        statements.seen = 0
        answer = client.post(f"/s/{code}/vote", data=fields, headers=BROWSER)
        posted, posted_statements = server.last, statements.seen
        if profiler:
            profiler.disable()
        assert answer.status_code == 200 and RECORDED in _decoded(answer), answer.status_code
        if warm_up:
            continue
        get_cpu += got
        post_cpu += posted
        get_statements += got_statements
        post_statements += posted_statements
        page_bytes = len(_decoded(page))
        sent_bytes = len(page.get_data())
    if profiler and profile:
        profiler.dump_stats(profile)
    return {
        "voters": voters,
        "language": language,
        "easy": easy,
        "get_cpu_ms": round(get_cpu / voters * 1000, 2),
        "post_cpu_ms": round(post_cpu / voters * 1000, 2),
        "voter_cpu_ms": round((get_cpu + post_cpu) / voters * 1000, 2),
        "get_statements": round(get_statements / voters, 2),
        "post_statements": round(post_statements / voters, 2),
        "page_bytes": page_bytes,
        "page_bytes_sent": sent_bytes,
        "encoding": page.headers.get("Content-Encoding", ""),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


class _ServerClock:
    """The CPU seconds of the last request inside the app (the WSGI call and the reading of
    its body, as a server does), without the test client's own work around it."""

    def __init__(self, app: Any) -> None:
        self.last = 0.0
        self._inner = app.wsgi_app
        app.wsgi_app = self

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        started = time.process_time()
        answer = self._inner(environ, start_response)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        self.last = time.process_time() - started
        return [body]


class _StatementCount:
    """The SQL statements the app's engine sends (a listener of a few instructions each,
    inside the CPU measured: negligible beside a statement)."""

    def __init__(self, app: Any) -> None:
        from sqlalchemy import event

        from deliberation.extensions import db

        self.seen = 0
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.seen += 1


def _decoded(response: Any) -> str:
    from flask_compress.flask_compress import _uncompress_data

    data = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    return (_uncompress_data(data, encoding) if encoding else data).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--language", choices=("fr", "en"), default="fr")
    parser.add_argument("--easy", action="store_true", help="the session's easy-to-read mode")
    parser.add_argument("--profile", help="write a cProfile of the requests to this file")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.voters, args.language, args.easy, args.profile)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
