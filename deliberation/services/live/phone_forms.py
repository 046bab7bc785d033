"""The phone page as plain HTML forms, for phones without JavaScript (docs/protocol.md §10).

A ballot posted by a form reaches the same :func:`ballots.cast` as the socket's ``vote`` and
``POST /api/ballots``: one ballot per participant and poll, a resent ``ballot_id`` counted
once. This module only turns the form's fields into the choice the method checks: each
method's phone form (``VoteMethod.phone_form``) has its reader here, and the method's own
``clean_choice`` still decides what is a valid choice.

Field names, per form (``i`` is the option's position in the poll, from 0):

* ``single``: ``answer`` = an answer key;
* ``grades``: ``grade-i`` = a grade key, one per option;
* ``dots``: ``dots-i`` = how many dots that option gets;
* ``order``: ``rank-i`` = the option's rank, 1 … n, each rank once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _

from ... import methods
from ...models import Participant, Proposal
from ...models.item_types import AMENDABLE_TYPES
from . import amendments, ballots
from .phone_seats import PostedPoll
from .voting import CastResult, VoteError

Fields = Mapping[str, str]


def new_ballot_id() -> str:
    """The ballot id a rendered form carries: the same form posted twice counts once."""
    return uuid.uuid4().hex


def _keys(poll: PostedPoll) -> list[str]:
    return [option["key"] for option in poll.options or []]


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


# -- form fields → choice -------------------------------------------------------------------


def _read_single(poll: PostedPoll, fields: Fields) -> dict[str, Any]:
    answer = fields.get("answer")
    if not answer:
        raise VoteError("invalid_choice", _("Choose an answer first."))
    return {"answer": answer}


def _read_grades(poll: PostedPoll, fields: Fields) -> dict[str, Any]:
    grades = {
        key: fields[f"grade-{index}"]
        for index, key in enumerate(_keys(poll))
        if fields.get(f"grade-{index}")
    }
    missing = len(_keys(poll)) - len(grades)
    if missing:
        raise VoteError(
            "invalid_choice",
            _("Give a grade to every option (%(missing)s missing).", missing=missing),
        )
    return {"grades": grades}


def _read_dots(poll: PostedPoll, fields: Fields) -> dict[str, Any]:
    given: dict[str, int] = {}
    for index, key in enumerate(_keys(poll)):
        count = _int(fields.get(f"dots-{index}"))
        if count is None or count < 0:
            count = 0
        if count:
            given[key] = count
    total = sum(given.values())
    if not total:
        raise VoteError("invalid_choice", _("Give at least one dot."))
    if total > poll.dots:
        raise VoteError(
            "invalid_choice",
            _(
                "You have %(total)s dots and gave %(n)s: take some back.",
                total=poll.dots,
                n=total,
            ),
        )
    return {"dots": given}


def _read_order(poll: PostedPoll, fields: Fields) -> dict[str, Any]:
    keys = _keys(poll)
    ranks = {key: _int(fields.get(f"rank-{index}")) for index, key in enumerate(keys)}
    if sorted(rank or 0 for rank in ranks.values()) != list(range(1, len(keys) + 1)):
        raise VoteError(
            "invalid_choice",
            _("Give each option a different number, from 1 to %(n)s.", n=len(keys)),
        )
    return {"ranking": sorted(keys, key=lambda key: ranks[key] or 0)}


# Keyed by ``VoteMethod.phone_form`` (static/js/phone.js keeps the same table, FORMS; the
# templates are templates/live/_ballot_<form>.html).
READERS: dict[str, Callable[[PostedPoll, Fields], dict[str, Any]]] = {
    "single": _read_single,
    "grades": _read_grades,
    "dots": _read_dots,
    "order": _read_order,
}


def choice_from_fields(poll: PostedPoll, fields: Fields) -> dict[str, Any]:
    """The choice a posted ballot form stands for (the method checks it when cast)."""
    return READERS[methods.method(poll.method).phone_form](poll, fields)


def cast_form(
    participant_id: int, session_id: int, poll: PostedPoll | None, fields: Fields
) -> CastResult:
    """Cast the ballot of a posted form for the participant ``participant_id`` of the
    session ``session_id``: the ``poll`` its ``poll_id`` names (read with the participant's
    seat, :func:`phone_seats.seat_and_posted_poll`; None: no such poll), its ``round``,
    ``ballot_id`` and the method's fields. Raises :class:`VoteError` (nothing written)
    with a message for the participant."""
    if poll is None:
        raise VoteError("unknown_poll")
    if poll.session_id != session_id:
        raise VoteError("not_in_session")
    choice = choice_from_fields(poll, fields)
    return ballots.cast(
        participant_id, poll.id, fields.get("ballot_id"), choice, _int(fields.get("round"))
    )


def posted_poll_id(fields: Fields) -> int | None:
    """The poll a posted ballot form names (not yet checked: an id of any shape)."""
    return _int(fields.get("poll_id"))


# -- proposals -----------------------------------------------------------------------------


def proposal_target(item: Mapping[str, Any] | None) -> tuple[str, int] | None:
    """What a proposal made on the item on screen is about (``static/js/propose.js``,
    ``targetOf``): the item itself, or the finding of a vote on its action paths; nothing
    for a free question or an amendment (a comment only)."""
    if not item or item.get("type") in ("free", "amendment") or item.get("item_id") is None:
        return None
    item_type = "finding" if item["type"] == "action_paths" else item["type"]
    return item_type, int(item["item_id"])


def proposal_kinds(item: Mapping[str, Any] | None) -> list[str]:
    """The kinds the phone offers for the item on screen, the most likely first (as
    ``allowed`` in static/js/propose.js; :func:`amendments.propose` decides)."""
    about = item.get("type") if item and proposal_target(item) else None
    kinds = ["amendment"] if about in AMENDABLE_TYPES else []
    if about in ("finding", "action_paths", *amendments.FINDING_CHILD_TYPES):
        kinds += list(amendments.NEW_ITEM_KINDS)
    return [*kinds, "comment"]


def propose_form(participant: Participant, fields: Fields) -> tuple[Proposal, bool]:
    """A proposal from the phone page's plain form (``propose-kind``, ``text``, and the
    ``item_type``, ``item_id`` and ``client_id`` the page wrote in it): the same
    :func:`amendments.propose` as the socket's ``propose``; a resent form is stored once."""
    return amendments.propose(
        participant,
        fields.get("propose-kind"),
        fields.get("text"),
        fields.get("item_type") or None,
        _int(fields.get("item_id")),
        fields.get("client_id") or None,
    )
