"""Ballots over HTTP for ``bench.live --http api|form``: phones without a live connection.

``api``: ``POST /api/ballots`` with the participant's token in the JSON body, as
``static/js/phone.js`` sends a ballot while its socket cannot connect (docs/protocol.md).
``form``: a phone without JavaScript (docs/protocol.md §10) reloads its page, which now
holds the open poll's form (``GET /s/<CODE>``: the page's time is ``page_ms``), then posts
that form (``POST /s/<CODE>/vote``) and reads the confirmation in the page it gets back.

Either way the ballot keeps its ``ballot_id`` and is posted again while the server answers
``server_busy`` (503) or the connection fails, as the phone does; the acknowledgement's time
runs from the first post to the answer that counted it.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from .live_phones import ANSWERS, CSRF_INPUT, MAX_ATTEMPTS, cookie_value

if TYPE_CHECKING:
    from .live_phones import Generator, Phone

HIDDEN = re.compile(r'<input type="hidden" name="(poll_id|round|ballot_id)" value="([^"]*)"')
# The phone page's vote status once the ballot is counted (templates/live/phone.html).
RECORDED = 'id="vote-status" data-kind="ok"'
HTTP_TIMEOUT_S = 30


async def vote_http(generator: Generator, phone: Phone, poll: dict, delay: float) -> None:
    await asyncio.sleep(delay)
    phone.answer = generator.rng.choice(ANSWERS)
    try:
        if generator.transport == "form":
            await _by_form(generator, phone)
        else:
            await _by_api(generator, phone, poll)
    except Exception as error:  # noqa: BLE001 - counted, never raised into the loop
        phone.ack_error = type(error).__name__


async def _by_api(generator: Generator, phone: Phone, poll: dict) -> None:
    import aiohttp

    ballot = {
        "token": phone.token,
        "poll_id": poll["id"],
        "ballot_id": uuid.uuid4().hex,
        "choice": {"answer": phone.answer},
        "round": poll.get("round"),
    }
    phone.ballot = ballot
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
    while phone.attempts < MAX_ATTEMPTS:
        phone.attempts += 1
        if phone.first_sent is None:
            phone.first_sent = time.time()
        try:
            async with generator.http.post(
                f"{phone.base_url}/api/ballots",
                json=ballot,
                headers={"Cookie": f"device_id={phone.device}"},
                timeout=timeout,
            ) as response:
                answer = await response.json(content_type=None)
        except Exception:  # noqa: BLE001 - the connection failed: post it again
            await asyncio.sleep(1 + generator.rng.random())
            continue
        if isinstance(answer, dict) and answer.get("ok"):
            phone.acked_at = time.time()
            phone.duplicate = bool(answer.get("duplicate"))
            return
        code = answer.get("error") if isinstance(answer, dict) else "bad_answer"
        if _retry(generator, code):
            await asyncio.sleep(2 + 2 * generator.rng.random())
            continue
        phone.ack_error = code
        return
    phone.ack_error = "too_many_attempts"


async def _by_form(generator: Generator, phone: Phone) -> None:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
    code = generator.config["code"]
    fields: dict[str, str] | None = None
    while phone.attempts < MAX_ATTEMPTS:
        if fields is None:
            started = time.perf_counter()
            try:
                async with generator.http.get(
                    f"{phone.base_url}/s/{code}", headers=_cookies(phone), timeout=timeout
                ) as page:
                    html = await page.text()
                    phone.session_cookie = cookie_value(page, "session") or phone.session_cookie
            except Exception:  # noqa: BLE001 - reload again
                await asyncio.sleep(1 + generator.rng.random())
                continue
            hidden = dict(HIDDEN.findall(html))
            token = CSRF_INPUT.search(html)
            if page.status != 200 or token is None or "poll_id" not in hidden:
                phone.attempts += 1
                await asyncio.sleep(1 + generator.rng.random())
                continue
            generator.page_ms.append((time.perf_counter() - started) * 1000)
            # The form as drawn: its ballot id goes with every post of this page.
            fields = {**hidden, "csrf_token": token.group(1), "answer": phone.answer}
        phone.attempts += 1
        if phone.first_sent is None:
            phone.first_sent = time.time()
        try:
            async with generator.http.post(
                f"{phone.base_url}/s/{code}/vote",
                data=fields,
                headers=_cookies(phone),
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                html = await response.text()
                status = response.status
        except Exception:  # noqa: BLE001 - post the same form again
            await asyncio.sleep(1 + generator.rng.random())
            continue
        if status == 200 and RECORDED in html:
            phone.acked_at = time.time()
            return
        refusal = "server_busy" if status == 503 else f"http_{status}"
        if _retry(generator, refusal):
            await asyncio.sleep(2 + 2 * generator.rng.random())
            continue
        phone.ack_error = refusal
        return
    phone.ack_error = "too_many_attempts"


def _retry(generator: Generator, code: Any) -> bool:
    """Nothing was counted: the phone keeps its ballot and posts it again."""
    if code in ("server_busy", "server_error"):
        generator.server_errors[code] = generator.server_errors.get(code, 0) + 1
        return True
    return False


def _cookies(phone: Phone) -> dict[str, str]:
    cookies = [f"participant_token={phone.token}", f"device_id={phone.device}"]
    if phone.session_cookie:
        cookies.append(f"session={phone.session_cookie}")
    return {"Cookie": "; ".join(cookies)}
