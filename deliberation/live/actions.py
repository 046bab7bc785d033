"""The facilitator's actions, in one table: name → capability → payload → service call.

The console sends them as Socket.IO events (``live.handlers``) or, when scripts cannot run,
as HTTP forms (``views.facilitate``); both paths :func:`dispatch` through :data:`ACTIONS`, so
an action reads its payload, checks who may run it, refuses and calls its service the same
way whichever path it came by. Only how a value is written differs: JSON keeps its types
(an id is a number, a boolean is ``true``/``false``, docs/protocol.md §8), a form sends text
(:class:`JsonPayload`, :class:`FormPayload`). After the commit, every action tells the
session's screens (``broadcast.session_changed``); publishing a vote also tells the authors
of a proposal what became of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from .. import inputs
from ..extensions import db
from ..models import AgendaItem, LiveSession, Organizer, Poll
from ..refusals import Refused
from ..services.live import sessions, voting
from ..services.live.sessions import SessionError
from ..services.live.voting import VoteError
from ..services.people import access
from ..services.people.access import Capability
from . import broadcast, countdown, proposals

# A form field left blank, or a box left unticked, sends nothing: absent means "not given".
_FORM_FALSE = frozenset({"no", "off", "false", "0"})


class Payload(ABC):
    """What an action reads from its request; subclasses say how values are written."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    @abstractmethod
    def id(self, name: str) -> Any:
        """An id as sent (checked where it is looked up: anything else is not found)."""

    @abstractmethod
    def flag(self, name: str, default: bool | None) -> bool:
        """A yes/no value; ``default`` when absent (None: it must be given)."""

    @abstractmethod
    def number(self, name: str) -> Any:
        """A whole number, or None when not given (its range is the service's rule)."""

    def value(self, name: str) -> Any:
        return self.raw.get(name)

    @abstractmethod
    def confirmed(self) -> bool:
        """Whether the person confirmed a step that cannot be undone."""


class JsonPayload(Payload):
    """A Socket.IO event's object: values keep their JSON types, nothing is converted."""

    def id(self, name: str) -> Any:
        return self.raw.get(name)

    def flag(self, name: str, default: bool | None) -> bool:
        if name not in self.raw and default is not None:
            return default
        # Only true or false: the string "false" is not a way to say false.
        value = inputs.strict_bool(self.raw.get(name))
        if value is None:
            raise VoteError("bad_request")
        return value

    def number(self, name: str) -> Any:
        return self.raw.get(name)

    def confirmed(self) -> bool:
        # A socket client asks the person before sending (docs/protocol.md, "Facilitator
        # events"); the console does, with the same tick box as the form.
        return True


class FormPayload(Payload):
    """An HTTP form: every value is text; an unticked box and a blank field send nothing."""

    def _text(self, name: str) -> str:
        return (self.raw.get(name) or "").strip()

    def id(self, name: str) -> Any:
        text = self._text(name)
        if not text:
            return None
        return int(text) if text.isdigit() else text

    def flag(self, name: str, default: bool | None) -> bool:
        text = self._text(name).lower()
        if not text:
            return bool(default)
        return text not in _FORM_FALSE

    def number(self, name: str) -> Any:
        # A blank (or zero) field gives no value, as the console's own script reads it.
        text = self._text(name)
        return int(text) or None if text.isdigit() else None

    def confirmed(self) -> bool:
        return self.raw.get("confirm") == "yes"


def poll_options(raw: Any) -> Any:
    """The options of a vote as the facilitator typed them, one per line (the console sends
    the text as it is), or as a client built them (``[{"key", "label"}]``, checked by the
    vote's rules). No line, or nothing: the item's suggested options."""
    if not isinstance(raw, str):
        return raw
    lines = [" ".join(line.split()) for line in raw.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    return [{"key": f"o{index}", "label": line} for index, line in enumerate(lines, start=1)]


def _item(session: LiveSession, item_id: Any) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id) if inputs.is_id(item_id) else None
    if item is None or item.session_id != session.id:
        raise VoteError("unknown_item")
    return item


def _poll(session: LiveSession, poll_id: Any) -> Poll:
    poll = db.session.get(Poll, poll_id) if inputs.is_id(poll_id) else None
    if poll is None:
        raise VoteError("unknown_poll")
    if poll.session_id != session.id:
        raise VoteError("not_in_session")
    return poll


# -- the actions: what each reads, and the service it calls ---------------------------------


def _show_item(session: LiveSession, payload: Payload, actor: str) -> None:
    item_id = payload.id("item_id")
    sessions.show_item(session, None if item_id is None else _item(session, item_id))


def _open_poll(session: LiveSession, payload: Payload, actor: str) -> countdown.Deadline | None:
    """Open the vote; return the countdown the server closes it at (None: no countdown,
    or the facilitator closes it by hand)."""
    auto_close = payload.flag("auto_close", True)
    poll = voting.open_poll(
        session,
        _item(session, payload.id("item_id")),
        payload.value("method"),
        show_live=payload.flag("show_live", False),
        options=poll_options(payload.value("options")),
        dots=payload.number("dots"),
        countdown_seconds=payload.number("countdown_seconds"),
        actor=actor,
        secret=payload.flag("secret", True),
        auto_close=auto_close,
    )
    return countdown.Deadline.of(poll) if auto_close else None


def _start_countdown(deadline: countdown.Deadline | None) -> None:
    if deadline is not None:
        countdown.schedule(current_app._get_current_object(), deadline)  # type: ignore[attr-defined]


def _close_poll(session: LiveSession, payload: Payload, actor: str) -> None:
    voting.close_poll(_poll(session, payload.id("poll_id")), actor=actor)


def _publish_poll(session: LiveSession, payload: Payload, actor: str) -> Poll:
    return voting.publish_poll(_poll(session, payload.id("poll_id")), actor=actor)


def _reset_poll(session: LiveSession, payload: Payload, actor: str) -> None:
    poll = _poll(session, payload.id("poll_id"))
    if not payload.confirmed():
        raise SessionError("confirm")
    voting.reset_poll(poll, actor=actor)


def _set_show_live(session: LiveSession, payload: Payload, actor: str) -> None:
    show_live = payload.flag("show_live", None)
    voting.set_show_live(_poll(session, payload.id("poll_id")), show_live, actor=actor)


def _set_projector_theme(session: LiveSession, payload: Payload, actor: str) -> None:
    sessions.set_projector_theme(session, payload.value("theme"))


def _tell_authors(published: Poll) -> None:
    """The console and the authors learn what the vote made of a proposal from the floor."""
    proposals.after_publish(published.id)


@dataclass(frozen=True)
class FacilitatorAction:
    name: str
    capability: Capability
    run: Callable[[LiveSession, Payload, str], Any]  # reads the payload, calls the service
    after_commit: Callable[[Any], None] | None = None  # given what ``run`` returned


ACTIONS: dict[str, FacilitatorAction] = {
    action.name: action
    for action in (
        FacilitatorAction("show_item", Capability.FACILITATE, _show_item),
        FacilitatorAction("open_poll", Capability.FACILITATE, _open_poll, _start_countdown),
        FacilitatorAction("close_poll", Capability.FACILITATE, _close_poll),
        FacilitatorAction("publish_poll", Capability.FACILITATE, _publish_poll, _tell_authors),
        FacilitatorAction("reset_poll", Capability.FACILITATE, _reset_poll),
        FacilitatorAction("set_show_live", Capability.FACILITATE, _set_show_live),
        FacilitatorAction("set_projector_theme", Capability.FACILITATE, _set_projector_theme),
    )
}


def may_run(organizer: Organizer | None, session: LiveSession, action: FacilitatorAction) -> bool:
    """Asked on every action, whichever path: a member removed (or limited to another
    territory) since the console opened is refused from then on."""
    return access.can(organizer, session.process, action.capability, session)


def dispatch(
    session: LiveSession, name: str, payload: Payload, organizer: Organizer | None
) -> dict[str, Any] | None:
    """Run the action ``name``: the service's commit, then the screens told. Returns the
    state sent to the facilitators' room (None when none was built). Raises
    :class:`~deliberation.refusals.Refused` (nothing written, the session rolled back)."""
    action = ACTIONS.get(name)
    if action is None:
        raise Refused("unknown_event")
    if organizer is None or not may_run(organizer, session, action):
        raise Refused("not_allowed")
    session_id = session.id
    # A refusal raised by the service rolled its write transaction back: nothing to undo.
    result = action.run(session, payload, organizer.email)
    if action.after_commit is not None:
        action.after_commit(result)
    return broadcast.session_changed(session_id)
