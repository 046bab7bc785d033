"""gunicorn settings for one server process (docs/deployment.md).

    gunicorn -c deploy/gunicorn.conf.py app:app            # listens on $PORT (default 5000)

Flask-SocketIO needs ONE worker per gunicorn process: gunicorn's own balancing across
workers is not sticky, and a polling Socket.IO client must reach the same process on every
request. To use more cores, start several gunicorn processes on several ports, put nginx in
front (``deploy/nginx.conf.template``: sticky by the phone's device cookie) and give
them the same ``SOCKETIO_MESSAGE_QUEUE`` and ``DATABASE_URL``.
"""

import os
import resource

# The database, the exports and every file the server writes: this user's only.
umask = 0o077
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
worker_class = "gevent"  # websockets through simple-websocket (installed with the app)
workers = 1
# gevent's default is 1,000 simultaneous connections per worker: a hall holds more phones
# (each keeps one websocket open), plus the projector, the consoles and page loads.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))
# Connections waiting to be accepted: a hall reconnecting at once opens thousands in a
# second (gunicorn's default, said here because `python app.py` uses the same).
backlog = int(os.environ.get("LISTEN_BACKLOG", "2048"))
# Websockets live for hours; gunicorn's timeout only watches the worker's heartbeat.
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
errorlog = "-"
# Behind nginx on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def _bound_hosts(binds):
    """The hosts of gunicorn's bind addresses (a unix socket is reachable from here only)."""
    for address in binds:
        if address.startswith(("unix:", "fd://")):
            continue
        if address.startswith("["):  # [::1]:5000
            yield address[1:].split("]", 1)[0]
        else:  # 0.0.0.0:5000, localhost, or a bare IPv6 address
            yield address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def on_starting(server):
    """Refuse a weak key on an exposed address; every open websocket is a file descriptor:
    raise the soft limit to the hard one."""
    from deliberation.keys import serving_refusal

    refusal = serving_refusal(_bound_hosts(server.cfg.bind), os.environ)
    if refusal:
        server.log.error(refusal)
        raise SystemExit(1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < worker_connections + 100:
        server.log.warning(
            "file-descriptor limit %s is below worker_connections %s: raise LimitNOFILE / "
            "ulimit -n (docs/deployment.md)",
            soft,
            worker_connections,
        )


def post_worker_init(worker):
    """Refuse to serve a damaged or unmigrated database (exit 3 halts gunicorn: "Worker
    failed to boot"); full garbage collections between votes (deliberation/live/gc_pacing)."""
    from deliberation import operations
    from deliberation.extensions import db
    from deliberation.live import gc_pacing

    with worker.wsgi.app_context():
        problem = operations.startup_problem(db.engine)
        for warning in operations.startup_warnings(db.engine):
            worker.log.warning(warning)
    if problem:
        worker.log.error("Not serving: %s", problem)
        raise SystemExit(3)

    gc_pacing.install()
