import os
from pathlib import Path

import gevent

from deliberation import create_app
from deliberation.extensions import db, socketio
from tests.conftest import ROOT


def test_config_from_test_config(app):
    assert app.testing
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_default_config_uses_instance_sqlite(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    expected = Path(os.environ["INSTANCE_PATH"]) / "deliberation.sqlite"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected}"
    assert not app.testing


def test_instance_folder_is_beside_the_code_by_default(monkeypatch):
    monkeypatch.delenv("INSTANCE_PATH")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "k" * 16 + "0123456789abcdef")  # no key file made
    app = create_app()
    assert app.instance_path == str(ROOT / "instance")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/deliberation.sqlite")


def test_database_url_postgres_goes_through_psycopg(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_socketio_runs_on_gevent(app):
    """Background work (the tally push loop) runs as greenlets of the gevent hub, which
    ``python app.py`` monkey-patches first; threads would not cooperate with it."""
    task = socketio.start_background_task(lambda: "pushed")
    assert isinstance(task, gevent.Greenlet)
    assert task.get(timeout=5) == "pushed"
    assert socketio.server.eio.async_mode == "gevent"  # the Engine.IO server too


def test_sqlite_pragmas(app):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_home_page(client):
    response = client.get("/")
    assert response.status_code == 200


def test_phone_assets_go_out_compressed(client):
    """Venue wifi: the Socket.IO client and the phone script are compressed on the wire."""
    for path in ("/static/vendor/socket.io/socket.io.min.js", "/static/js/phone.js"):
        response = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == "deflate"
        plain = client.get(path, headers={"Accept-Encoding": "identity"})
        assert len(response.get_data()) < len(plain.get_data()) / 2


def test_socket_connections_from_another_site_are_refused(client):
    """An organiser's login cookie must not open a socket for a page on another site."""
    path = "/socket.io/?EIO=4&transport=polling"
    foreign = client.get(path, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 400
    same = client.get(path, headers={"Origin": "http://localhost"})
    assert same.status_code == 200


def test_sqlite_keeps_its_connections_under_a_crowd(app):
    """A crowd of requests holds more connections at once than SQLAlchemy's default pool
    keeps (5): the ones beyond it were opened (their pragmas run) and closed again for
    every request. Sixteen held at once are all kept for the next crowd."""
    from sqlalchemy import event

    opened = []
    with app.app_context():
        event.listen(db.engine, "connect", lambda *_args: opened.append(1))
        for crowd in ("first", "second"):
            if crowd == "second":
                opened.clear()
            held = [db.engine.connect() for _ in range(16)]
            for connection in held:
                connection.exec_driver_sql("SELECT 1")
                connection.close()
    assert opened == []  # the second crowd opened nothing
