"""What the phone page shows a participant beyond the room's state (docs/phones.md): the
easy-to-read mode (« Facile à lire et à comprendre »), when the page reloads itself without
JavaScript, the time left on a countdown, and a revealed result in words.

Pure functions of what the view read (the state, the cookie, the clock): no database, no
request. The same page is then upgraded by its scripts; these rules are what it is without
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...wording import format_percent

# Without JavaScript the page follows the room by reloading itself this often (seconds).
REFRESH_SECONDS = 20
# Never sooner: a page reloading every second would be unreadable, and costly on a slow network.
REFRESH_MIN_SECONDS = 5
# The participant's own choice of mode, kept in a cookie on their phone.
EASY_COOKIE = "easy_read"
EASY_COOKIE_MAX_AGE = 365 * 24 * 3600
EASY_ON, EASY_OFF = "1", "0"


def easy_choice(raw: str | None) -> bool | None:
    """The participant's choice as their cookie (or the toggle's form field) holds it: on,
    off, or None when they never chose (anything else is no choice)."""
    if raw == EASY_ON:
        return True
    if raw == EASY_OFF:
        return False
    return None


def easy_read_for(choice: bool | None, session_default: bool) -> bool:
    """The mode a phone opens in: the participant's own choice wins (it is remembered on their
    phone); without one, the default the organisers set for the session."""
    return session_default if choice is None else choice


def _moment(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment.replace(tzinfo=None)  # the server's times are naive UTC


def seconds_left(poll: Mapping[str, Any] | None, now: datetime) -> int | None:
    """Whole seconds left on the countdown of an open poll (0 once it is over), or None when
    nothing counts down (no poll, not open, no countdown). ``now`` is naive UTC."""
    if not poll or poll.get("state") != "open":
        return None
    ends = _moment(poll.get("countdown_ends_at"))
    if ends is None:
        return None
    return max(0, round((ends - now).total_seconds()))


def clock(seconds: int) -> str:
    """Seconds as the countdown shows them: ``m:ss``."""
    return f"{seconds // 60}:{seconds % 60:02d}"


def refresh_seconds(
    poll: Mapping[str, Any] | None,
    voted: bool,
    left: int | None,
    *,
    holding: bool = False,
) -> int | None:
    """After how many seconds the page without JavaScript reloads itself, or None for never.

    Never while a ballot waits for this participant's answer, nor while the page ``holds``
    something the participant typed or must read (a proposal being written, an error): a
    reload would clear it. Otherwise every REFRESH_SECONDS, and sooner when a countdown ends
    before that, so that the page says the time is up (at most every REFRESH_MIN_SECONDS)."""
    if holding or (poll is not None and poll.get("state") == "open" and not voted):
        return None
    if left is not None and left < REFRESH_SECONDS:
        return max(REFRESH_MIN_SECONDS, left + 1)
    return REFRESH_SECONDS


def _summary(results: Mapping[str, Any]) -> Mapping[str, Any]:
    # As the scripts' renderer reads it (static/js/live-results.js, overallOf).
    return results.get("overall") or results.get("summary") or results


def _figure(answer: Mapping[str, Any], language: str) -> str:
    percent = answer.get("percent")
    shown = format_percent(percent, language) + "\u00a0%" if percent is not None else "–"
    return f"{answer.get('count', 0)} · {shown}"


def plain_result(
    results: Mapping[str, Any] | None,
    poll: Mapping[str, Any],
    display: Mapping[str, Any],
    strings: Mapping[str, Any],
    language: str,
) -> dict[str, Any] | None:
    """A revealed result as the page without JavaScript draws it: one row per answer or
    option (label, figure, share for its bar, rank, pictogram), the base line and the
    outcome's key. The same reading as the scripts' renderer, without the group table (on
    the projector)."""
    if not results:
        return None
    summary = _summary(results)
    answers = list(summary.get("answers") or [])
    pictos = {answer["key"]: answer.get("picto", "") for answer in poll.get("answers") or []}
    grades = {grade["key"]: grade["label"] for grade in poll.get("grades") or []}
    grades = {**(strings.get("grades") or {}), **grades}
    rows = []
    if display.get("chart") == "grades":
        answers.sort(key=lambda answer: answer.get("rank") or 999)
        for answer in answers:
            grade = answer.get("majority_grade")
            sign = {"+": " +", "-": " −"}.get(answer.get("sign") or "", "")
            rows.append(
                {
                    "key": answer["key"],
                    "label": answer.get("label") or answer["key"],
                    "rank": answer.get("rank"),
                    "figure": f"{grades.get(grade, grade)}{sign}" if grade else "–",
                    "share": None,
                    "picto": "",
                }
            )
    else:
        if display.get("ranked") and summary.get("ranking"):
            by_key = {answer["key"]: answer for answer in answers}
            answers = [
                {**by_key.get(entry["key"], {"key": entry["key"]}), "rank": entry.get("rank")}
                for entry in summary["ranking"]
            ]
        for answer in answers:
            share = answer.get("percent")
            rows.append(
                {
                    "key": answer["key"],
                    "label": answer.get("label") or answer["key"],
                    "rank": answer.get("rank") if display.get("ranked") else None,
                    "figure": _figure(answer, language),
                    "share": max(0.0, min(100.0, float(share or 0))),
                    "picto": pictos.get(answer["key"], ""),
                }
            )
    template = (strings.get("bases") or {}).get(summary.get("base_note") or "", "")
    base = (
        str(template)
        .replace("{n}", str(summary.get("base", "")))
        .replace("{b}", str(summary.get("ballots", "")))
    )
    return {
        "rows": rows,
        "base": base,
        "ballots": summary.get("ballots") or 0,
        "outcome": summary.get("outcome"),
    }
