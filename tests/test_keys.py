"""The secret key: where it comes from, what a real one is, the refusal to serve beyond this
computer without one, and cookies forged with any other key (the old hard-coded one among
them) refused on SQLite and PostgreSQL."""

from __future__ import annotations

import hmac
import os
import socket
import stat
import subprocess
import sys
import time
from hashlib import sha512

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from deliberation import create_app, keys
from deliberation.extensions import db
from deliberation.services.people.accounts import create_or_update_organizer
from tests.conftest import ROOT, free_port, make_app

# The fallback this project once shipped, built here so that no file holds it whole.
OLD_PUBLIC_KEY = "dev-only-" + "change-me"
REAL_KEY = "3f9c1a7e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a"
PASSWORD = "a long organiser password"


@pytest.mark.parametrize(
    ("key", "real"),
    [
        (None, False),
        ("", False),
        (OLD_PUBLIC_KEY, False),
        ("short-but-random-9f3a", False),
        ("x" * 64, False),  # long, not random
        ("please-set-a-long-secret-key-here-before-going-live", False),  # a placeholder
        (REAL_KEY, True),
    ],
)
def test_what_a_real_key_is(key, real):
    assert (keys.key_problem(key) is None) is real


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("", False),
        ("::", False),
        ("192.168.1.20", False),
        ("assises.example.org", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert keys.is_loopback(host) is loopback


def test_serving_refusal_rules():
    assert keys.serving_refusal(["127.0.0.1"], {}) is None  # the instance key will do
    refusal = keys.serving_refusal(["0.0.0.0"], {})
    assert refusal and "SECRET_KEY" in refusal and "secrets.token_hex" in refusal
    assert keys.serving_refusal(["0.0.0.0"], {"SECRET_KEY": OLD_PUBLIC_KEY})
    assert keys.serving_refusal(["0.0.0.0"], {"SECRET_KEY": REAL_KEY}) is None
    # On loopback behind a reverse proxy, the server is reachable all the same.
    assert keys.serving_refusal(["127.0.0.1"], {"TRUSTED_PROXIES": "1"})
    assert (
        keys.serving_refusal(["127.0.0.1"], {"TRUSTED_PROXIES": "1", "SECRET_KEY": REAL_KEY})
        is None
    )


def test_instance_key_is_made_once_private_and_kept(tmp_path):
    first = keys.instance_secret_key(str(tmp_path))
    path = tmp_path / keys.KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64 and keys.key_problem(first) is None
    assert keys.instance_secret_key(str(tmp_path)) == first
    assert keys.instance_secret_key(str(tmp_path / "other")) != first  # drawn, not fixed


def test_instance_key_readable_by_others_or_damaged_is_refused(tmp_path):
    keys.instance_secret_key(str(tmp_path))
    path = tmp_path / keys.KEY_FILE_NAME
    path.chmod(0o644)
    with pytest.raises(keys.KeyFileError, match="chmod 600"):
        keys.instance_secret_key(str(tmp_path))
    path.chmod(0o600)
    path.write_text("short\n")
    with pytest.raises(keys.KeyFileError, match="Delete the file"):
        keys.instance_secret_key(str(tmp_path))


def test_app_without_a_key_in_its_environment_uses_the_instance_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/k.db"})
    assert app.config["SECRET_KEY"] == (tmp_path / keys.KEY_FILE_NAME).read_text().strip()
    monkeypatch.setenv("SECRET_KEY", REAL_KEY)
    assert create_app({"TESTING": True}).config["SECRET_KEY"] == REAL_KEY


def _environment(tmp_path, port: int, **env: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    environment.update(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path}/serve.sqlite",
        INSTANCE_PATH=str(tmp_path / "instance"),
        **env,
    )
    return environment


def _serve(tmp_path, **env: str) -> subprocess.Popen:
    port = free_port()
    environment = _environment(tmp_path, port, **env)
    process = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.port = port  # type: ignore[attr-defined]
    return process


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(
    "env",
    [
        {"HOST": "0.0.0.0"},
        {"HOST": "0.0.0.0", "SECRET_KEY": OLD_PUBLIC_KEY},
        {"HOST": "0.0.0.0", "SECRET_KEY": "short"},
        {"HOST": "127.0.0.1", "TRUSTED_PROXIES": "1"},
    ],
    ids=["no key", "the old public key", "a short key", "loopback behind a proxy"],
)
def test_server_refuses_to_start_beyond_loopback_without_a_real_key(tmp_path, env):
    process = _serve(tmp_path, **env)
    try:
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0
    assert "Refusing to serve" in err and "SECRET_KEY" in err
    assert "Traceback" not in err
    assert not _listening(process.port)


def test_server_starts_beyond_loopback_with_a_real_key_and_on_loopback_without(tmp_path):
    # A migrated database, as `make run` leaves it (without one the server refuses to start).
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=_environment(tmp_path, 0),
        check=True,
        capture_output=True,
        timeout=120,
    )
    for env in ({"HOST": "0.0.0.0", "SECRET_KEY": REAL_KEY}, {"HOST": "127.0.0.1"}):
        process = _serve(tmp_path, **env)
        try:
            deadline = time.monotonic() + 30
            while not _listening(process.port):
                assert process.poll() is None, process.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        finally:
            process.terminate()
            process.wait(timeout=10)
    # The loopback run had no key in its environment: it made the instance's own.
    assert (
        keys.key_problem((tmp_path / "instance" / keys.KEY_FILE_NAME).read_text().strip()) is None
    )


# -- forged cookies -----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def keyless_app(request, tmp_path, monkeypatch):
    """An app configured as ``make run`` leaves it: no key anywhere but its instance file."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    url = request.getfixturevalue("pg_database_url") if request.param == "postgresql" else None
    app = make_app(tmp_path, url, SECRET_KEY=None)
    with app.app_context():
        organizer, _created = create_or_update_organizer("orga@example.org", PASSWORD)
        login_id = organizer.get_id()
    app.config["login_id"] = login_id
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _session_cookie(key: str, login_id: str) -> str:
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": login_id, "_fresh": True})


def _remember_cookie(key: str, login_id: str) -> str:
    digest = hmac.new(key.encode(), login_id.encode(), sha512).hexdigest()
    return f"{login_id}|{digest}"


def test_forged_session_and_remember_cookies_are_refused(keyless_app):
    app = keyless_app
    login_id = app.config["login_id"]
    assert app.config["SECRET_KEY"] != OLD_PUBLIC_KEY
    for key in (OLD_PUBLIC_KEY, REAL_KEY):  # the old public key, and any key but ours
        for name, value in (
            ("session", _session_cookie(key, login_id)),
            ("remember_token", _remember_cookie(key, login_id)),
            ("session", _session_cookie(key, login_id.split(":")[0])),  # the old id format
        ):
            client = app.test_client()
            client.set_cookie(name, value)
            response = client.get("/organize/")
            assert response.status_code == 302 and "/login" in response.location, (key, name)
    # The same cookies made with the app's own key are accepted: the refusals above are
    # the signatures', not a page closed to everybody.
    own = app.config["SECRET_KEY"]
    for name, value in (
        ("session", _session_cookie(own, login_id)),
        ("remember_token", _remember_cookie(own, login_id)),
    ):
        client = app.test_client()
        client.set_cookie(name, value)
        assert client.get("/organize/").status_code == 200, name
