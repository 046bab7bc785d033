"""The vote rules, in one place: poll lifecycle, what a valid choice is, and the tally.

Casting a ballot applies these rules in :mod:`.ballots` (the hot path, written in batches).
Every write runs in :func:`deliberation.database.write_transaction` (``BEGIN IMMEDIATE`` on
SQLite) and locks the poll row first (``SELECT … FOR UPDATE`` on PostgreSQL), so a ballot
and a close can never interleave: the count at close is final.

Counts are incremental (:class:`PollCount`): a ballot adds to its counters, a change of vote
takes the old choice out and puts the new one in, in the same transaction. Nothing here
logs or returns who chose what.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ... import methods
from ...database import write_transaction
from ...extensions import db
from ...methods import verdict
from ...models import (
    AgendaItem,
    Ballot,
    LiveSession,
    Participant,
    Poll,
    PollAudit,
    PollCount,
    PollVoter,
    utcnow,
)
from ...refusals import Refused
from ...tally import OutcomeRule
from ...tally.rules import BALLOTS_KEY
from . import amendments, secrecy
from .items import present_item
from .turnout import PollSeen

BALLOT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
OPTION_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
OPTION_LABEL_MAX = 300
MAX_OPTIONS = 30
MAX_DOTS = 20
MAX_COUNTDOWN = 3600
# Who closed a poll whose countdown ended, in its audit.
COUNTDOWN_ACTOR = "countdown"

# action -> states it may start from, and the state it leads to.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "open": (("draft",), "open"),
    "close": (("open",), "closed"),
    "publish": (("closed",), "published"),
    "reset": (("open", "closed", "published"), "draft"),
}


class VoteError(Refused):
    """A vote refused (codes and texts in :mod:`deliberation.refusals`). Nothing was written."""


@dataclass(frozen=True)
class CastResult:
    ballot_id: str
    duplicate: bool
    poll_id: int
    session_id: int

    def ack(self) -> dict[str, Any]:
        return {"ok": True, "ballot_id": self.ballot_id, "duplicate": self.duplicate}


@contextmanager
def write_or_busy() -> Iterator[None]:
    """A write transaction whose lock timeout becomes a ``server_busy`` refusal."""
    try:
        with write_transaction():
            yield
    except (OperationalError, PoolTimeout) as error:
        raise VoteError("server_busy") from error


# -- reading ------------------------------------------------------------------------------


def latest_poll(agenda_item: AgendaItem) -> Poll | None:
    return db.session.scalar(
        db.select(Poll).filter_by(agenda_item_id=agenda_item.id).order_by(Poll.id.desc()).limit(1)
    )


def counts_by_group(poll: Poll) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = db.session.execute(
        db.select(PollCount.group, PollCount.key, PollCount.count).filter_by(poll_id=poll.id)
    )
    for group, key, count in rows:
        if count:
            counts[group][key] = count
    return dict(counts)


def voted_count(poll: Poll) -> int:
    return int(
        db.session.scalar(
            db.select(db.func.coalesce(db.func.sum(PollCount.count), 0)).filter_by(
                poll_id=poll.id, key=BALLOTS_KEY
            )
        )
    )


def has_voted(poll: Poll, participant: Participant) -> bool:
    """Whether a ballot of this participant counts in the poll's current round: its ballot
    row, or once a secret poll closed, the voter roll (the ballots are anonymous then)."""
    return participant_voted(poll.id, participant.id, sealed=is_sealed(poll.secret, poll.state))


def is_sealed(secret: bool, state: str) -> bool:
    """A secret poll once closed: its ballots are anonymous, the voter roll says who voted."""
    return bool(secret) and state in ("closed", "published")


def voted_clause(poll_id: int, participant_id: Any, *, sealed: bool) -> Any:
    """SQL truth of "a ballot of ``participant_id`` counts in the poll": its ballot row, or
    the voter roll once a secret poll is closed (:func:`is_sealed`). Written against the
    tables, not the ORM classes: a phone connecting pays it, and a Core statement costs a
    third of the same ORM one (bench, "the connect path")."""
    table = (PollVoter if sealed else Ballot).__table__
    return (
        db.select(table.c.id)
        .where(table.c.poll_id == poll_id, table.c.participant_id == participant_id)
        .limit(1)
        .exists()
    )


def participant_voted(poll_id: int, participant_id: int, *, sealed: bool) -> bool:
    """:func:`has_voted` from ids."""
    return bool(db.session.scalar(db.select(voted_clause(poll_id, participant_id, sealed=sealed))))


def answer_labels(poll: Poll) -> dict[str, str]:
    """The poll's answer (or grade) keys → labels, in the reader's locale."""
    return methods.method(poll.method).answer_labels(poll.session.process)


def describe_poll(poll: Poll) -> dict[str, Any]:
    """The poll as clients see it (no counts: those travel separately). ``form`` tells the
    phone which ballot to build (the method's ``phone_form``); ``legend`` heads it."""
    method = methods.method(poll.method)
    labels = answer_labels(poll)
    return {
        "id": poll.id,
        "item_id": poll.agenda_item_id,
        "method": poll.method,
        "form": method.phone_form,
        "legend": str(method.legend),
        "state": poll.state,
        "round": poll.round,
        "secret": poll.secret,
        "show_live": poll.show_live,
        # ``picto``: the pictogram beside the answer in the easy-to-read mode ("" for none).
        "answers": [
            {"key": key, "label": labels[key], "picto": method.pictograms.get(key, "")}
            for key in method.answer_keys
        ],
        "grades": [{"key": key, "label": labels[key]} for key in method.grade_keys],
        "options": list(poll.options or []),
        "dots": poll.dots,
        "opened_at": _iso(poll.opened_at),
        "closed_at": _iso(poll.closed_at),
        "countdown_ends_at": _iso(poll.countdown_ends_at),
    }


def results_visible(poll: Poll | PollSeen, role: str) -> bool:
    """Who may see the distribution. While a secret poll is open, nobody (the console
    included): every screen gets the turnout only, so no single ballot can be read off a
    change of the figures. ``show_live`` applies to named polls only."""
    if poll.secret and poll.state == "open":
        return False
    if role == "facilitator":
        return True
    if poll.state == "published":
        return True
    return (
        role == "projector"
        and poll.show_live
        and not poll.secret
        and poll.state in ("open", "closed")
    )


def results(poll: Poll) -> dict[str, Any]:
    """The tally of the incremental counts (small groups merged by the tally code)."""
    labels = answer_labels(poll)
    for option in poll.options or []:
        labels[option["key"]] = option["label"]
    summary = methods.summarize(
        poll.method,
        counts_by_group(poll),
        OutcomeRule.from_process(poll.session.process),
        options=list(poll.options or []),
        labels=labels,
    )
    # The verdict with its label and reason in words, as every screen shows it (the state is
    # built in the process language: docs/protocol.md, ``results.verdict``).
    grades = methods.method(poll.method).answer_labels(poll.session.process)
    summary["verdict"] = verdict.worded(summary["verdict"], grades)
    for row in summary["groups"]:
        if row.get("verdict"):
            row["verdict"] = verdict.worded(row["verdict"], grades)
    return summary


def _iso(moment: Any) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


# -- casting ------------------------------------------------------------------------------


def choice_counters(poll: Poll, choice: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """Check a choice against the poll's method; return it cleaned, and the counters it
    adds to."""
    option_keys = [option["key"] for option in poll.options or []]
    try:
        return methods.method(poll.method).clean_choice(choice, option_keys, poll.dots)
    except methods.InvalidChoice as error:
        raise VoteError("invalid_choice") from error


def _lock_poll(poll_id: int) -> Poll | None:
    return db.session.scalar(
        db.select(Poll)
        .filter_by(id=poll_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# -- the lifecycle ------------------------------------------------------------------------


def _audit(poll: Poll, action: str, actor: str, **details: Any) -> None:
    # A secret poll's distribution is only kept once folded at close: before that, the
    # audit keeps the turnout alone.
    if poll.secret and not is_sealed(poll.secret, poll.state):
        figures: dict[str, Any] = {"ballots": voted_count(poll)}
    else:
        figures = {"counts": counts_by_group(poll)}
    db.session.add(
        PollAudit(
            poll_id=poll.id,
            action=action,
            actor=actor or "",
            details={"round": poll.round, **figures, **details},
        )
    )


def _check_transition(poll: Poll, action: str) -> str:
    sources, target = TRANSITIONS[action]
    if poll.state not in sources:
        raise VoteError("invalid_transition")
    return target


def clean_options(method: str, options: Any, agenda_item: AgendaItem) -> list[dict[str, str]]:
    vote_method = methods.method(method)
    if not vote_method.uses_options:
        return []
    if options is None:
        options = present_item(agenda_item)["options"]
        if not options and vote_method.item_as_option:
            options = [{"key": "item", "label": present_item(agenda_item)["title"]}]
    if not isinstance(options, list) or len(options) > MAX_OPTIONS:
        raise VoteError("invalid_options")
    cleaned = []
    for option in options:
        if not isinstance(option, dict):
            raise VoteError("invalid_options")
        key, label = option.get("key"), option.get("label")
        if not isinstance(key, str) or not OPTION_KEY.match(key):
            raise VoteError("invalid_options")
        if not isinstance(label, str) or not label.strip() or len(label) > OPTION_LABEL_MAX:
            raise VoteError("invalid_options")
        cleaned.append({"key": key, "label": label.strip()})
    if len({option["key"] for option in cleaned}) != len(cleaned):
        raise VoteError("invalid_options")
    if len(cleaned) < vote_method.min_options:
        raise VoteError("invalid_options")
    return cleaned


def open_poll(
    session: LiveSession,
    agenda_item: AgendaItem,
    method: str,
    show_live: bool = False,
    options: Any = None,
    dots: Any = None,
    countdown_seconds: Any = None,
    actor: str = "",
    secret: Any = True,
    auto_close: bool = True,
) -> Poll:
    """Open a vote on an agenda item (and show that item). One open poll per session.

    ``secret`` (the default) or named (``False``) is fixed for the poll's life; a secret
    poll shows no live results (``show_live`` is for named polls). ``auto_close`` is only
    kept in the audit: the live layer schedules the close (:func:`close_at_countdown`)."""
    if agenda_item.session_id != session.id:
        raise VoteError("unknown_item")
    if type(secret) is not bool:
        raise VoteError("bad_request")
    if not methods.known(method):
        raise VoteError("invalid_method")
    cleaned_options = clean_options(method, options, agenda_item)
    if dots is None:
        dots = 3
    if methods.method(method).uses_dots and (type(dots) is not int or not 1 <= dots <= MAX_DOTS):
        raise VoteError("invalid_options")
    if countdown_seconds is not None and (
        type(countdown_seconds) is not int or not 0 < countdown_seconds <= MAX_COUNTDOWN
    ):
        raise VoteError("bad_request")
    with write_or_busy():
        locked_session = db.session.scalar(
            db.select(LiveSession)
            .filter_by(id=session.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if db.session.scalar(
            db.select(Poll.id).filter_by(session_id=session.id, state="open").limit(1)
        ):
            raise VoteError("poll_open")
        poll = latest_poll(agenda_item)
        if poll is not None and poll.state == "draft":
            poll = _lock_poll(poll.id)
        else:
            poll = Poll(session_id=session.id, agenda_item_id=agenda_item.id, round=1)
            db.session.add(poll)
        now = utcnow()
        poll.method = method
        poll.options = cleaned_options
        poll.dots = dots if type(dots) is int else 3
        poll.secret = secret
        poll.show_live = bool(show_live) and not secret
        poll.state = "open"
        poll.opened_at = now
        poll.closed_at = None
        poll.countdown_ends_at = (
            now + timedelta(seconds=countdown_seconds) if countdown_seconds else None
        )
        locked_session.current_item_id = agenda_item.id
        db.session.flush()
        _audit(poll, "open", actor, method=method, auto_close=bool(auto_close))
    return poll


def _transition(
    poll_id: int, action: str, actor: str, only_if: Callable[[Poll], bool] | None = None
) -> Poll | None:
    """Run ``action`` on the poll; with ``only_if``, only when it holds of the locked poll
    (None otherwise, nothing written)."""
    with write_or_busy():
        locked = _lock_poll(poll_id)
        if locked is None:
            if only_if is not None:
                return None
            raise VoteError("unknown_poll")
        if only_if is not None and not only_if(locked):
            return None
        target = _check_transition(locked, action)
        if action == "close":
            locked.closed_at = utcnow()
            if locked.secret:
                # Same transaction as the close: no ballot can be counted in between.
                secrecy.seal(locked)
            locked.state = target
            _audit(locked, action, actor)  # after the folding: the counts as kept
        else:
            _audit(locked, action, actor)  # the counts the round had
            if action == "reset":
                secrecy.forget_round(locked)
                # Receipts stay, with their round: an old ballot id sent again is answered
                # stale_round, never counted.
                locked.round += 1
                locked.opened_at = None
                locked.closed_at = None
                locked.countdown_ends_at = None
            locked.state = target
        if action == "publish":
            # A published vote on an amendment adopts or rejects it, in the same transaction.
            amendments.settle(locked, results(locked))
        # Read now: after the commit, reading the poll would open a read transaction, and
        # on SQLite a reader keeps the write-ahead log from being truncated.
        scrub = locked.secret and action in ("close", "reset")
    if scrub:
        secrecy.scrub_storage()
    return locked


def close_poll(poll: Poll, actor: str = "") -> Poll:
    transitioned = _transition(poll.id, "close", actor)
    assert transitioned is not None  # no condition: it ran, or raised
    return transitioned


def close_at_countdown(poll_id: int, round_: int) -> Poll | None:
    """Close the poll because its countdown ended; None when there is nothing to do.

    Called by a timer, so everything is checked again under the poll's lock, in the
    closing transaction: the facilitator may have closed, reset (a new round) or reopened
    the poll meanwhile, and a timer woken a little early must not close before the time
    every screen shows."""

    def due(locked: Poll) -> bool:
        return (
            locked.state == "open"
            and locked.round == round_
            and locked.countdown_ends_at is not None
            and locked.countdown_ends_at <= utcnow()
        )

    return _transition(poll_id, "close", COUNTDOWN_ACTOR, only_if=due)


def publish_poll(poll: Poll, actor: str = "") -> Poll:
    transitioned = _transition(poll.id, "publish", actor)
    assert transitioned is not None  # no condition: it ran, or raised
    return transitioned


def reset_poll(poll: Poll, actor: str = "") -> Poll:
    transitioned = _transition(poll.id, "reset", actor)
    assert transitioned is not None  # no condition: it ran, or raised
    return transitioned


def set_show_live(poll: Poll, show_live: bool, actor: str = "") -> Poll:
    with write_or_busy():
        locked = _lock_poll(poll.id)
        if locked is None:
            raise VoteError("unknown_poll")
        if locked.secret and show_live:
            raise VoteError("secret_no_live")
        locked.show_live = bool(show_live)
        _audit(locked, "show_live" if show_live else "hide_live", actor)
    return locked


def withdraw_open_ballots(session_id: int, participant_id: int) -> int:
    """Take a participant's ballots out of the session's open polls, counters included.

    For a place that is voided (its ticket lost or stolen) while a poll is open: the person
    votes again from their replacement ticket, and counts once. Runs inside the caller's
    write transaction; returns how many ballots were withdrawn. Closed polls keep theirs:
    those ballots were cast while the place was valid.
    """
    open_polls = db.session.scalars(
        db.select(Poll)
        .filter_by(session_id=session_id, state="open")
        .order_by(Poll.id)
        .with_for_update()
    ).all()
    withdrawn = 0
    for poll in open_polls:
        ballot = db.session.scalar(
            db.select(Ballot).filter_by(poll_id=poll.id, participant_id=participant_id)
        )
        if ballot is None:
            continue
        counters = {BALLOTS_KEY: 1, **choice_counters(poll, ballot.choice)[1]}
        for key, amount in counters.items():
            db.session.execute(
                db.update(PollCount)
                .filter_by(poll_id=poll.id, group=ballot.group, key=key)
                .values(count=PollCount.count - amount)
            )
        db.session.delete(ballot)
        withdrawn += 1
    return withdrawn
