"""A phone on a bad network: join link → usable ballot, and « Envoyer » → confirmation.

    python -m bench.phone_network [--runs 3] [--profiles slow3g,4g]

Starts the server as a deployment does (``python app.py``, SQLite), sets up a French workshop
with a consensus vote open, and opens the join link (``/j/<CODE>``, the code in the URL, as
the QR code gives it) in headless Chromium (Playwright, 360×640, a fresh profile each run:
nothing cached) with the network and the CPU throttled through the DevTools protocol:
``Network.emulateNetworkConditions`` and ``Emulation.setCPUThrottlingRate`` (4×).

Profiles (Chrome DevTools' presets):

* ``slow3g``: 2,000 ms latency per request, 400 kbit/s down and up;
* ``4g`` (DevTools' "Fast 4G"): 165 ms latency, 9,000 kbit/s down, 1,500 kbit/s up.

Figures per profile (median and worst of the runs, ms):

* ``join_form_ms``: the join link opened → the « Rejoindre » button visible;
* ``ballot_ms``: the join link opened → the ballot usable (its answers visible: the page is
  a working form before its scripts run), the « Rejoindre » tap made by the script as soon
  as it could (no human time counted);
* ``vote_ms``: « Envoyer mon vote » tapped → « Votre vote est enregistré » shown, once the
  page is live (its socket connected). DevTools' throttling does not apply to websocket
  frames: this one is not slowed down by the profile;
* ``vote_http_ms``: the same while the socket cannot connect (its requests refused), the
  ballot going over HTTP (``POST /api/ballots``): the vote the slow network slows;
* ``vote_nojs_ms``: the same with JavaScript off (the form posted, the page answering).
* ``redirects``: redirects between the join link and the ballot.

Targets (issue 14): ballot < 6,000 ms on slow3g and < 3,000 ms on 4g; vote (live and over
HTTP) < 2,500 ms on slow3g. Progress on stderr, ONE JSON line on stdout (with the load
average); exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

from bench.live_servers import Deployment

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 640}
CPU_SLOWDOWN = 4
KBIT = 1000 / 8  # bytes per second in one kbit/s


PROFILES: dict[str, dict[str, float]] = {
    "slow3g": {"latency": 2000, "downloadThroughput": 400 * KBIT, "uploadThroughput": 400 * KBIT},
    "4g": {"latency": 165, "downloadThroughput": 9000 * KBIT, "uploadThroughput": 1500 * KBIT},
}
TARGETS = {
    ("slow3g", "ballot_ms"): 6000,
    ("4g", "ballot_ms"): 3000,
    ("slow3g", "vote_ms"): 2500,
    ("slow3g", "vote_http_ms"): 2500,
}
ITEM_TEXT = (
    "Les personnes accompagnées participent à la définition de leur parcours "
    "d’insertion, avec un référent unique qui les suit du premier entretien jusqu’à "
    "l’emploi durable, et peuvent demander à en changer."
)
TIMEOUT_MS = 60_000


def set_up(app: Any) -> str:
    """A French workshop (join code alone) with a consensus vote open on a free question."""
    from deliberation.extensions import db
    from deliberation.models import Process
    from deliberation.services.live import sessions, voting

    with app.app_context():
        process = Process(slug="bench-phone", title="Assises (bench)", language="fr")
        db.session.add(process)
        db.session.commit()
        session = sessions.create_session(process, "workshop", "Atelier champ 1 — Liège")
        item = sessions.add_agenda_item(session, "free", text=ITEM_TEXT)
        voting.open_poll(session, item, "consensus")
        code = session.join_code
        db.session.remove()
    return code


def throttled_page(browser: Any, profile: str, javascript: bool = True) -> Any:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        locale="fr-FR",
        java_script_enabled=javascript,
    )
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **PROFILES[profile]})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return page


# Timed in the page: from the form's submit event to the confirmation drawn (a mutation of
# #vote-status), so that the time Playwright takes to reach a CPU-throttled page is not
# counted. The milliseconds land in window.benchVoteMs.
TIME_THE_VOTE = """() => {
  const status = document.getElementById("vote-status");
  let start = 0;
  window.benchVoteMs = null;
  document.getElementById("ballot").addEventListener("submit", () => {
    start = performance.now();
  }, {capture: true});
  new MutationObserver(() => {
    if (start && status.dataset.kind === "ok" && window.benchVoteMs === null) {
      window.benchVoteMs = performance.now() - start;
    }
  }).observe(status, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


def timed_vote(page: Any, answer: str) -> float:
    page.check(f"input[name=answer][value={answer}]")
    page.evaluate(TIME_THE_VOTE)
    page.click("#send", no_wait_after=True)
    page.wait_for_function("() => window.benchVoteMs !== null", timeout=TIMEOUT_MS)
    return float(page.evaluate("() => window.benchVoteMs"))


def join_and_vote(browser: Any, base: str, code: str, profile: str) -> dict[str, float]:
    page = throttled_page(browser, profile)
    redirects: list[str] = []
    # Documents only (the join link's way to the ballot), not the socket's own requests.
    page.on(
        "response",
        lambda r: (
            redirects.append(r.url)
            if 300 <= r.status < 400 and r.request.resource_type == "document"
            else None
        ),
    )
    start = time.perf_counter()
    page.goto(f"{base}/j/{code}", wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_selector("#join-form button[type=submit]", timeout=TIMEOUT_MS)
    join_form = time.perf_counter() - start
    page.click("#join-form button[type=submit]", no_wait_after=True)
    page.wait_for_selector("#ballot input[name=answer]", timeout=TIMEOUT_MS)
    ballot = time.perf_counter() - start
    # The vote, once the page is live (as most votes are: the ballot opens minutes later).
    page.wait_for_selector("#connection[data-state=online]", timeout=TIMEOUT_MS)
    vote = timed_vote(page, "full")
    page.context.close()
    return {
        "join_form_ms": join_form * 1000,
        "ballot_ms": ballot * 1000,
        "vote_ms": vote,
        "redirects": len(redirects),
    }


def vote_over_http(browser: Any, base: str, code: str, profile: str) -> float:
    """« Envoyer » → confirmation before the socket connects (here: never), the ballot going
    over HTTP (``POST /api/ballots``): DevTools' throttling does not apply to websocket
    frames, so this is the vote the slow network is measured on."""
    page = throttled_page(browser, profile)
    page.route(lambda url: "/socket.io/?" in url, lambda route: route.abort())
    page.goto(f"{base}/j/{code}", timeout=TIMEOUT_MS)
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#ballot input[name=answer]", timeout=TIMEOUT_MS)
    page.wait_for_load_state("load", timeout=TIMEOUT_MS)  # phone.js has taken the form over
    page.wait_for_selector("#connection:not([hidden])", timeout=TIMEOUT_MS)
    vote = timed_vote(page, "mixed")
    page.context.close()
    return vote


def vote_without_javascript(browser: Any, base: str, code: str, profile: str) -> float:
    page = throttled_page(browser, profile, javascript=False)
    page.goto(f"{base}/j/{code}", timeout=TIMEOUT_MS)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("#join-form button[type=submit]")
    page.check("input[name=answer][value=reservations]")
    tapped = time.perf_counter()
    page.click("#send", no_wait_after=True)
    page.wait_for_selector("#vote-status[data-kind=ok]", timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - tapped
    page.context.close()
    return elapsed * 1000


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values)), "max": round(max(values))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profiles", default="slow3g,4g")
    args = parser.parse_args(argv)
    profiles = [name for name in args.profiles.split(",") if name]
    unknown = set(profiles) - set(PROFILES)
    if unknown or not 1 <= args.runs <= 20:
        parser.error(f"profiles among {sorted(PROFILES)}, runs from 1 to 20")

    from playwright.sync_api import sync_playwright

    deployment = Deployment(processes=1)
    deployment.create_database()
    figures: dict[str, Any] = {"runs": args.runs, "cpu_slowdown": CPU_SLOWDOWN}
    try:
        code = set_up(deployment.app())
        base = deployment.start()[0]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for profile in profiles:
                runs = []
                http: list[float] = []
                nojs: list[float] = []
                for index in range(args.runs):
                    runs.append(join_and_vote(browser, base, code, profile))
                    http.append(vote_over_http(browser, base, code, profile))
                    nojs.append(vote_without_javascript(browser, base, code, profile))
                    print(f"{profile} run {index + 1}: {runs[-1]}", file=sys.stderr)
                figures[profile] = {
                    "network": PROFILES[profile],
                    **{
                        key: summary([run[key] for run in runs])
                        for key in ("join_form_ms", "ballot_ms", "vote_ms")
                    },
                    "vote_http_ms": summary(http),
                    "vote_nojs_ms": summary(nojs),
                    "redirects": max(run["redirects"] for run in runs),
                }
            browser.close()
    finally:
        deployment.stop()
        deployment.drop_database()
    figures["loadavg"] = [round(value, 2) for value in os.getloadavg()]
    missed = [
        f"{profile} {key}"
        for (profile, key), limit in TARGETS.items()
        if profile in figures and figures[profile][key]["max"] >= limit
    ]
    figures["missed"] = missed
    print(json.dumps(figures))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
