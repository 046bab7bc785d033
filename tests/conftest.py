"""Shared fixtures: a real SQLite file per test, PostgreSQL when present, a live server and
headless Chromium for the page tests."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from bench.live_servers import set_up_session
from deliberation import create_app
from deliberation.extensions import db
from deliberation.services.demo.demo import DEMO_LOGIN_FILE, read_login

ROOT = Path(__file__).resolve().parent.parent
# The suite never writes into the developer's instance/ (their secret key, their demo login):
# apps built here, and servers started here, keep their private files in a scratch folder.
os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="deliberation-test-instance-")
# Throttles counted in a shared Redis (apps with a message queue) count this run's attempts
# only: another run, or another checkout's, on the same machine must not throttle this one.
os.environ["RATELIMIT_KEY_PREFIX"] = f"deliberation-test-{uuid.uuid4().hex[:12]}"
# No LibreOffice conversion after every export of the suite (seconds each, in the app and in
# the workers it starts); the tests of the PDF ask for it.
os.environ["EXPORT_PDF"] = "0"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _base_config(tmp_path: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "EXPORTS_DIR": str(tmp_path / "exports"),
        "SOCKETIO_MESSAGE_QUEUE": None,
    }


def make_app(tmp_path: Path, database_url: str | None = None, **overrides):
    url = database_url or "sqlite:///" + str(tmp_path / "test.sqlite")
    app = create_app({**_base_config(tmp_path, url), **overrides})
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path):
    """An app on a fresh SQLite file, CSRF off (CSRF has its own tests)."""
    app = make_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def postgres_available() -> str | None:
    """Return None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as error:  # any failure means "absent" for the purpose of skipping
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {error}"


@pytest.fixture(scope="session")
def pg_database_url():
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    name = f"deliberation_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, tmp_path):
    """The same test on SQLite and on PostgreSQL (skipped, with the reason, when absent)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database_url")
        app = make_app(tmp_path, url)
    else:
        app = make_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as error:
        return f"Redis not reachable at {REDIS_URL}: {error}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DEMO_SLUG = "assises-insertion"


class LiveServer:
    """``python app.py`` in its own process, exactly as ``make run`` serves it."""

    def __init__(self, tmp_path: Path, env: dict | None = None, database_url: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url or "sqlite:///" + str(tmp_path / "live.sqlite")
        self.instance_path = tmp_path / f"instance-{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PORT": str(self.port),
            "SECRET_KEY": "live-test-secret",
            "EXPORTS_DIR": str(tmp_path / "exports"),
            "INSTANCE_PATH": str(self.instance_path),
            **(env or {}),
        }
        self.log_path = tmp_path / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def flask(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def add_member(
        self,
        prefix: str,
        password: str,
        role: str = "co_organizer",
        slug: str = "assises-insertion",
    ) -> str:
        """A new organiser account (through the command line, as an operator makes one),
        member of ``slug`` with ``role``; returns its e-mail."""
        email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.org"
        self.flask("create-organizer", email, input=f"{password}\n{password}\n")
        self.flask("add-member", slug, email, "--role", role)
        return email

    @property
    def demo_login(self) -> tuple[str, str]:
        """The demo organiser's (e-mail, password), where ``load-demo`` keeps them."""
        login = read_login(self.instance_path / DEMO_LOGIN_FILE)
        assert login is not None, "load-demo kept no demo login for this server"
        return login

    def start(self) -> LiveServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start within 30 s")

    def kill(self, sig: int = 9) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> LiveServer:
    """A SQLite file migrated with `flask db upgrade` and loaded with `flask load-demo`, once
    per test run (with the demo login it drew); each live server gets its own copy."""
    server = LiveServer(tmp_path_factory.mktemp("demo-database"))
    server.flask("db", "upgrade")
    server.flask("load-demo")
    return server


def start_demo_server(tmp_path, demo_database, env: dict[str, str] | None = None) -> LiveServer:
    """A copy of the migrated demo database and its demo login, and a server running on it on
    a free port (``env``: settings of its own)."""
    server = LiveServer(tmp_path, env=env)
    database = Path(demo_database.database_url.removeprefix("sqlite:///"))
    target = Path(server.database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        source = database.with_name(database.name + suffix)
        if source.exists():
            shutil.copy(source, target.with_name(target.name + suffix))
    server.instance_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(
        demo_database.instance_path / DEMO_LOGIN_FILE, server.instance_path / DEMO_LOGIN_FILE
    )
    server.start()
    return server


@pytest.fixture
def live_server(tmp_path, demo_database):
    """The demo on a server running on a free port."""
    server = start_demo_server(tmp_path, demo_database)
    yield server
    server.stop()


def log_in(page, base_url: str, email: str, password: str) -> None:
    """An organiser logs in through the form, as a person would, and lands on their index."""
    page.goto(base_url + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('form.form button[type="submit"]')
    page.wait_for_url("**/organize/")


@pytest.fixture
def app_for_two_processes(tmp_path, pg_database_url):
    """An app on a throwaway PostgreSQL database with one bench session in it, for tests of
    server processes sharing Redis (:func:`processes_sharing_redis`); skipped without Redis."""
    reason = redis_available()
    if reason:
        pytest.skip(reason)
    app = make_app(tmp_path, pg_database_url)
    yield app, set_up_session(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def processes_sharing_redis(tmp_path: Path, database_url: str, count: int = 2):
    """``count`` server processes joined by the Redis message queue on a channel of their
    own (another run on the same Redis must not see their messages), started, and stopped
    at the end. The caller skips first when Redis is absent (``redis_available``)."""
    env = {
        "SECRET_KEY": "test-secret",
        "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
        "SOCKETIO_CHANNEL": f"deliberation-test-{uuid.uuid4().hex}",
    }
    servers = [LiveServer(tmp_path, env=env, database_url=database_url) for _ in range(count)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


class LiveConnectionBlocker:
    """A network on which the live connection never gets through, for a Playwright page or
    context: long-polling requests aborted and WebSockets closed by the "network" as soon
    as they open (phone.js dials a WebSocket first). ``lift()`` brings the network back."""

    def __init__(self, target) -> None:
        self.blocked = True
        target.route(self._socket_io, self._http)
        target.route_web_socket(re.compile(r".*/socket\.io/.*"), self._websocket)

    @staticmethod
    def _socket_io(url: str) -> bool:
        # The Socket.IO endpoint, not the client script under /static/vendor/socket.io/.
        return "/socket.io/?" in url

    def _http(self, route) -> None:
        route.abort() if self.blocked else route.continue_()

    def _websocket(self, websocket) -> None:
        websocket.close() if self.blocked else websocket.connect_to_server()

    def lift(self) -> None:
        self.blocked = False


@pytest.fixture
def browser():
    """Chromium for one test. Not session-wide: sync Playwright keeps an asyncio loop running
    in the main thread while it lives, which would break later tests that use asyncio.run."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# -- test tiers ---------------------------------------------------------------------------
# unit: no database, no server, no socket, no browser (`make test-fast`); integration: a
# database (SQLite file or PostgreSQL), Socket.IO, Redis or a server in a subprocess;
# browser: headless Chromium. Assigned here, from the fixtures a test uses (directly or
# through other fixtures) and, for the files whose tests build their apps or servers
# themselves, from the file.
BROWSER_FIXTURES = frozenset({"browser"})
INTEGRATION_FIXTURES = frozenset(
    {"app", "any_db_app", "client", "runner", "pg_database_url", "demo_database", "live_server"}
)


# A test file that imports what builds apps, servers or clients is integration throughout;
# one that imports Playwright itself is browser throughout.
INTEGRATION_IMPORTS = frozenset(
    {
        "make_app",
        "create_app",
        "LiveServer",
        "socketio",
        "subprocess",
        "postgres_available",
        "redis_available",
        "bench",  # the benchmarks start their own servers
    }
)
BROWSER_IMPORTS = frozenset({"sync_playwright", "playwright"})
_imports: dict[Path, set[str]] = {}


def _imported(path: Path) -> set[str]:
    """Every name and module a test file imports (``from a.b import c`` gives a, a.b, c)."""
    if path not in _imports:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                parts = (node.module or "").split(".")
                names |= {".".join(parts[: i + 1]) for i in range(len(parts))}
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    names |= {".".join(parts[: i + 1]) for i in range(len(parts))}
        _imports[path] = names
    return _imports[path]


def tier_of(item: pytest.Item) -> str:
    fixtures = set(getattr(item, "fixturenames", ()))
    path = Path(item.path)
    if fixtures & BROWSER_FIXTURES or _imported(path) & BROWSER_IMPORTS:
        return "browser"
    if fixtures & INTEGRATION_FIXTURES or _imported(path) & INTEGRATION_IMPORTS:
        return "integration"
    return "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(item)))


class UnitTestLeftItsTier(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _unit_tests_stay_unit(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """A unit test that opens a network connection or starts a process fails: it belongs to
    the integration tier (add its fixture or file above)."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return

    def refuse(*_args, **_kwargs):
        raise UnitTestLeftItsTier(f"{request.node.nodeid} is a unit test: no socket, no process")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    yield
