"""Log-in timing benchmark: does the time of a refused log-in tell whether the account exists?

    python -m bench.login [--rounds 40]

Posts wrong passwords to ``/login`` (Flask's test client, a temporary SQLite database, the
throttles widened so that they do not answer first), alternating a known e-mail and unknown
ones, and prints JSON: the median and 90th percentile of each, and their ratio. Target: the
ratio of medians between 0.8 and 1.25 (before the dummy hash: about 6, issue 19).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

EMAIL, PASSWORD = "bench-login@example.org", "a long organiser password"


def measure(rounds: int) -> dict:
    from deliberation import create_app
    from deliberation.extensions import db
    from deliberation.services.people.accounts import create_or_update_organizer

    folder = Path(tempfile.mkdtemp(prefix="bench-login-"))
    os.environ.setdefault("INSTANCE_PATH", str(folder))
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench-login-" + os.urandom(16).hex(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
            "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
        }
    )
    with app.app_context():
        db.create_all()
        create_or_update_organizer(EMAIL, PASSWORD)
    client = app.test_client()
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    client.post("/login", data={"email": "warm-up@example.org", "password": "x" * 12})
    for index in range(rounds):
        for kind, email in (("known", EMAIL), ("unknown", f"nobody-{index}@example.org")):
            start = time.perf_counter()
            response = client.post("/login", data={"email": email, "password": "wrong guess!"})
            timings[kind].append(time.perf_counter() - start)
            assert response.status_code == 400, response.status_code
    figures = {
        kind: {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "p90_ms": round(statistics.quantiles(values, n=10)[-1] * 1000, 1),
        }
        for kind, values in timings.items()
    }
    ratio = figures["known"]["median_ms"] / figures["unknown"]["median_ms"]
    return {
        "rounds": rounds,
        **figures,
        "known_over_unknown": round(ratio, 2),
        "within_target": 0.8 <= ratio <= 1.25,
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    result = measure(parser.parse_args().rounds)
    print(json.dumps(result, indent=2))
    return 0 if result["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
