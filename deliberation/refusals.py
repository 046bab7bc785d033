"""Every refusal the server answers, in one catalogue: code → message → HTTP status → retry.

A socket acknowledgement (``{"ok": false, "error", "message"}``), a JSON error of
``POST /api/ballots``, a refused connection, the join page and the organisers' flashed
messages all take their code and their text from here; ``docs/protocol.md`` §9 lists the
same codes (``tests/test_refusals.py`` fails when one is in only one place).

``retry`` says whether a client keeps what it sent and sends it again later (nothing was
wrong with it: the server was busy, or asked to slow down); the phone reads the list
(:data:`RETRY_CODES`) from its page's configuration rather than keeping its own.

A service raises :class:`Refused` (or one of its subclasses, named after the service) with
a code of the catalogue, and may word it more precisely for the case at hand: the code,
the status and ``retry`` stay those of the catalogue. Imports nothing of the app, so
models, services, live handlers and views may all import it.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, lazy_gettext


def _l(text: str) -> str:
    """Marks a message for extraction (``make messages`` reads ``_l``); translated when
    the refusal is raised, with its parameters."""
    return text


@dataclass(frozen=True)
class Refusal:
    code: str
    text: str  # the English msgid, translated when shown
    status: int  # the HTTP status where a refusal has one (JSON APIs, the join page)
    retry: bool = False  # the client keeps what it sent and sends it again later


_ENTRIES = (
    # -- the edge: any event, connect, /api/ballots (docs/protocol.md §8) -----------------
    Refusal("bad_request", _l("The request could not be read."), 400),
    Refusal("too_large", _l("This message is too large."), 413),
    Refusal("unknown_event", _l("This request is not known to the server."), 404),
    Refusal("rate_limited", _l("Too many requests at once: please wait a moment."), 429, True),
    Refusal(
        "too_many_connections",
        _l("Too many connections from your network: please try again later."),
        429,
        True,
    ),
    Refusal("server_busy", _l("The server is busy: your ballot will be sent again."), 503, True),
    Refusal("server_error", _l("Something went wrong on the server: please try again."), 500, True),
    # -- who is calling --------------------------------------------------------------------
    Refusal("invalid_token", _l("Your place in this session was not found: join again."), 403),
    Refusal("unknown_session", _l("No session has this code."), 404),
    Refusal(
        "not_allowed",
        _l("Log in as an organiser who may run this session (a member of its process)."),
        403,
    ),
    Refusal(
        "too_many_attempts",
        _l(
            "Too many unknown codes were tried from this network: wait a few minutes, then "
            "check the code on the screen."
        ),
        429,
        True,
    ),
    # -- votes -----------------------------------------------------------------------------
    Refusal("unknown_poll", _l("This vote does not exist."), 409),
    Refusal("not_in_session", _l("This vote belongs to another session."), 409),
    Refusal("poll_not_open", _l("This vote is not open: your ballot was not counted."), 409),
    Refusal("stale_round", _l("This vote was started again: please vote again."), 409),
    Refusal("invalid_choice", _l("This choice is not possible in this vote."), 409),
    Refusal("invalid_transition", _l("This step is not possible for this vote now."), 409),
    Refusal("invalid_method", _l("Unknown vote method."), 400),
    Refusal(
        "invalid_options",
        _l("The options of this vote are not valid (dot voting needs at least two)."),
        400,
    ),
    Refusal("unknown_item", _l("This item is not on the agenda."), 404),
    Refusal("poll_open", _l("Another vote is open: close it first."), 409),
    Refusal(
        "secret_no_live",
        _l(
            "Live results are for named votes only: a secret vote shows how many have voted "
            "until it closes."
        ),
        400,
    ),
    # -- proposals from the floor ------------------------------------------------------------
    Refusal("invalid_kind", _l("Unknown kind of proposal."), 400),
    Refusal("empty", _l("Write your proposal before sending it."), 400),
    Refusal("too_long", _l("This text is too long."), 400),
    Refusal("no_item", _l("Nothing is on screen to propose about."), 409),
    Refusal("no_finding", _l("New action paths and conditions are proposed for a finding."), 400),
    Refusal("unchanged", _l("This wording is the same as the current one."), 400),
    Refusal("unknown_proposal", _l("This proposal does not exist."), 404),
    Refusal("not_mergeable", _l("Only proposals of the same kind on the same item merge."), 409),
    Refusal("reason_required", _l("Say in a few words why it is sent back."), 400),
    # -- joining (the join page, docs/protocol.md §1) -------------------------------------
    Refusal("invalid_group", _l("Choose a group from the list."), 400),
    Refusal(
        "ticket_required",
        _l(
            "This session admits participants with a personal ticket: "
            "type the code printed on your ticket."
        ),
        403,
    ),
    Refusal(
        "unknown_ticket",
        _l(
            "This ticket code is not valid for this session. "
            "Check the code, or see the welcome desk."
        ),
        403,
    ),
    Refusal(
        "ticket_used",
        _l(
            "This ticket has already been used on another phone. "
            "If it is yours, please see the welcome desk."
        ),
        403,
    ),
    Refusal(
        "ticket_voided", _l("This ticket has been cancelled. Please see the welcome desk."), 403
    ),
    # The throttles say how long to wait: raised with ``delay=`` (seconds or minutes, in words).
    Refusal(
        "join_throttled",
        _l("Too many joins from this network right now. Please try again in %(delay)s."),
        429,
        True,
    ),
    Refusal(
        "join_busy",
        _l("Many people are joining at this moment. Please try again in %(delay)s."),
        429,
        True,
    ),
    Refusal(
        "device_limit",
        _l(
            "This phone has already taken several places in this session. "
            "Please ask the facilitator, or try again in %(delay)s."
        ),
        429,
        True,
    ),
    Refusal(
        "ticket_tries",
        _l("Too many wrong ticket codes. Please wait %(delay)s, or see the welcome desk."),
        429,
        True,
    ),
    # -- the organisers' pages: sessions, agenda, tickets ---------------------------------
    Refusal("invalid_session_kind", _l("Choose a workshop or a general assembly."), 400),
    Refusal("invalid_title", _l("Give the session a title."), 400),
    Refusal("invalid_admission", _l("Choose open joining or personal tickets."), 400),
    Refusal(
        "invalid_expected",
        _l("The expected head count is a whole number from 0 to %(max)s."),
        400,
    ),
    Refusal("unknown_field", _l("This field is not in the process."), 404),
    Refusal("unknown_territory", _l("This territory is not in the process."), 404),
    Refusal("invalid_item", _l("This kind of item cannot be voted on."), 400),
    Refusal("item_has_votes", _l("This item has been voted on; it stays on the agenda."), 409),
    Refusal("item_has_minutes", _l("This item has minutes; it stays on the agenda."), 409),
    Refusal(
        "minutes_too_long",
        _l("Minutes of an item have at most %(max)s characters: split them over other items."),
        413,
    ),
    Refusal("invalid_count", _l("Give a number of tickets from 1 to %(max)s."), 400),
    Refusal("too_many_tickets", _l("A session has at most %(max)s tickets."), 409),
    Refusal("confirm", _l("Tick the box to confirm that the vote starts again."), 400),
    Refusal(
        "order_changed",
        _l("The list changed meanwhile; reload the page and try again."),
        409,
    ),
    # -- the exports page (JSON when asked for) -------------------------------------------
    Refusal(
        "not_started",
        _l("The export failed. Please try again; if it fails again, tell an administrator."),
        503,
        True,
    ),
    Refusal("unknown_job", _l("Unknown export."), 404),
)

CATALOGUE: dict[str, Refusal] = {entry.code: entry for entry in _ENTRIES}
# What the phone keeps and sends again later rather than dropping.
RETRY_CODES: tuple[str, ...] = tuple(entry.code for entry in _ENTRIES if entry.retry)


def message(code: str, **params: Any) -> Any:
    """The catalogue's message for ``code``, lazy: rendered in the reader's locale."""
    return lazy_gettext(CATALOGUE[code].text, **params)


class Refused(Exception):
    """A refusal; nothing was written. ``code`` is one of :data:`CATALOGUE` (any other is a
    bug: ``KeyError``). ``message`` is the catalogue's text (with ``params``), or a more
    precise wording of the same refusal; lazy or already translated."""

    def __init__(
        self, code: str, message: Any = None, retry_after: float | None = None, **params: Any
    ) -> None:
        entry = CATALOGUE[code]
        super().__init__(code)
        self.code = code
        self.status = entry.status
        self.retry = entry.retry
        self.retry_after = retry_after
        self.message = lazy_gettext(entry.text, **params) if message is None else message

    def payload(self, language: str | None = None, **extra: Any) -> dict[str, Any]:
        """The acknowledgement body: in ``language``, else in the current locale."""
        with force_locale(language) if language else nullcontext():
            text = str(self.message)
        return {"ok": False, "error": self.code, "message": text, **extra}


def payload(code: str, language: str | None = None, **extra: Any) -> dict[str, Any]:
    """The acknowledgement of the catalogue's refusal ``code``."""
    return Refused(code).payload(language, **extra)
