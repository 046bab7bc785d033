"""Live sessions: agenda, participants, polls, ballots and their incremental counts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import methods
from ..extensions import db
from .base import TITLE_MAX, Timestamped, utcnow
from .process import Field, Process, Territory

SESSION_KINDS = ("workshop", "assembly")
# How a session admits participants: anyone with the join code, or one personal ticket each.
ADMISSIONS = ("open", "tickets")
# How the projector looks: light (the default), or dark with high contrast for a bright room
# where a washed-out white background loses the bars (chosen in the console).
PROJECTOR_THEMES = ("light", "dark")
POLL_STATES = ("draft", "open", "closed", "published")


class LiveSession(Timestamped, db.Model):
    """A workshop or a general assembly (named so as not to clash with Flask's ``session``)."""

    __tablename__ = "live_session"
    __table_args__ = (
        CheckConstraint("kind IN ('workshop', 'assembly')", name="live_session_kind"),
        CheckConstraint("length(title) > 0", name="live_session_title_not_empty"),
        CheckConstraint("admission IN ('open', 'tickets')", name="live_session_admission_known"),
        CheckConstraint(
            "expected_count IS NULL OR expected_count >= 0", name="live_session_expected_count"
        ),
        CheckConstraint(
            "projector_theme IN ('light', 'dark')", name="live_session_projector_theme_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="workshop")
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    field_id: Mapped[int | None] = mapped_column(
        ForeignKey("field.id", ondelete="SET NULL"), nullable=True
    )
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), nullable=True
    )
    held_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    place: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    join_code: Mapped[str] = mapped_column(String(6), unique=True)
    current_item_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "agenda_item.id",
            ondelete="SET NULL",
            use_alter=True,
            name="fk_live_session_current_item",
        ),
        nullable=True,
    )
    # Demonstration data shipped with the demo process is flagged so.
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # "open": the join code is enough; "tickets": one personal ticket per participant.
    admission: Mapped[str] = mapped_column(String(10), default="open")
    # How many people the facilitator expects in the room (the console warns above it).
    expected_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The phones open in the easy-to-read mode unless a participant switched it off on their
    # phone (docs/phones.md, « Facile à lire et à comprendre »).
    easy_read: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kept on the session, so that a projector reloaded mid-session keeps the theme chosen.
    projector_theme: Mapped[str] = mapped_column(
        String(10), default="light", server_default="light"
    )

    process: Mapped[Process] = relationship()
    field: Mapped[Field | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="session",
        order_by="AgendaItem.position",
        cascade="all, delete-orphan",
        foreign_keys="AgendaItem.session_id",
    )
    current_item: Mapped[AgendaItem | None] = relationship(
        foreign_keys=[current_item_id], post_update=True
    )


class AgendaItem(db.Model):
    """One thing put to the room: an authored item, or a free question typed on the spot."""

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_type: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # For free questions (and a fallback label for any item).
    text: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[LiveSession] = relationship(back_populates="agenda", foreign_keys=[session_id])
    polls: Mapped[list[Poll]] = relationship(
        back_populates="agenda_item", order_by="Poll.id", cascade="all, delete-orphan"
    )
    minutes: Mapped[list[MinutesVersion]] = relationship(
        order_by="MinutesVersion.id", cascade="all, delete-orphan", passive_deletes=True
    )


class MinutesVersion(db.Model):
    """One save of the facilitator's minutes of an agenda item: the newest is the text, the
    others its history (docs/facilitating.md, "Minutes"). Never updated, only added to."""

    __tablename__ = "minutes_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The version the console was editing when it saved (None: the first). When it is not
    # the newest (another console saved meanwhile) the server merges both texts.
    base_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # True for the merge the server wrote after a console saved on an older version.
    merged: Mapped[bool] = mapped_column(Boolean, default=False)


class Participant(db.Model):
    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"))
    # Random public id carried in the signed token kept by the phone.
    token_id: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    group: Mapped[str] = mapped_column(String(80), default="")
    # The organisation given when joining (optional), or the one of the ticket's registration.
    organisation: Mapped[str] = mapped_column(String(200), default="")
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the participant's ticket was voided: the place no longer votes or connects.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Poll(Timestamped, db.Model):
    """A vote on an agenda item; a lifecycle object (draft → open → closed → published)."""

    __tablename__ = "poll"
    __table_args__ = (
        CheckConstraint(
            "state IN ('draft', 'open', 'closed', 'published')", name="poll_state_known"
        ),
        # From the method registry; the initial migration repeats it (make schema).
        CheckConstraint(methods.check_constraint(), name="poll_method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"))
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(30), default=methods.DEFAULT_METHOD)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    show_live: Mapped[bool] = mapped_column(Boolean, default=False)
    # Secret (the default): once closed, nothing stored links a participant to a choice.
    # Named: the record keeps who voted what. Chosen when the poll is opened.
    secret: Mapped[bool] = mapped_column(Boolean, default=True)
    # Options for majority judgment and dot voting: [{"key": "...", "label": "..."}].
    options: Mapped[list] = mapped_column(JSON, default=list)
    dots: Mapped[int] = mapped_column(Integer, default=3)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    countdown_ends_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Bumped by each reset so that ballots of an earlier round can never be counted again.
    round: Mapped[int] = mapped_column(Integer, default=1)

    agenda_item: Mapped[AgendaItem] = relationship(back_populates="polls")
    session: Mapped[LiveSession] = relationship()


class Ballot(db.Model):
    """One participant's current choice in one poll. The last one sent while open counts.

    When a secret poll closes its ballots become an anonymous urn: no participant, no time,
    rows rewritten in the order of their group and choice (``services.live.secrecy``).
    """

    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("poll_id", "participant_id", name="one_ballot_per_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), nullable=True
    )
    choice: Mapped[dict] = mapped_column(JSON)
    group: Mapped[str] = mapped_column(String(80), default="")
    cast_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=utcnow)


class PollVoter(db.Model):
    """The voter roll of a closed secret poll: who voted, never what or when."""

    __tablename__ = "poll_voter"
    __table_args__ = (UniqueConstraint("poll_id", "participant_id", name="one_roll_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))


class BallotReceipt(db.Model):
    """Every client-generated ballot id ever accepted, so a resend is acknowledged, not counted."""

    __tablename__ = "ballot_receipt"
    __table_args__ = (UniqueConstraint("poll_id", "client_id", name="ballot_id_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    # Cleared when a secret poll closes (a resend is still acknowledged, by its id alone).
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), nullable=True
    )
    # The poll's round when it was counted: the same id sent again after a reset is a
    # ballot of a round that no longer counts (stale_round), not a duplicate.
    round: Mapped[int] = mapped_column(Integer, default=1)


class PollCount(db.Model):
    """Incremental tally: one counter per poll, group and key, updated with each ballot.

    Keys: ``#ballots`` (ballots cast), an option key for single-choice methods
    (``full``, ``yes``…), ``<option>:<grade>`` for majority judgment, ``<option>`` (dots
    given) for dot voting.
    """

    __tablename__ = "poll_count"
    __table_args__ = (UniqueConstraint("poll_id", "group", "key", name="one_counter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    group: Mapped[str] = mapped_column(String(80), default="")
    key: Mapped[str] = mapped_column(String(120))
    count: Mapped[int] = mapped_column(Integer, default=0)


class PollAudit(db.Model):
    """What happened to a poll (open, close, publish, reset) and the counts at that moment."""

    __tablename__ = "poll_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class Proposal(Timestamped, db.Model):
    """Amendment, new action path / condition, or comment sent from the floor."""

    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint("length(text) > 0", name="proposal_text_not_empty"),
        CheckConstraint(
            "kind IN ('amendment', 'action_path', 'implementation_condition', 'comment')",
            name="proposal_kind_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    # The item it amends or attaches to (a finding for new action paths / conditions).
    item_type: Mapped[str] = mapped_column(String(40), default="")
    item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    # pending → accepted (for a vote) | merged | returned | kept_as_comment → adopted | rejected
    status: Mapped[str] = mapped_column(String(30), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposal.id", ondelete="SET NULL"), nullable=True
    )
    supporters: Mapped[int] = mapped_column(Integer, default=1)
    client_id: Mapped[str] = mapped_column(String(64), default="")
