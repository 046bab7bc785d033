"""Changing who may touch a process: invitations, roles, removals, and their record.

Each change runs in one :func:`database.write_transaction` that first locks the process row
(PostgreSQL; SQLite's write lock serialises them anyway), so two owners demoting each other
at the same moment cannot leave a process without an owner, and an invitation followed
twice at once makes one member. Every change writes a :class:`MembershipEvent`.

Refusals raise :class:`MembershipError` with a message for the organiser. Who may call
what (owners manage members) is decided by :mod:`services.people.access` before these run.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, func, select

from ...database import write_transaction
from ...extensions import db
from ...models import (
    MEMBER_ROLES,
    Invitation,
    Membership,
    MembershipEvent,
    Organizer,
    Process,
    Territory,
    utcnow,
)
from ..validation import _, check_title
from .access import Role
from .accounts import AccountError, create_organizer

DEFAULT_INVITATION_DAYS = 7
TOKEN_BYTES = 32
HISTORY_SHOWN = 200


class MembershipError(ValueError):
    """A change refused; ``message`` is shown to the organiser."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def invitation_days() -> int:
    """How long a new invitation link works (``INVITATION_DAYS``, default 7)."""
    days = current_app.config.get("INVITATION_DAYS", DEFAULT_INVITATION_DAYS)
    return days if isinstance(days, int) and days > 0 else DEFAULT_INVITATION_DAYS


# -- reading ------------------------------------------------------------------------------


def members(process: Process) -> list[Membership]:
    """Owners first, then co-organisers, then facilitators; by e-mail within a role."""
    rows = db.session.scalars(
        select(Membership).filter_by(process_id=process.id).join(Membership.organizer)
    ).all()
    rank = {role: index for index, role in enumerate(MEMBER_ROLES)}
    return sorted(rows, key=lambda m: (rank[m.role], m.organizer.email))


def pending_invitations(process: Process) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .filter_by(process_id=process.id, used_at=None, withdrawn_at=None)
            .where(Invitation.expires_at > utcnow())
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def history(process: Process, limit: int = HISTORY_SHOWN) -> list[MembershipEvent]:
    return list(
        db.session.scalars(
            select(MembershipEvent)
            .filter_by(process_id=process.id)
            .order_by(MembershipEvent.at.desc(), MembershipEvent.id.desc())
            .limit(limit)
        )
    )


def valid_invitation(token: str | None) -> Invitation | None:
    """The invitation of a link that still works: not used, withdrawn nor expired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    invitation = db.session.scalar(select(Invitation).filter_by(token_hash=token_hash(token)))
    if invitation is None or not _still_valid(invitation):
        return None
    return invitation


def _still_valid(invitation: Invitation) -> bool:
    return (
        invitation.used_at is None
        and invitation.withdrawn_at is None
        and invitation.expires_at > utcnow()
    )


# -- helpers for the writes ---------------------------------------------------------------


def _fresh(query: Select) -> Select:
    """Rows read under the lock overwrite what the session read before it (an object already
    in the identity map would otherwise keep its stale values)."""
    return query.execution_options(populate_existing=True)


def _lock_process(process_id: int) -> Process:
    process = db.session.scalar(_fresh(select(Process).filter_by(id=process_id).with_for_update()))
    if process is None:
        raise MembershipError("unknown_process", _("This process no longer exists."))
    return process


def _check_role(role: str | None, territory_id: int | None, process: Process) -> Territory | None:
    if role not in MEMBER_ROLES:
        raise MembershipError("bad_role", _("Choose a role: owner, co-organiser or facilitator."))
    if territory_id is None:
        return None
    if role != Role.FACILITATOR:
        raise MembershipError(
            "territory_for_facilitators", _("Only a facilitator can be limited to a territory.")
        )
    territory = db.session.get(Territory, territory_id)
    if territory is None or territory.process_id != process.id:
        raise MembershipError("unknown_territory", _("This territory is not in the process."))
    return territory


def _record(
    process_id: int,
    actor: str,
    action: str,
    subject: str,
    role: str = "",
    territory: Territory | None = None,
) -> None:
    db.session.add(
        MembershipEvent(
            process_id=process_id,
            actor=actor,
            action=action,
            subject=subject[:300],
            role=role,
            territory=territory.name if territory else "",
        )
    )


def _owners(process_id: int) -> int:
    return db.session.scalar(
        select(func.count(Membership.id)).filter_by(process_id=process_id, role=Role.OWNER)
    )


def _member(process: Process, membership_id: int | None) -> Membership:
    membership = db.session.scalar(_fresh(select(Membership).filter_by(id=membership_id)))
    if membership is None or membership.process_id != process.id:
        raise MembershipError("unknown_member", _("This person is not a member of the process."))
    return membership


# -- invitations --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once, in the link; only its hash is stored


def invite(
    process: Process,
    actor: str,
    role: str | None,
    territory_id: int | None = None,
    label: str = "",
    days: int | None = None,
) -> NewInvitation:
    """A one-time link that makes its follower a member with ``role``."""
    label = check_title(label, _("For whom"), required=False)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with write_transaction():
        locked = _lock_process(process.id)
        territory = _check_role(role, territory_id, locked)
        invitation = Invitation(
            process_id=locked.id,
            token_hash=token_hash(token),
            role=role,
            territory_id=territory.id if territory else None,
            label=label,
            created_by=actor,
            expires_at=utcnow() + timedelta(days=days or invitation_days()),
        )
        db.session.add(invitation)
        _record(locked.id, actor, "invited", label, role or "", territory)
    return NewInvitation(invitation, token)


def withdraw_invitation(process: Process, actor: str, invitation_id: int | None) -> Invitation:
    with write_transaction():
        _lock_process(process.id)
        invitation = db.session.scalar(_fresh(select(Invitation).filter_by(id=invitation_id)))
        if invitation is None or invitation.process_id != process.id:
            raise MembershipError("unknown_invitation", _("This invitation does not exist."))
        if not _still_valid(invitation):
            raise MembershipError(
                "invitation_closed", _("This invitation was already used, withdrawn or expired.")
            )
        invitation.withdrawn_at = utcnow()
        _record(
            process.id,
            actor,
            "invitation_withdrawn",
            invitation.label,
            invitation.role,
            invitation.territory,
        )
    return invitation


def _refuse_invalid() -> MembershipError:
    return MembershipError(
        "invalid_invitation",
        _(
            "This invitation link does not work: it was already used, withdrawn, or it "
            "expired. Ask an owner of the process for a new one."
        ),
    )


def accept(token: str | None, organizer: Organizer) -> Membership:
    """The logged-in ``organizer`` follows the link: they become a member, once."""
    found = valid_invitation(token)
    if found is None:
        raise _refuse_invalid()
    with write_transaction():
        _lock_process(found.process_id)
        invitation = db.session.scalar(
            _fresh(select(Invitation).filter_by(id=found.id).with_for_update())
        )
        if invitation is None or not _still_valid(invitation):
            raise _refuse_invalid()
        existing = db.session.scalar(
            select(Membership).filter_by(
                process_id=invitation.process_id, organizer_id=organizer.id
            )
        )
        if existing is not None:
            raise MembershipError(
                "already_member",
                _(
                    "You are already a member of this process. The invitation was not used: "
                    "an owner can change your role on the members page."
                ),
            )
        membership = Membership(
            process_id=invitation.process_id,
            organizer_id=organizer.id,
            role=invitation.role,
            territory_id=invitation.territory_id,
        )
        db.session.add(membership)
        invitation.used_at = utcnow()
        invitation.used_by = organizer.email
        _record(
            invitation.process_id,
            organizer.email,
            "joined",
            organizer.email,
            invitation.role,
            invitation.territory,
        )
    return membership


def register_and_accept(token: str | None, email: str, password: str, name: str = "") -> Organizer:
    """Someone without an account follows the link: create it, then accept the invitation.

    The link is checked first, so a dead link creates no account. Password rules are the
    command line's (:func:`services.people.accounts.check_credentials`).
    """
    if valid_invitation(token) is None:
        raise _refuse_invalid()
    try:
        organizer = create_organizer(email, password, name)
    except AccountError as error:
        raise MembershipError("account", str(error)) from None
    accept(token, organizer)
    return organizer


# -- members ------------------------------------------------------------------------------


def make_owner(process: Process, organizer: Organizer, actor: str) -> Membership:
    """Inside the caller's transaction: the creator of a process becomes its owner."""
    membership = Membership(process=process, organizer=organizer, role=Role.OWNER)
    db.session.add(membership)
    db.session.flush()
    _record(process.id, actor, "added", organizer.email, Role.OWNER)
    return membership


def add_member(
    process: Process,
    organizer: Organizer,
    role: str,
    territory_id: int | None = None,
    actor: str = "",
) -> Membership:
    """Add (or change) a member directly: the command line and the demo, not the web."""
    with write_transaction():
        locked = _lock_process(process.id)
        territory = _check_role(role, territory_id, locked)
        membership = db.session.scalar(
            _fresh(select(Membership).filter_by(process_id=locked.id, organizer_id=organizer.id))
        )
        if membership is None:
            membership = Membership(process_id=locked.id, organizer_id=organizer.id, role=role)
            db.session.add(membership)
            action = "added"
        else:
            if membership.role == Role.OWNER and role != Role.OWNER and _owners(locked.id) <= 1:
                raise _last_owner()
            membership.role = role
            action = "role_changed"
        membership.territory_id = territory.id if territory else None
        _record(locked.id, actor, action, organizer.email, role, territory)
    return membership


def _last_owner() -> MembershipError:
    return MembershipError(
        "last_owner",
        _("A process keeps at least one owner: make someone else owner first."),
    )


def change_role(
    process: Process,
    actor: str,
    membership_id: int | None,
    role: str | None,
    territory_id: int | None = None,
) -> Membership:
    with write_transaction():
        locked = _lock_process(process.id)
        membership = _member(locked, membership_id)
        territory = _check_role(role, territory_id, locked)
        if membership.role == Role.OWNER and role != Role.OWNER and _owners(locked.id) <= 1:
            raise _last_owner()
        membership.role = role
        membership.territory_id = territory.id if territory else None
        _record(locked.id, actor, "role_changed", membership.organizer.email, role, territory)
    return membership


@dataclass(frozen=True)
class Removed:
    email: str
    organizer_id: int


def remove_member(process: Process, actor: str, membership_id: int | None) -> Removed:
    """Remove a member. The last owner cannot be removed."""
    with write_transaction():
        locked = _lock_process(process.id)
        membership = _member(locked, membership_id)
        if membership.role == Role.OWNER and _owners(locked.id) <= 1:
            raise _last_owner()
        removed = Removed(membership.organizer.email, membership.organizer_id)
        db.session.delete(membership)
        _record(locked.id, actor, "removed", removed.email, membership.role)
    return removed


@dataclass(frozen=True)
class KeptMember:
    organizer_id: int
    role: str
    territory: str  # by name: a replaced process gets new territory rows


def snapshot(process: Process) -> list[KeptMember]:
    """The members of a process about to be replaced by an import (``--replace``)."""
    return [
        KeptMember(m.organizer_id, m.role, m.territory.name if m.territory else "")
        for m in members(process)
    ]


def restore(process: Process, kept: Sequence[KeptMember]) -> int:
    """Give the replacing process the members of the one it replaced. A facilitator whose
    territory is gone is not kept (their rights would otherwise widen to every session)."""
    by_name = {t.name: t for t in process.territories}
    restored = 0
    with write_transaction():
        _lock_process(process.id)
        for member in kept:
            territory = by_name.get(member.territory) if member.territory else None
            organizer = db.session.get(Organizer, member.organizer_id)
            if organizer is None or (member.territory and territory is None):
                continue
            db.session.add(
                Membership(
                    process_id=process.id,
                    organizer_id=organizer.id,
                    role=member.role,
                    territory_id=territory.id if territory else None,
                )
            )
            _record(process.id, "", "added", organizer.email, member.role, territory)
            restored += 1
    return restored


def ownerless(processes: Sequence[Process]) -> set[int]:
    """The ids of those ``processes`` that have no owner (imported without one)."""
    owned = set(
        db.session.scalars(
            select(Membership.process_id).where(
                Membership.role == Role.OWNER,
                Membership.process_id.in_([p.id for p in processes]),
            )
        )
    )
    return {p.id for p in processes if p.id not in owned}
