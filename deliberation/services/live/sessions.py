"""Live sessions: creation, join codes, participants and their tokens, the agenda, and the
state each screen (phone, projector, facilitator console) is given.

The vote rules themselves live in :mod:`deliberation.services.live.voting`; this module only
reads polls to describe them.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import segno
from flask import current_app
from flask_babel import lazy_gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ...database import writes
from ...extensions import db
from ...models import (
    ADMISSIONS,
    AGENDA_ITEM_TYPES,
    PROJECTOR_THEMES,
    SESSION_KINDS,
    TEXT_MAX,
    TITLE_MAX,
    TREE_ITEM_TYPES,
    ActionPath,
    AgendaItem,
    Field,
    Finding,
    Hypothesis,
    ImplementationCondition,
    LiveSession,
    Participant,
    Poll,
    Process,
    Proposal,
    Recommendation,
    Territory,
)
from ...refusals import Refused
from . import voting
from .items import (  # noqa: F401  (part of this module's API, used by the views)
    action_path_options,
    authored_item,
    present_item,
)
from .presentation import (  # noqa: F401  (part of this module's API, used by the views)
    agenda_summary,
    finding_numbers,
    join_path,
    joined_count,
    screen_language,
    state_for,
    ticket_counts,
)

# No look-alikes: no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B.
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
CODE_LENGTH = 6
TOKEN_SALT = "participant"
TOKEN_MAX_AGE = 30 * 24 * 3600
DISPLAY_NAME_MAX = 80
ORGANISATION_MAX = 200  # as a registration's (models.registration)
ROLES = ("phone", "projector", "facilitator")
_CODE_CHARACTERS = frozenset(CODE_ALPHABET)
# The largest head count a session may expect.
EXPECTED_MAX = 100_000


class SessionError(Refused):
    """A refused request about a session (codes and texts in :mod:`deliberation.refusals`)."""


# -- sessions and codes -------------------------------------------------------------------


def normalize_code(code: str | None) -> str:
    return "".join(ch for ch in (code or "").upper() if ch not in " -_\t")


def new_join_code() -> str:
    for _attempt in range(50):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(db.select(LiveSession.id).filter_by(join_code=code)) is None:
            return code
    raise RuntimeError("could not find a free join code")  # 23**6 codes: practically never


@writes
def create_session(
    process: Process,
    session_kind: str,
    title: str,
    field_id: int | None = None,
    territory_id: int | None = None,
    held_on: date | None = None,
    place: str = "",
    admission: str | None = None,
    expected_count: int | None = None,
    easy_read: bool = False,
) -> LiveSession:
    """A new session. ``admission`` defaults to personal tickets for a general assembly
    (binding votes) and to the join code alone for a workshop."""
    title = (title or "").strip()
    if session_kind not in SESSION_KINDS:
        raise SessionError("invalid_session_kind")
    if admission is None:
        admission = "tickets" if session_kind == "assembly" else "open"
    if admission not in ADMISSIONS:
        raise SessionError("invalid_admission")
    if expected_count is not None and (
        type(expected_count) is not int or not 0 <= expected_count <= EXPECTED_MAX
    ):
        raise SessionError("invalid_expected", max=EXPECTED_MAX)
    if not title:
        raise SessionError("invalid_title")
    if len(title) > TITLE_MAX or len(place or "") > TITLE_MAX:
        raise SessionError("invalid_title", lazy_gettext("This text is too long."))
    if field_id is not None:
        field = db.session.get(Field, field_id)
        if field is None or field.process_id != process.id:
            raise SessionError("unknown_field")
    if territory_id is not None:
        territory = db.session.get(Territory, territory_id)
        if territory is None or territory.process_id != process.id:
            raise SessionError("unknown_territory")
    for _attempt in range(5):
        live_session = LiveSession(
            process_id=process.id,
            kind=session_kind,
            title=title,
            field_id=field_id,
            territory_id=territory_id,
            held_on=held_on,
            place=(place or "").strip(),
            join_code=new_join_code(),
            admission=admission,
            expected_count=expected_count,
            easy_read=bool(easy_read),
        )
        try:
            with db.session.begin_nested():
                db.session.add(live_session)
            return live_session
        except IntegrityError:  # two sessions drew the same code at the same moment
            continue  # the savepoint was rolled back: draw another code
    raise RuntimeError("could not store the session")


@writes
def set_easy_read(session: LiveSession, on: bool) -> None:
    """Whether the session's phones open in the easy-to-read mode (a participant's own
    choice on their phone still wins: :func:`..phone_page.easy_read_for`)."""
    session.easy_read = bool(on)


def possible_code(code: str) -> bool:
    # Only a code that can exist is looked up (a NUL would even be refused by PostgreSQL).
    return len(code) == CODE_LENGTH and set(code) <= _CODE_CHARACTERS


def session_by_code(code: str | None) -> LiveSession | None:
    code = normalize_code(code)
    if not possible_code(code):
        return None
    return db.session.scalar(db.select(LiveSession).filter_by(join_code=code))


def session_and_participant(
    code: str | None, token: str | None
) -> tuple[LiveSession, Participant] | None:
    """The session a code names, with its process, and the participant a token names in
    it, in one query (the phone page's every request read them in three); None when
    either is not found (then :func:`session_by_code` tells which)."""
    code = normalize_code(code)
    claims = token_claims(token)
    if claims is None or not isinstance(claims.session_id, int) or not possible_code(code):
        return None
    found = db.session.execute(
        db.select(LiveSession, Participant)
        .join(Participant, Participant.session_id == LiveSession.id)
        .options(joinedload(LiveSession.process))
        .where(LiveSession.join_code == code, *place_held(claims.subject, claims.session_id))
    ).first()
    return (found[0], found[1]) if found is not None else None


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an inline SVG that scales with its container."""
    return segno.make(url, error="m").svg_inline(scale=10, border=2, omitsize=True)


# -- participants and tokens --------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    # Built once per key: every phone connecting checks its token with it.
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)


def token_for(participant: Participant) -> str:
    return _serializer().dumps({"p": participant.token_id, "s": participant.session_id})


def printable(text: str) -> str:
    """``text`` without control characters and lone surrogates: nobody means them in a
    name, and PostgreSQL refuses a NUL."""
    if text.isascii():
        return "".join(ch for ch in text if " " <= ch <= "~" or ch in "\t\n")
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\t\n"
    )


@writes
def join(code: str, display_name: str = "", group: str = "") -> tuple[Participant, str]:
    """A new participant of the session with this code, and the signed token they keep.

    No admission rule here (tickets, throttles): people join through
    :func:`deliberation.services.live.admission.admit`; this is the primitive it uses, and what
    trusted code (the demo, the bench, tests) calls directly."""
    session = session_by_code(code)
    if session is None:
        raise SessionError("unknown_session")
    participant = new_participant(session, display_name, group)
    db.session.add(participant)
    return participant, token_for(participant)


def new_participant(
    session: LiveSession, display_name: str = "", group: str = "", organisation: str = ""
) -> Participant:
    """A participant of ``session``, checked, not added to the database session yet (the
    caller adds it in the transaction of its choice)."""
    group = (group or "").strip()
    if group and group not in (session.process.groups or []):
        raise SessionError("invalid_group")
    display_name = " ".join(printable(display_name or "").split())[:DISPLAY_NAME_MAX]
    organisation = " ".join(printable(organisation or "").split())[:ORGANISATION_MAX]
    participant = Participant(
        session_id=session.id,
        token_id=secrets.token_urlsafe(24),
        display_name=display_name,
        group=group,
        organisation=organisation,
    )
    return participant


@dataclass(frozen=True)
class TokenClaims:
    """What a participant's signed token says, its signature checked: no database read."""

    subject: str  # the participant's public id (``Participant.token_id``)
    session_id: Any  # as signed; compared with the participant's session, never trusted alone


def token_claims(token: Any) -> TokenClaims | None:
    """The claims of a well-signed, unexpired token, else None. Checked once per connection:
    the live edge charges the connection to ``subject`` before any database access, then
    identifies the phone with the same claims (:func:`phone_identity`)."""
    if not token or not isinstance(token, str) or len(token) > 500:
        return None
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return TokenClaims(subject=str(data.get("p")), session_id=data.get("s"))


def place_held(subject: Any, session_id: Any) -> list[Any]:
    """The conditions under which a token's claims (``subject``, ``session_id``: values or
    bound parameters) still hold a place: its participant, of the session the token was
    signed for, not voided (a voided ticket's place no longer connects or votes). On the
    table's columns: a Core statement stays Core with them."""
    table = Participant.__table__
    return [
        table.c.token_id == subject,
        table.c.session_id == session_id,
        table.c.voided_at.is_(None),
    ]


@dataclass(frozen=True)
class PhoneIdentity:
    participant_id: int
    session_id: int
    # Whether it voted in the poll asked about (None: none was asked about).
    voted: bool | None = None


@dataclass(frozen=True)
class PollAsked:
    """A poll whose ballot (or voter roll entry) to look up with the identity."""

    poll_id: int
    sealed: bool


def phone_identity(
    claims: TokenClaims | None, voted_in: PollAsked | None = None
) -> PhoneIdentity | None:
    """The place a token's claims name, if it still connects (:func:`place_held`), and
    whether it voted in ``voted_in`` — one indexed read
    of the tables, no ORM object: a hall reconnecting at once pays it a thousand times."""
    if claims is None:
        return None
    if not isinstance(claims.session_id, int):
        return None
    parameters = {"subject": claims.subject, "session_id": claims.session_id}
    if voted_in is not None:
        parameters["poll_id"] = voted_in.poll_id
    shape = _identity_statement(None if voted_in is None else voted_in.sealed)
    row = db.session.execute(shape, parameters).first()
    if row is None:
        return None
    return PhoneIdentity(
        participant_id=row.id,
        session_id=row.session_id,
        voted=bool(row.voted) if voted_in is not None else None,
    )


@functools.cache
def _identity_statement(sealed: bool | None) -> Any:
    """:func:`phone_identity`'s read built once per shape (building it was half its CPU)."""
    table = Participant.__table__
    columns = [table.c.id, table.c.session_id]
    if sealed is not None:
        voted = voting.voted_clause(bindparam("poll_id"), table.c.id, sealed=sealed)
        columns.append(voted.label("voted"))
    return db.select(*columns).where(*place_held(bindparam("subject"), bindparam("session_id")))


def participant_from_token(token: str | None) -> Participant | None:
    identity = phone_identity(token_claims(token))
    return db.session.get(Participant, identity.participant_id) if identity else None


# -- the agenda ---------------------------------------------------------------------------


def _process_of(item: Any) -> int | None:
    if isinstance(item, Hypothesis):
        return item.question.field.process_id
    if isinstance(item, Finding):
        return item.field.process_id
    if isinstance(item, (Recommendation, ActionPath, ImplementationCondition)):
        return item.finding.field.process_id
    if isinstance(item, Proposal):
        return db.session.get(LiveSession, item.session_id).process_id
    return None


@writes
def add_agenda_item(
    session: LiveSession, item_type: str, item_id: int | None = None, text: str = ""
) -> AgendaItem:
    """Append an item to the agenda: an authored item of the process, or a free question."""
    if item_type not in AGENDA_ITEM_TYPES:
        raise SessionError("invalid_item")
    text = (text or "").strip()
    if item_type == "free":
        if not text:
            raise SessionError("invalid_item", lazy_gettext("Type the question to put."))
        if len(text) > TEXT_MAX:
            raise SessionError(
                "invalid_item",
                lazy_gettext("A question is at most %(max)s characters.", max=TEXT_MAX),
            )
        item_id = None
    else:
        authored = authored_item(item_type, item_id)
        if authored is None or _process_of(authored) != session.process_id:
            raise SessionError("unknown_item", lazy_gettext("This item is not in the process."))
        if item_type == "action_paths" and not authored.action_paths:
            raise SessionError("invalid_item", lazy_gettext("This finding has no action path."))
        # A snapshot, shown if the authored item is deleted later.
        text = text or getattr(authored, "text", "")
    last = db.session.scalar(
        db.select(db.func.max(AgendaItem.position)).filter_by(session_id=session.id)
    )
    agenda_item = AgendaItem(
        session_id=session.id,
        position=(last + 1) if last is not None else 0,
        item_type=item_type,
        item_id=item_id,
        text=text,
    )
    db.session.add(agenda_item)
    return agenda_item


@writes
def add_agenda_items(session: LiveSession, picked: list[str]) -> list[AgendaItem]:
    """Append the items ticked in the console (``"finding:12"``…), all or none."""
    added = []
    for value in picked:
        item_type, _sep, raw_id = str(value).partition(":")
        if item_type not in TREE_ITEM_TYPES or not raw_id.isdigit():
            raise SessionError("invalid_item")
        added.append(add_agenda_item(session, item_type, int(raw_id)))
    if not added:
        raise SessionError("invalid_item", lazy_gettext("Tick at least one item to add."))
    return added


@writes
def move_agenda_item(agenda_item: AgendaItem, new_position: int) -> None:
    """Move an item to ``new_position`` (0-based, clamped) and renumber the agenda."""
    items = list(
        db.session.scalars(
            db.select(AgendaItem)
            .filter_by(session_id=agenda_item.session_id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    items.remove(agenda_item)
    new_position = max(0, min(int(new_position), len(items)))
    items.insert(new_position, agenda_item)
    for position, item in enumerate(items):
        item.position = position


@writes
def remove_agenda_item(agenda_item: AgendaItem) -> None:
    """Remove an item that was never voted on (a vote, even closed, is part of the record)."""
    if any(poll.state != "draft" for poll in agenda_item.polls):
        raise SessionError("item_has_votes")
    if any(version.text.strip() for version in agenda_item.minutes):
        raise SessionError("item_has_minutes")  # the minutes are part of the record too
    session = agenda_item.session
    if session.current_item_id == agenda_item.id:
        session.current_item_id = None
    db.session.delete(agenda_item)


@writes
def fill_agenda_from_field(session: LiveSession, field: Field) -> list[AgendaItem]:
    """Append a field's items in the order of a workshop: every hypothesis of its questions,
    then each finding with its recommendations, its action paths (one dot vote) and its
    implementation conditions. Items already on the agenda are not added twice."""
    if field.process_id != session.process_id:
        raise SessionError("unknown_field")
    present = {(item.item_type, item.item_id) for item in session.agenda}
    wanted: list[tuple[str, int]] = []
    for question in field.questions:
        wanted += [("hypothesis", hypothesis.id) for hypothesis in question.hypotheses]
    for finding in field.findings:
        wanted.append(("finding", finding.id))
        wanted += [("recommendation", item.id) for item in finding.recommendations]
        if finding.action_paths:
            wanted.append(("action_paths", finding.id))
        wanted += [("implementation_condition", item.id) for item in finding.conditions]
    return [
        add_agenda_item(session, item_type, item_id)
        for item_type, item_id in wanted
        if (item_type, item_id) not in present
    ]


def show_item(session: LiveSession, agenda_item: AgendaItem | None) -> None:
    """Put an item (or nothing: the idle screen) before the room."""
    if agenda_item is not None and agenda_item.session_id != session.id:
        raise SessionError("unknown_item")
    with voting.write_or_busy():
        open_poll = db.session.scalar(
            db.select(Poll.id).filter_by(session_id=session.id, state="open").limit(1)
        )
        target = agenda_item.id if agenda_item is not None else None
        if open_poll is not None and target != session.current_item_id:
            raise SessionError(
                "poll_open", lazy_gettext("Close the vote in progress before moving on.")
            )
        session.current_item_id = target


@writes
def set_projector_theme(session: LiveSession, theme: Any) -> None:
    """The projector's look, kept on the session: every projector follows it live, and one
    reloaded mid-session comes back with it."""
    if not isinstance(theme, str) or theme not in PROJECTOR_THEMES:
        raise SessionError("bad_request")
    session.projector_theme = theme
