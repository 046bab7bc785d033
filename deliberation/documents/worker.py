"""``python -m deliberation.documents.worker EXPORTS_DIR SLOT``: run the waiting export jobs.

Started by :func:`deliberation.documents.queue.dispatch` in its own process (never inside
the web server's event loop), on one of the queue's slots; it runs jobs until none waits,
then exits. The database comes from ``DATABASE_URL`` in the environment.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m deliberation.documents.worker EXPORTS_DIR SLOT", file=sys.stderr)
        return 2
    exports_dir, slot = argv[0], int(argv[1])
    from deliberation import create_app

    from .jobs import run_job
    from .queue import drain

    app = create_app({"EXPORTS_DIR": exports_dir, "SOCKETIO_MESSAGE_QUEUE": None})

    def run(job_id: str) -> None:
        with app.app_context():
            run_job(exports_dir, job_id)

    drain(exports_dir, slot, run)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
