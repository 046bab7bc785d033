"""The joined phone's page drawn: ``GET /s/<CODE>`` and the answers of its plain forms
(views/participate.py; docs/protocol.md §10), from its seat (services.live.phone_seats) and
the phones' state.

A hall of phones without JavaScript draws this page twice per ballot (the page, then the
answer of its form). With the session's common phone state kept (live.phone_states, as the
socket's connect uses it), the page is one read: the seat and its ballot in the poll on
screen, together; the answer of a ballot reads nothing, since the cast just said it counts
(docs/benchmarks.md, "The no-JavaScript form voter").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Response, make_response, render_template, request, url_for
from flask_babel import force_locale

from .. import refusals
from ..extensions import db
from ..live import phone_states, screens
from ..models import LiveSession, Participant, utcnow
from ..services.live import phone_forms, phone_page, phone_seats, sessions
from ..services.live.phone_seats import PhoneSeat, PostedPoll
from .handouts import field_documents_link
from .live_common import (
    CODE_INPUT_MAX,
    group_labels,
    page_language,
    phone_config_strings,
    phone_strings,
    refuse_a_guessing_address,
    results_strings,
    script_config,
)

# What a plain form post (no JavaScript) says on the page it comes back to (``?sent=``).
SENT_NOTICES = ("vote", "proposal")


@dataclass(frozen=True)
class PhoneLinks:
    """The addresses a phone page links and posts to (templates/live/phone.html)."""

    page: str
    write: str  # the page, held still to write a proposal (no reload)
    easy_read: str
    vote: str
    propose: str
    join: str
    ballot: str


def phone_links(code: str) -> PhoneLinks:
    """The links of the phone page of the session ``code`` names: the same for every phone
    of a session, built once rather than by a dozen ``url_for`` on every page drawn."""
    return _phone_links(request.script_root, code)


@lru_cache(maxsize=256)
def _phone_links(script_root: str, code: str) -> PhoneLinks:
    # script_root is in the key: it is all of the request that url_for's paths depend on.
    return PhoneLinks(
        page=url_for("participate.phone", code=code),
        write=url_for("participate.phone", code=code, write=1, _anchor="propose"),
        easy_read=url_for("participate.easy_read", code=code),
        vote=url_for("participate.vote_form", code=code, _anchor="vote-status"),
        propose=url_for("participate.propose_form", code=code),
        join=url_for("participate.join", code=code),
        ballot=url_for("participate.api_ballot"),
    )


def easy_read_mode(session_default: bool) -> bool:
    """This phone's mode: its own choice (cookie), else the session's default."""
    choice = phone_page.easy_choice(request.cookies.get(phone_page.EASY_COOKIE))
    return phone_page.easy_read_for(choice, session_default)


def seat_and_state(code: str, token: str | None) -> tuple[PhoneSeat, dict[str, Any]] | None:
    """A joined phone's seat in the session ``code`` names and the state its page draws;
    None when the code or the place is not found. An address over its budget of unknown
    codes is refused first (:class:`~.live_common.TooManyCodeGuesses`)."""
    refuse_a_guessing_address()
    if len(code) > CODE_INPUT_MAX:
        return None
    claims = sessions.token_claims(token)
    session_id = claims.session_id if claims is not None else None
    common = phone_states.cached(session_id)[1] if isinstance(session_id, int) else None
    asked = screens.poll_asked(common["poll"]) if common is not None else None
    if common is None:
        # Nothing kept for the session (a change not yet sent to its phones' room, or kept
        # too long): its objects read together, the state built from them and kept, as for
        # a connecting phone.
        found = sessions.session_and_participant(code, token)
        if found is None:
            return None
        return phone_seats.seat_of(*found), screens.phone_page_state(*found)
    seat = phone_seats.phone_seat(code, claims, asked)
    if seat is None:
        return None
    return seat, screens.personal_state(common, seat.participant_id, bool(seat.voted))


def seat_and_posted_poll(
    code: str, token: str | None, poll_id: int | None
) -> tuple[PhoneSeat, PostedPoll | None] | None:
    """A joined phone's seat with the poll its posted form names, read together; None
    when the code or the place is not found (refused as :func:`seat_and_state` is)."""
    refuse_a_guessing_address()
    if len(code) > CODE_INPUT_MAX:
        return None
    return phone_seats.seat_and_posted_poll(code, sessions.token_claims(token), poll_id)


def state_of(seat: PhoneSeat, voted_in_poll: int | None = None) -> dict[str, Any]:
    """The state a seat's page draws; ``voted_in_poll``: a poll the participant is known to
    have voted in (the ballot just cast), so that nothing is read to say so."""
    common = phone_states.cached(seat.session_id)[1]
    if common is None:
        return _built_state(seat)
    poll = common["poll"]
    voted = True if poll is not None and poll["id"] == voted_in_poll else None
    return screens.personal_state(common, seat.participant_id, voted)


def _built_state(seat: PhoneSeat) -> dict[str, Any]:
    # Nothing kept for the session: built from the database and kept (as above).
    return screens.phone_page_state(
        db.session.get(LiveSession, seat.session_id),
        db.session.get(Participant, seat.participant_id),
    )


def page(
    seat: PhoneSeat,
    state: dict[str, Any],
    token: str | None,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The phone page: the live page's configuration for its script, and the same state
    drawn as plain forms that work without it (docs/protocol.md §10)."""
    with force_locale(page_language(seat.language)):
        # The strings are the same for every phone of a language: built and serialised
        # once (views.live_common), only this phone's part of the configuration each time.
        strings, results_words = phone_strings(), results_strings()
        easy = easy_read_mode(seat.easy_read)
        links = phone_links(seat.join_code)
        config_json = script_config(
            {
                "code": seat.join_code,
                "sessionId": seat.session_id,
                "token": token,
                "joinUrl": links.join,
                "phoneUrl": links.page,
                "ballotUrl": links.ballot,
                "retryCodes": refusals.RETRY_CODES,
                "state": state,
                "easy": easy,
            },
            phone_config_strings(),
        )
        poll = state["poll"]
        left = phone_page.seconds_left(poll, utcnow())
        results = None
        if poll and state["results"]:
            display = results_words["displays"].get(poll["method"], {})
            results = phone_page.plain_result(
                state["results"], poll, display, results_words, state["session"]["language"]
            )
        documents_url = (
            field_documents_link(seat.process_slug, seat.handouts_field_id)
            if seat.handouts_field_id is not None
            else None
        )
        page = render_template(
            "live/phone.html",
            easy=easy,
            seconds_left=left,
            countdown=phone_page.clock(left) if left is not None else "",
            plain_result=results,
            seat=seat,
            links=links,
            group_label=group_labels().get(seat.group, seat.group),
            documents_url=documents_url,
            config_json=config_json,
            result_words=results_words,
            state=state,
            poll=poll,
            strings=strings,
            item_kinds=results_words.get("items", {}),
            ballot_id=phone_forms.new_ballot_id(),
            fields=extra.get("fields", {}),
            vote_error=extra.get("vote_error"),
            sent=extra.get("sent"),
            proposal=extra.get("proposal", {}),
            proposal_target=phone_forms.proposal_target(state["item"]),
            proposal_kinds=phone_forms.proposal_kinds(state["item"]),
            writing=extra.get("writing", False),
            # Without JavaScript the page follows the room by reloading, but never while a
            # ballot waits for this participant's answer, a proposal is being written or an
            # error is shown (a reload would clear what they typed or chose).
            refresh=phone_page.refresh_seconds(
                poll,
                bool(state["voted"]),
                left,
                holding=bool(
                    extra.get("writing") or extra.get("vote_error") or extra.get("proposal")
                ),
            ),
        )
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response
