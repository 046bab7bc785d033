"""Configuration read from the environment; tests pass overrides to ``create_app``."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

# Remember-me lasts at most this long; logging out or changing one's password ends it sooner.
REMEMBER_DAYS = 30


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs and bare postgresql:// both go through psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return "sqlite:///" + str(Path(instance_path) / "deliberation.sqlite")


def engine_options(url: str) -> dict:
    # Under gevent one process runs hundreds of handlers at once: a larger pool than
    # SQLAlchemy's 5 + 10, and a wait short enough to answer "server busy" rather than hang.
    if url.startswith("postgresql"):
        return {"pool_size": 20, "max_overflow": 20, "pool_timeout": 10}
    # SQLite: a request holds its connection until it ends, writing its answer included, so
    # under a crowd more than SQLAlchemy's 5 are out at once; each connection beyond the
    # pool was opened (its pragmas run) and closed again per request: 5 % of the server's
    # CPU for 1,000 phones without JavaScript voting (docs/benchmarks.md). Kept instead.
    # (An in-memory database has a pool of its own, one connection per thread.)
    if ":memory:" in url or url.rstrip("/") == "sqlite:":
        return {}
    return {"pool_size": 16, "max_overflow": 32}


def _rate_limit_storage(message_queue: str | None) -> str:
    # Several processes must count the same attempts: share the message queue's Redis.
    if message_queue and message_queue.startswith(("redis://", "rediss://", "unix://")):
        return message_queue
    return "memory://"


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in ("1", "true", "yes", "on")


def _count(name: str) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() else 0


def _days(raw: str | None, default: int) -> int:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


# Every join request from one address: high, because a venue's phones share one address
# behind NAT. New places in one session per minute: a hall of 2,000 arriving at once is in
# within the minute, a flood is capped. New places one phone (device cookie) may take in one
# open session. Wrong ticket codes per phone and per address.
JOIN_LIMITS = {
    "JOIN_LIMIT_PER_ADDRESS": "6000 per 10 minutes",
    "JOIN_LIMIT_PER_SESSION": "3000 per minute",
    "JOIN_LIMIT_PER_DEVICE": "3 per hour",
    "TICKET_FAILURES_PER_DEVICE": "10 per 10 minutes",
    "TICKET_FAILURES_PER_ADDRESS": "300 per 10 minutes",
}

# The public pages' forms, per address (a family or an office behind one network, not a
# script): readers' comments and reports, signatures and the challenges they solve.
PUBLIC_LIMITS = {
    "COMMENT_LIMIT": "5 per minute;30 per hour",
    "REPORT_LIMIT": "10 per minute;60 per hour",
    "SUPPORT_LIMIT": "20 per minute;200 per hour",
    "SUPPORT_CHALLENGE_LIMIT": "60 per minute",
    # Registrations sent or changed (a script filling an event's places is cut off).
    "REGISTRATION_LIMIT": "20 per minute;200 per hour",
}


def from_environment(instance_path: str, root_path: str) -> dict:
    url = _database_url(instance_path)
    message_queue = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    # How many reverse proxies stand in front (nginx: 1). Their X-Forwarded-For and
    # X-Forwarded-Proto are then believed (werkzeug's ProxyFix); never without a proxy, or
    # any client could pick its own address and dodge the throttles.
    trusted_proxies = _count("TRUSTED_PROXIES")
    # A proxy terminates HTTPS (docs/deployment.md): cookies travel over TLS only. A LAN
    # served over plain HTTP keeps them usable.
    secure_cookies = _flag("COOKIE_SECURE", default=trusted_proxies > 0)
    return {
        # Brotli (what Safari, so every iPhone, accepts) at quality 2, not Flask-Compress's 4:
        # the phone page in 0.27 ms instead of 0.50 ms of CPU, 5 % more bytes (12.6 KB
        # instead of 11.9 KB; docs/benchmarks.md, "The no-JavaScript form voter").
        "COMPRESS_BR_LEVEL": 2,
        # Zstandard (Chromium's, so most Android phones') at level 1, not 3: its smaller
        # tables stay in the CPU's cache between two pages, 0.13 instead of 0.16 ms a phone
        # page drawn in a request, 5 % more bytes (13.2 instead of 12.5 KB; docs/benchmarks.md,
        # "The no-JavaScript form voter").
        "COMPRESS_ZSTD_LEVEL": 1,
        # None: create_app reads (or makes) instance/secret_key; see deliberation/keys.py.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "TRUSTED_PROXIES": trusted_proxies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DURATION": timedelta(days=REMEMBER_DAYS),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        # Throttles ("limits" notation). Log-in attempts count whether they succeed or not
        # (a burst of parallel guesses cannot slip between a check and a count); unknown
        # join or projector codes count only when the code matches no session, so a hall
        # behind one NAT address never trips it by joining (docs/security.md).
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get(
            "LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;20 per hour"
        ),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get(
            "LOGIN_LIMIT_PER_ADDRESS", "10 per minute;60 per hour"
        ),
        "CODE_GUESS_LIMIT": os.environ.get("CODE_GUESS_LIMIT", "120 per minute;1000 per hour"),
        "SQLALCHEMY_DATABASE_URI": url,
        "SOCKETIO_MESSAGE_QUEUE": message_queue,
        "RATELIMIT_STORAGE_URI": _rate_limit_storage(message_queue),
        # Deployments (or test runs) sharing one Redis count apart.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "deliberation"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Deployments (or test runs) sharing one Redis keep apart by channel name.
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL", "flask-socketio"),
        "EXPORTS_DIR": os.environ.get("EXPORTS_DIR", str(Path(root_path) / "exports")),
        # /healthz fails below this much free disk where documents are written (0: default).
        "HEALTH_MIN_FREE_MB": _count("HEALTH_MIN_FREE_MB"),
        # Worker processes building documents at once (each ~40 MB); the others wait.
        "EXPORT_WORKERS": int(os.environ.get("EXPORT_WORKERS", "2")),
        # A PDF beside each document, by LibreOffice headless when installed (documents/pdf.py).
        "EXPORT_PDF": _flag("EXPORT_PDF", True),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LANGUAGE", "fr"),
        "LANGUAGES": ("fr", "en"),
        # Seconds; at most 4 tally pushes per second to projector and facilitator rooms.
        "TALLY_PUSH_INTERVAL": 0.25,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Participants' proposals: at most this many per participant per minute.
        "PROPOSAL_RATE_PER_MINUTE": 5,
        # Hostile or broken clients (docs/security.md): each socket's token bucket (tokens
        # per second, bucket size), the refusals (since its bucket was last full) after which
        # it is disconnected, and the sockets one address may hold on one process (a venue's
        # NAT included).
        "SOCKET_RATE": float(os.environ.get("SOCKET_RATE", "10")),
        "SOCKET_BURST": float(os.environ.get("SOCKET_BURST", "30")),
        "SOCKET_FLOOD_DISCONNECT": int(os.environ.get("SOCKET_FLOOD_DISCONNECT", "100")),
        "SOCKETS_PER_ADDRESS": int(os.environ.get("SOCKETS_PER_ADDRESS", "5000")),
        # How long an invitation link to join a process works (docs/deployment.md).
        "INVITATION_DAYS": _days(os.environ.get("INVITATION_DAYS"), default=7),
        # E-mails: registration confirmations, and public signatures confirmed by e-mail
        # (SUPPORT_EMAIL_CONFIRMATION) — only when SMTP_HOST is set (docs/registration.md,
        # docs/publishing.md).
        "SUPPORT_EMAIL_CONFIRMATION": _flag("SUPPORT_EMAIL_CONFIRMATION", True),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25") or 25),
        "SMTP_FROM": os.environ.get("SMTP_FROM", ""),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS", False),
        # Join throttles (Flask-Limiter notation; docs/deployment.md, docs/security.md).
        **{name: os.environ.get(name, default) for name, default in JOIN_LIMITS.items()},
        **{name: os.environ.get(name, default) for name, default in PUBLIC_LIMITS.items()},
    }
