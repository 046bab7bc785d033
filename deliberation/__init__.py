"""A consensus-conference deliberation tool."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from . import headers, keys, operations
from .assets import inline_css, static_url
from .database import configure_engine
from .extensions import babel, compress, csrf, db, limiter, login_manager, migrate, socketio
from .inputs import GuardedJSONProvider
from .models import PROPOSAL_TEXT_MAX
from .signing import SignedCookieSessions

ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> str:
    # Commands and background work (demo loading, exports) have no request: use the default.
    if not has_request_context():
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")
    chosen = session.get("lang")
    if chosen in ("fr", "en"):
        return chosen
    return request.accept_languages.best_match(["fr", "en"]) or "fr"


def lazy_current_user() -> dict:
    """``current_user`` for the templates: Flask-Login's proxy, the user loaded only when a
    template reads it."""
    return {"current_user": current_user}


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        # INSTANCE_PATH: the instance's private files elsewhere than instance/ beside the
        # code (a read-only install, or the test suite keeping away from a developer's).
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config_module.from_environment(app.instance_path, str(ROOT)))
    if test_config:
        app.config.from_mapping(test_config)
    # The pool that suits the database in use (a test may give another than the environment's).
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        config_module.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]),
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = keys.instance_secret_key(app.instance_path)

    # Every JSON body read by a view goes through the checks of deliberation/inputs.py.
    app.json = GuardedJSONProvider(app)
    app.session_interface = SignedCookieSessions()
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(operations.MIGRATIONS_DIR), render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale)
    # Templates get the lazy ``current_user`` proxy, not Flask-Login's processor that loads
    # the user for every page drawn: a phone's page never asks who is signed in, and that
    # load would cost each page a session check (and a phone's second page a new cookie).
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lazy_current_user)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    # The web layers (live, views, cli) are imported by the factory, not by the package: a
    # process that only needs the rules or the tally (the export worker's builders, the
    # fast tests, the benchmarks) imports ``deliberation.tally`` without loading them.
    # Imported BEFORE init_app: handlers declared while no server exists are kept by the
    # SocketIO object and attached to every server init_app creates (one per app, in tests);
    # declared after, they would be attached to the first app's server only.
    from .live import handlers, proposals  # noqa: F401  (register the Socket.IO handlers)
    from .live.footprint import keep_connections_small
    from .live.guard import TRANSPORT_MAX_BYTES, GuardedPacket
    from .live.manager import client_manager
    from .live.websocket import compress_each_message_alone, harden_transport

    message_queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    channel = app.config.get("SOCKETIO_CHANNEL", "flask-socketio")
    # Indexed rooms: a disconnect costs the socket's rooms, not every room (hall reconnects).
    # None (a non-Redis queue): Flask-SocketIO builds its own manager from message_queue.
    manager = client_manager(message_queue, channel)
    socketio.init_app(
        app,
        async_mode="gevent",
        message_queue=message_queue,
        channel=channel,
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),  # None: same origin only
        # Every packet is checked before any handler sees it (live/guard.py).
        serializer=GuardedPacket,
        max_http_buffer_size=TRANSPORT_MAX_BYTES,
        **({"client_manager": manager} if manager is not None else {}),
    )
    compress_each_message_alone()  # no zlib objects kept per websocket (memory per phone)
    harden_transport()  # whole frames on slow readers, no traceback on garbage packets
    keep_connections_small()  # fewer greenlets and records per websocket (memory per phone)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Outside Socket.IO's middleware, so sockets see the client's address too. Only the
        # address and the scheme: nginx sets Host itself, and a forwarded host or port from
        # a client would end up in the QR code's join address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    headers.install(app)

    from . import cli, views
    from .services.live.admission import check_limits

    check_limits(app.config)

    app.jinja_env.globals["get_locale"] = get_locale
    # The bound the phone's form shows is the one the service applies.
    app.jinja_env.globals["PROPOSAL_TEXT_MAX"] = PROPOSAL_TEXT_MAX
    app.jinja_env.globals["inline_css"] = inline_css
    app.jinja_env.globals["static_url"] = static_url
    views.register(app)
    cli.register(app)
    return app
