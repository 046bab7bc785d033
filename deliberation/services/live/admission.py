"""Who may join a session: open joining by code, personal tickets, and the join throttles
(docs/security.md, "One person, one vote").

* **Open** sessions (workshops, by default) admit whoever has the join code. What keeps the
  count honest there is the facilitator's eye: the console compares the places taken with
  the head count expected in the room, and a phone may take only a few places
  (``JOIN_LIMIT_PER_DEVICE``, keyed by its device cookie).
* **Ticket** sessions (the general assembly, by default) admit one participant per personal
  ticket. The claim is one conditional ``UPDATE`` (``… WHERE participant_id IS NULL``), so
  two phones racing with the same ticket cannot both win, on SQLite or PostgreSQL. The
  phone that claimed a ticket gets its place back with it (same device cookie); any other
  phone is sent to the welcome desk. A voided ticket's place can no longer connect or vote
  and its ballots leave the open polls; a replacement ticket is issued in its stead.
* Every join request counts against the address (``JOIN_LIMIT_PER_ADDRESS``: a venue's
  phones share one address behind NAT, so this ceiling is high), every new place against
  the session (``JOIN_LIMIT_PER_SESSION``: an allowance per minute sized so that a hall of
  2,000 arriving at once is in, and a flood is capped), and wrong ticket codes against the
  device and the address.

The throttles use Flask-Limiter's storage (memory, or the message queue's Redis shared by
every process). Tickets are issued here in batches, and for registrations
(``services.registration``) one per session of the registrant's events through
:func:`issue_registration_tickets`: one kind of ticket, and a registered participant's
group is the one of their registration.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext
from limits import RateLimitItem, parse_many

from ...database import write_transaction, writes
from ...extensions import db, limiter
from ...models import ADMISSIONS, LiveSession, Participant, Registration, Ticket, utcnow
from . import sessions, voting
from .sessions import SessionError

log = logging.getLogger(__name__)

TICKET_LENGTH = 10
TICKET_ALPHABET = sessions.CODE_ALPHABET  # no look-alikes: typed from paper
MAX_TICKETS_PER_BATCH = 2000
MAX_TICKETS_PER_SESSION = 20000


class AdmissionError(SessionError):
    """A refused join; ``retry_after`` (seconds) when it is a throttle that will pass."""


@dataclass(frozen=True)
class Visitor:
    """Who asks to join, as the view saw them: the device cookie and the client address."""

    device: str
    address: str

    @property
    def device_hash(self) -> str:
        return device_hash(self.device)


def device_hash(device: str) -> str:
    """What is stored of a device cookie: a hash, so a database reader cannot replay it."""
    return hashlib.sha256(device.encode()).hexdigest() if device else ""


def new_device_id() -> str:
    return secrets.token_urlsafe(24)


# -- ticket codes ---------------------------------------------------------------------------


def normalize_ticket(code: Any) -> str:
    if not isinstance(code, str):
        return ""
    return "".join(ch for ch in code.upper() if ch not in " -_\t")[:40]


def format_ticket(code: str) -> str:
    """XXXXX-XXXXX: easier to read from paper and to type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}" if code else ""


def new_ticket_code(taken: set[str]) -> str:
    """One code not in ``taken`` (which it joins)."""
    return _new_codes(1, taken)[0]


def _new_codes(count: int, taken: set[str]) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        code = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


# -- throttles ------------------------------------------------------------------------------


JOIN_SETTINGS = (
    "JOIN_LIMIT_PER_ADDRESS",
    "JOIN_LIMIT_PER_SESSION",
    "JOIN_LIMIT_PER_DEVICE",
    "TICKET_FAILURES_PER_DEVICE",
    "TICKET_FAILURES_PER_ADDRESS",
)


def check_limits(config: Any) -> None:
    """Refuse to start with a join limit Flask-Limiter cannot read (e.g. "100 per sec")."""
    for setting in JOIN_SETTINGS:
        try:
            parse_many(config[setting])
        except (KeyError, ValueError) as error:
            raise RuntimeError(f"{setting}: not a rate limit ({error})") from None


def _limits(setting: str) -> list[RateLimitItem]:
    return _parsed(current_app.config[setting])


@lru_cache(maxsize=64)
def _parsed(limits: str) -> list[RateLimitItem]:
    return list(parse_many(limits))


def _consume(setting: str, *identifiers: str, check_only: bool = False) -> int | None:
    """Count one request against the limits of ``setting``; the seconds to wait when one
    is exhausted, else None. ``check_only`` asks without counting. A storage outage lets
    the join through (logged): a hall is not locked out because Redis hiccupped."""
    if not limiter.enabled:
        return None
    try:
        strategy = limiter.limiter
        for item in _limits(setting):
            allowed = (
                strategy.test(item, setting, *identifiers)
                if check_only
                else strategy.hit(item, setting, *identifiers)
            )
            if not allowed:
                reset_at = strategy.get_window_stats(item, setting, *identifiers).reset_time
                return max(1, math.ceil(reset_at - time.time()))
    except Exception:  # noqa: BLE001 - fail open, see the docstring
        log.warning("join throttle %s unavailable: letting the join through", setting)
    return None


def _delay(seconds: int) -> Any:
    """A wait in words: seconds, or minutes once it is two minutes or more."""
    if seconds < 120:
        return lazy_gettext("%(n)s seconds", n=seconds)
    return lazy_gettext("%(n)s minutes", n=math.ceil(seconds / 60))


def _wait_message(code: str, seconds: int) -> AdmissionError:
    return AdmissionError(code, retry_after=seconds, delay=_delay(seconds))


# -- joining --------------------------------------------------------------------------------


def admit(
    session: LiveSession,
    visitor: Visitor,
    display_name: str = "",
    group: str = "",
    ticket: Any = None,
    organisation: str = "",
) -> tuple[Participant, str]:
    """Admit a visitor to a session: their place (new, or theirs again) and its token.

    Raises :class:`AdmissionError` (a throttle, a ticket refused) or
    :class:`~deliberation.services.live.sessions.SessionError` (a group not offered)."""
    wait = _consume("JOIN_LIMIT_PER_ADDRESS", visitor.address)
    if wait:
        raise _wait_message("join_throttled", wait)
    if session.admission == "tickets":
        return _admit_with_ticket(session, visitor, display_name, group, ticket, organisation)
    device_key = (str(session.id), visitor.device_hash)
    wait = _consume("JOIN_LIMIT_PER_DEVICE", *device_key, check_only=True)
    if wait:
        raise _wait_message("device_limit", wait)
    wait = _consume("JOIN_LIMIT_PER_SESSION", str(session.id))
    if wait:
        raise _wait_message("join_busy", wait)
    participant = sessions.new_participant(session, display_name, group, organisation)
    token = sessions.token_for(participant)  # from values set now: no reload after commit
    with write_transaction():
        db.session.add(participant)
    _consume("JOIN_LIMIT_PER_DEVICE", *device_key)
    return participant, token


def _refused(code: str) -> AdmissionError:
    return AdmissionError(code)


def _admit_with_ticket(
    session: LiveSession,
    visitor: Visitor,
    display_name: str,
    group: str,
    ticket_code: Any,
    organisation: str = "",
) -> tuple[Participant, str]:
    code = normalize_ticket(ticket_code)
    if not code:
        raise _refused("ticket_required")
    for setting, key in (
        ("TICKET_FAILURES_PER_DEVICE", visitor.device_hash),
        ("TICKET_FAILURES_PER_ADDRESS", visitor.address),
    ):
        wait = _consume(setting, key, check_only=True)
        if wait:
            raise _wait_message("ticket_tries", wait)
    ticket = db.session.scalar(db.select(Ticket).filter_by(session_id=session.id, code=code))
    if ticket is None:
        _consume("TICKET_FAILURES_PER_DEVICE", visitor.device_hash)
        _consume("TICKET_FAILURES_PER_ADDRESS", visitor.address)
        raise _refused("unknown_ticket")
    if ticket.voided_at is not None:
        raise _refused("ticket_voided")
    if ticket.participant_id is not None:
        return _place_back(ticket, visitor)
    wait = _consume("JOIN_LIMIT_PER_SESSION", str(session.id))
    if wait:
        raise _wait_message("join_busy", wait)
    if ticket.registration_id is not None:
        group, organisation = _registered(session, ticket.registration_id, group, organisation)
    ticket_id = ticket.id
    # Built (and its group checked) before the transaction, which starts by committing what
    # was read: the session's attributes are fresh now, not reloaded then.
    participant = sessions.new_participant(session, display_name, group, organisation)
    token = sessions.token_for(participant)
    try:
        with voting.write_or_busy():
            db.session.add(participant)
            db.session.flush()
            # The claim: only one transaction finds the ticket unclaimed.
            claimed = db.session.execute(
                db.update(Ticket)
                .where(
                    Ticket.id == ticket_id,
                    Ticket.participant_id.is_(None),
                    Ticket.voided_at.is_(None),
                )
                .values(
                    participant_id=participant.id,
                    claimed_at=utcnow(),
                    device_hash=visitor.device_hash,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                raise _refused("ticket_used")
    except voting.VoteError as busy:
        raise AdmissionError(busy.code) from None
    return participant, token


def _registered(
    session: LiveSession, registration_id: int, chosen: str, organisation: str
) -> tuple[str, str]:
    """A registered person's group and organisation are the ones they registered with (the
    phone's group only when the process no longer offers theirs). The organisation is taken
    only when they agreed to have it listed (the Actes list participants' organisations);
    otherwise what they typed on the phone, if anything."""
    registration = db.session.get(Registration, registration_id)
    registered = registration.group if registration is not None else ""
    group = registered if registered in (session.process.groups or []) else chosen
    if registration is not None and registration.listed and registration.organisation.strip():
        organisation = registration.organisation
    return group, organisation


def _place_back(ticket: Ticket, visitor: Visitor) -> tuple[Participant, str]:
    """The phone that claimed this ticket comes back (its token lost): its own place."""
    participant = db.session.get(Participant, ticket.participant_id)
    same_phone = bool(ticket.device_hash) and secrets.compare_digest(
        ticket.device_hash, visitor.device_hash
    )
    if not same_phone or participant is None or participant.voided_at is not None:
        raise _refused("ticket_used")
    return participant, sessions.token_for(participant)


# -- what the organiser and the facilitator do ------------------------------------------------


def issue_tickets(session: LiveSession, count: Any, origin: str = "sheet") -> int:
    """Issue ``count`` new tickets to a session, as one batch; return the batch number."""
    if type(count) is not int or not 1 <= count <= MAX_TICKETS_PER_BATCH:
        raise SessionError("invalid_count", max=MAX_TICKETS_PER_BATCH)
    session_id = session.id
    with voting.write_or_busy():
        _lock_session(session_id)
        codes = set(db.session.scalars(db.select(Ticket.code).filter_by(session_id=session_id)))
        if len(codes) + count > MAX_TICKETS_PER_SESSION:
            raise SessionError("too_many_tickets", max=MAX_TICKETS_PER_SESSION)
        batch = _next_batch(session_id)
        now = utcnow()
        db.session.execute(
            db.insert(Ticket),
            [
                {
                    "session_id": session_id,
                    "code": code,
                    "origin": origin,
                    "batch": batch,
                    "issued_at": now,
                    "device_hash": "",
                }
                for code in _new_codes(count, codes)
            ],
        )
    return batch


def issue_registration_tickets(session_ids: list[int], code: str, registration_id: int) -> None:
    """A registration's ticket, with its one code, in each of these sessions where it has
    none yet. Runs in the caller's write transaction (the registration's)."""
    if not session_ids:
        return
    have = set(
        db.session.scalars(
            db.select(Ticket.session_id).where(
                Ticket.session_id.in_(session_ids), Ticket.registration_id == registration_id
            )
        )
    )
    now = utcnow()
    for session_id in session_ids:
        if session_id in have:
            continue
        db.session.add(
            Ticket(
                session_id=session_id,
                code=code,
                origin="registration",
                batch=_next_batch(session_id),
                issued_at=now,
                device_hash="",
                registration_id=registration_id,
            )
        )
    db.session.flush()


def void_registration_tickets(registration_id: int, session_ids: list[int] | None = None) -> None:
    """Void a registration's tickets nobody used yet (all, or those of these sessions):
    a cancelled place admits nobody. A used ticket stays: that person came and voted."""
    query = (
        db.update(Ticket)
        .where(
            Ticket.registration_id == registration_id,
            Ticket.participant_id.is_(None),
            Ticket.voided_at.is_(None),
        )
        .values(voided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if session_ids is not None:
        query = query.where(Ticket.session_id.in_(session_ids))
    db.session.execute(query)


def void_ticket(session: LiveSession, code: Any) -> Ticket:
    """Void a lost or stolen ticket and issue its replacement (returned).

    The voided ticket's place can no longer connect or vote, and its ballots leave the
    session's open polls, so the person votes once, from the replacement."""
    normalized = normalize_ticket(code)
    session_id = session.id
    with voting.write_or_busy():
        _lock_session(session_id)
        ticket = db.session.scalar(
            db.select(Ticket).filter_by(session_id=session_id, code=normalized).with_for_update()
        )
        if ticket is None:
            raise _refused("unknown_ticket")
        if ticket.voided_at is not None:
            raise _refused("ticket_voided")
        now = utcnow()
        ticket.voided_at = now
        if ticket.participant_id is not None:
            participant = db.session.get(Participant, ticket.participant_id)
            participant.voided_at = now
            voting.withdraw_open_ballots(session_id, participant.id)
        taken = set(db.session.scalars(db.select(Ticket.code).filter_by(session_id=session_id)))
        replacement = Ticket(
            session_id=session_id,
            code=_new_codes(1, taken)[0],
            origin="replacement",
            batch=_next_batch(session_id),
            issued_at=now,
            device_hash="",
        )
        db.session.add(replacement)
        db.session.flush()
        ticket.replaced_by_id = replacement.id
    return replacement


@writes
def set_admission(session: LiveSession, admission: Any) -> None:
    if admission not in ADMISSIONS:
        raise SessionError("invalid_admission")
    session.admission = admission


@writes
def set_expected(session: LiveSession, expected: Any) -> None:
    """The head count expected in the room (``None``: not set)."""
    if expected is not None and (
        type(expected) is not int or not 0 <= expected <= sessions.EXPECTED_MAX
    ):
        raise SessionError("invalid_expected", max=sessions.EXPECTED_MAX)
    session.expected_count = expected


def tickets_of(session: LiveSession, batch: int | None = None) -> list[Ticket]:
    """The session's tickets still to hand out (not claimed, not voided), or one batch's."""
    query = db.select(Ticket).filter_by(session_id=session.id).order_by(Ticket.id)
    if batch is not None:
        query = query.filter_by(batch=batch)
    else:
        query = query.filter(Ticket.participant_id.is_(None), Ticket.voided_at.is_(None))
    return list(db.session.scalars(query))


def batches(session: LiveSession) -> list[dict[str, Any]]:
    """Each batch: its number, origin, when issued, how many tickets, used, voided."""
    rows = db.session.execute(
        db.select(
            Ticket.batch,
            db.func.min(Ticket.origin),
            db.func.min(Ticket.issued_at),
            db.func.count(),
            db.func.count(Ticket.participant_id),
            db.func.count(Ticket.voided_at),
        )
        .where(Ticket.session_id == session.id)
        .group_by(Ticket.batch)
        .order_by(Ticket.batch)
    )
    return [
        {"batch": b, "origin": o, "issued_at": at, "tickets": n, "used": used, "voided": voided}
        for b, o, at, n, used, voided in rows
    ]


def _lock_session(session_id: int) -> None:
    """Serialise the writers of one session's tickets (PostgreSQL; SQLite's lock is global)."""
    db.session.execute(db.select(LiveSession.id).filter_by(id=session_id).with_for_update())


def _next_batch(session_id: int) -> int:
    last = db.session.scalar(db.select(db.func.max(Ticket.batch)).filter_by(session_id=session_id))
    return (last or 0) + 1
