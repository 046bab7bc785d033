"""Entry point: ``flask --app app <command>`` for commands, ``python app.py`` to serve."""

if __name__ == "__main__":
    # Serving runs on gevent: patch the standard library before anything else is imported.
    from gevent import monkey

    monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402

# The database, its journal, the exports and every file the instance writes are this
# user's only (0600 files, 0700 directories): they hold votes, names and e-mail addresses.
os.umask(0o077)

from deliberation import create_app, operations  # noqa: E402
from deliberation.extensions import db, socketio  # noqa: E402
from deliberation.keys import KeyFileError, serving_refusal  # noqa: E402

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    # Before anything listens: a server others can reach never starts on a weak key.
    refusal = serving_refusal([host], os.environ)
    if refusal:
        sys.exit(refusal)

try:
    app = create_app()
except KeyFileError as error:
    sys.exit(str(error))

if __name__ == "__main__":
    from deliberation.live import gc_pacing

    with app.app_context():
        # A damaged or unmigrated database refuses to serve here, with what to do, rather
        # than answering every page with an error.
        problem = operations.startup_problem(db.engine)
        for warning in operations.startup_warnings(db.engine):
            print(f"Warning: {warning}", file=sys.stderr, flush=True)
    if problem:
        sys.exit(f"Not serving: {problem}")
    gc_pacing.install()  # full garbage collections between votes (see the module)
    print(f"Serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)
    # A hall that reconnects at once (the wifi back, a host lost behind nginx) opens
    # thousands of connections within a second; gevent listens with a queue of 128, and
    # the kernel drops the connections beyond it (clients retry 1 s, 3 s later). gunicorn's
    # default, 2048 (capped by net.core.somaxconn).
    backlog = int(os.environ.get("LISTEN_BACKLOG", "2048"))
    socketio.run(
        app, host=host, port=port, log_output=bool(os.environ.get("ACCESS_LOG")), backlog=backlog
    )
