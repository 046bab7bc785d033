"""Public support under a burst (issue 16): 500 signatures in 10 s while a live session of
the same server votes.

    python -m bench.support [--signatures 500] [--seconds 10]

The server as ``make run`` serves it (``python app.py``, gevent, SQLite). A published
process with three recommendations; each signer is a browser of its own (its cookies, the
CSRF token read from the page) that asks for a challenge and solves its proof of work
before the burst (solving is the signer's cost, not the server's: done beforehand, on every
core), then the signatures are sent, evenly spread over ``--seconds``, each to one of the
recommendations or the synthesis. Meanwhile five phones of a live session vote and sync
every 400 ms (bench.hostile's witnesses). Then every signer sends the same signature again
from the same browser (it must be counted once), and the database is read back.

Figures: signatures accepted, lost (no private link), doubled (more than one counted per
signer), the signature's response time (p50, p99), the witnesses' acknowledgement times
(target p99 < 250 ms), the load average. Prints one JSON document (docs/benchmarks.md,
"Public support"); exits 1 when a target is missed. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .hostile import WITNESSES, Witness
from .live import Screens, machine, percentile
from .live_servers import Deployment, bulk_join, set_up_session

TARGET_P99_MS = 250
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def publish_with_recommendations(app: Any) -> list[int]:
    """The bench process gets a field, a finding and three recommendations, published."""
    from deliberation.extensions import db
    from deliberation.models import Field, Finding, Process, Recommendation

    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="bench-hall"))
        field_ = Field(process=process, title="Accompaniment", position=0)
        finding = Finding(field=field_, text="People need time.", position=0)
        recommendations = [
            Recommendation(finding=finding, text=f"Recommendation {n}", position=n)
            for n in range(3)
        ]
        db.session.add_all([field_, finding, *recommendations])
        process.synthesis_published = True
        db.session.commit()
        ids = [recommendation.id for recommendation in recommendations]
        db.session.remove()
    return ids


def solve(challenge: dict[str, Any]) -> dict[str, Any]:
    """What the page's script does: the number whose SHA-256 with the salt is the challenge."""
    salt, target = challenge["salt"], challenge["challenge"]
    for number in range(challenge["maxnumber"] + 1):
        if hashlib.sha256(f"{salt}{number}".encode()).hexdigest() == target:
            return {**challenge, "number": number}
    raise RuntimeError("challenge without a solution")


class Signer:
    def __init__(self, base: str, index: int, target: str) -> None:
        self.base = base
        self.index = index
        self.target = target
        self.http: Any = None
        self.csrf = ""
        self.challenge: dict[str, Any] = {}
        self.proof: dict[str, Any] = {}

    async def prepare(self) -> None:
        import aiohttp

        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self.http.get(f"{self.base}/p/bench-hall") as page:
            self.csrf = CSRF.search(await page.text()).group(1)
        async with self.http.get(f"{self.base}/p/bench-hall/support/challenge") as answer:
            self.challenge = await answer.json()

    def form(self) -> dict[str, str]:
        return {
            "csrf_token": self.csrf,
            "recommendation_id": self.target,
            "name": f"Signer {self.index}",
            "organisation": f"Organisation {self.index % 40}",
            "group": ("service_user", "social_worker", "employer", "")[self.index % 4],
            "comment": "Oui." if self.index % 5 == 0 else "",
            "show_name": "1" if self.index % 2 else "",
            "proof": json.dumps(self.proof),
        }

    async def sign(self) -> tuple[float, str]:
        started = time.perf_counter()
        async with self.http.post(
            f"{self.base}/p/bench-hall/support", data=self.form(), allow_redirects=False
        ) as answer:
            location = answer.headers.get("Location", "")
            status = answer.status
        elapsed = (time.perf_counter() - started) * 1000
        if status == 302 and "/support/" in location and "#" not in location:
            return elapsed, "new"
        return elapsed, f"{status} {location}"

    async def sign_again(self) -> str:
        """The same browser sends the same form again, with a fresh proof."""
        async with self.http.get(f"{self.base}/p/bench-hall/support/challenge") as answer:
            self.proof = solve(await answer.json())
        async with self.http.post(
            f"{self.base}/p/bench-hall/support", data=self.form(), allow_redirects=False
        ) as answer:
            return answer.headers.get("Location", "")


async def run(signatures: int, seconds: float) -> dict[str, Any]:
    deployment = Deployment(processes=1)
    deployment.create_database()
    # Every signer comes from 127.0.0.1: the per-address ceilings are not what is measured.
    deployment.env["SUPPORT_LIMIT"] = "1000000 per minute"
    deployment.env["SUPPORT_CHALLENGE_LIMIT"] = "1000000 per minute"
    url = deployment.start()[0]
    app = deployment.app()
    results: dict[str, Any] = {"machine_before": machine()}
    screens = None
    try:
        session = set_up_session(app)
        recommendation_ids = publish_with_recommendations(app)
        targets = ["", *(str(rid) for rid in recommendation_ids)]
        tokens = bulk_join(app, session, WITNESSES)
        screens = Screens(url, session)
        await screens.start()
        opened = await screens.action(
            "open_poll", {"item_id": session["item_id"], "method": "yes_no"}
        )
        witnesses = [Witness(url, token, opened["poll"]["id"]) for token in tokens]

        signers = [Signer(url, i, targets[i % len(targets)]) for i in range(signatures)]
        for start in range(0, signatures, 50):
            await asyncio.gather(*(signer.prepare() for signer in signers[start : start + 50]))
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            proofs = list(pool.map(solve, [signer.challenge for signer in signers], chunksize=20))
        for signer, proof in zip(signers, proofs, strict=True):
            signer.proof = proof
        # The phones connect once the proofs are solved (solving holds every core).
        for witness in witnesses:
            await witness.dial()

        async def burst() -> list[tuple[float, str]]:
            gap = seconds / signatures
            tasks = []
            for signer in signers:
                tasks.append(asyncio.create_task(signer.sign()))
                await asyncio.sleep(gap)
            return await asyncio.gather(*tasks)

        started = time.monotonic()
        outcome, _ = await asyncio.gather(
            burst(), asyncio.gather(*(witness.run(seconds + 1) for witness in witnesses))
        )
        burst_s = time.monotonic() - started
        again = await asyncio.gather(*(signer.sign_again() for signer in signers[:100]))

        from deliberation.extensions import db
        from deliberation.models import Support

        with app.app_context():
            rows = db.session.execute(
                db.select(Support.name, Support.recommendation_id).where(
                    Support.withdrawn_at.is_(None)
                )
            ).all()
            db.session.remove()
        per_signer: dict[str, int] = {}
        for name, _target in rows:
            per_signer[name] = per_signer.get(name, 0) + 1
        latencies = [ms for witness in witnesses for ms in witness.latencies]
        accepted = sum(1 for _ms, result in outcome if result == "new")
        results.update(
            {
                "signatures_sent": signatures,
                "burst_seconds": round(burst_s, 2),
                "accepted": accepted,
                "refused": [result for _ms, result in outcome if result != "new"][:5],
                "counted_in_database": len(rows),
                "lost": signatures - len(per_signer),
                "doubled": sum(1 for count in per_signer.values() if count > 1),
                "sent_again_counted_once": all("#" in location for location in again),
                "sign_p50_ms": percentile([ms for ms, _ in outcome], 0.5),
                "sign_p99_ms": percentile([ms for ms, _ in outcome], 0.99),
                "witness_requests": len(latencies),
                "witness_ack_p50_ms": percentile(latencies, 0.5),
                "witness_ack_p99_ms": percentile(latencies, 0.99),
                "witness_lost": sum(witness.lost for witness in witnesses),
                "witness_refused": [ack for witness in witnesses for ack in witness.refused][:5],
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
        for witness in witnesses:
            await witness.client.disconnect()
        for signer in signers:
            await signer.http.close()
    finally:
        if screens is not None:
            await screens.stop()
        deployment.stop()
        deployment.drop_database()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.support", description=__doc__)
    parser.add_argument("--signatures", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.signatures, args.seconds))
    print(json.dumps(results, indent=1))
    missed = (
        results["lost"]
        or results["doubled"]
        or not results["sent_again_counted_once"]
        or results["witness_lost"]
        or results["witness_refused"]
        or (results["witness_ack_p99_ms"] or 0) > TARGET_P99_MS
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
