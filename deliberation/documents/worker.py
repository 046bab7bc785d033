"""``python -m deliberation.documents.worker EXPORTS_DIR JOB_ID``: run one export job.

Started by :func:`deliberation.documents.jobs.start_job` in its own process (never inside the
web server's event loop). The database comes from ``DATABASE_URL`` in the environment.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m deliberation.documents.worker EXPORTS_DIR JOB_ID", file=sys.stderr)
        return 2
    exports_dir, job_id = argv
    from deliberation import create_app

    from .jobs import run_job

    app = create_app({"EXPORTS_DIR": exports_dir, "SOCKETIO_MESSAGE_QUEUE": None})
    with app.app_context():
        job = run_job(exports_dir, job_id)
    return 0 if job.state == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
