"""``python -m deliberation.documents.worker EXPORTS_DIR SLOT [FD]``: run the waiting jobs.

Started by :func:`deliberation.documents.queue.dispatch` in its own process (never inside
the web server's event loop), on one of the queue's slots — ``FD`` is the slot's lock, taken
by the server and inherited — it runs jobs until none waits, then exits. The database comes
from ``DATABASE_URL`` in the environment.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or not all(number.isdigit() for number in argv[1:]):
        print(
            "usage: python -m deliberation.documents.worker EXPORTS_DIR SLOT [FD]", file=sys.stderr
        )
        return 2
    exports_dir, slot = argv[0], int(argv[1])
    held = os.fdopen(int(argv[2]), "a+") if len(argv) == 3 else None
    from deliberation import create_app

    from .jobs import run_job
    from .queue import drain

    app = create_app({"EXPORTS_DIR": exports_dir, "SOCKETIO_MESSAGE_QUEUE": None})

    def run(job_id: str) -> None:
        with app.app_context():
            run_job(exports_dir, job_id, pdf=bool(app.config.get("EXPORT_PDF")))

    drain(exports_dir, slot, run, held)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
