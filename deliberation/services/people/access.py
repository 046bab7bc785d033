"""Who may do what to a process: the one place that decides (docs/security.md).

A process has members, each with one role:

- **owner** — everything, including what shapes the steering committee itself: inviting,
  changing and removing members (so handing ownership over), and deleting the process;
- **co-organiser** — everything about the process except those: authoring, settings,
  scheduling and running live sessions, consolidation, exports and publication;
- **facilitator** — runs the process's live sessions (console, agenda, votes,
  moderation), optionally only those of one territory, and nothing else.

An instance administrator (``Organizer.is_admin``, granted by the command line) may do
everything to every process. Anyone else may do nothing, and is not told the process
exists. Views and socket handlers never decide for themselves: they ask :func:`decide`
(or :func:`can`) once per request or event. This module never touches ``request``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum, StrEnum

from sqlalchemy import select

from ...extensions import db
from ...models import LiveSession, Membership, Organizer, Process


class Role(StrEnum):
    OWNER = "owner"
    CO_ORGANIZER = "co_organizer"
    FACILITATOR = "facilitator"


class Capability(StrEnum):
    VIEW = "view"  # read the process in the organisers' screens (outline, history, results)
    EDIT = "edit"  # author, change settings, schedule sessions, build the assembly, the grid
    FACILITATE = "facilitate"  # run a live session (for a session: that one)
    EXPORT = "export"  # build and download documents and open data
    PUBLISH = "publish"  # publish or withdraw the public synthesis
    MANAGE_MEMBERS = "manage_members"  # invite, change roles, remove members
    DELETE = "delete"  # delete the whole process


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.OWNER: frozenset(Capability),
    Role.CO_ORGANIZER: frozenset(
        {
            Capability.VIEW,
            Capability.EDIT,
            Capability.FACILITATE,
            Capability.EXPORT,
            Capability.PUBLISH,
        }
    ),
    Role.FACILITATOR: frozenset({Capability.FACILITATE}),
}


class Decision(Enum):
    ALLOWED = "allowed"
    # A member whose role lacks the capability: they may know the process exists (403).
    FORBIDDEN = "forbidden"
    # Not a member: answered as if the process did not exist (404).
    HIDDEN = "hidden"


def signed_in(organizer: Organizer | None) -> bool:
    """Views pass Flask-Login's ``current_user``, which may be the anonymous user."""
    return organizer is not None and bool(getattr(organizer, "is_authenticated", False))


def membership_of(organizer: Organizer | None, process: Process) -> Membership | None:
    if not signed_in(organizer):
        return None
    return db.session.scalar(
        select(Membership).filter_by(process_id=process.id, organizer_id=organizer.id)
    )


def is_admin(organizer: Organizer | None) -> bool:
    return signed_in(organizer) and bool(getattr(organizer, "is_admin", False))


def role_allows(
    membership: Membership, capability: Capability, live_session: LiveSession | None = None
) -> bool:
    """What one membership allows; a facilitator limited to a territory runs only its sessions."""
    if capability not in ROLE_CAPABILITIES[Role(membership.role)]:
        return False
    if (
        capability is Capability.FACILITATE
        and live_session is not None
        and membership.territory_id is not None
    ):
        return live_session.territory_id == membership.territory_id
    return True


def decide(
    organizer: Organizer | None,
    process: Process,
    capability: Capability,
    live_session: LiveSession | None = None,
) -> Decision:
    """May ``organizer`` use ``capability`` on ``process`` (on ``live_session`` of it)?"""
    if live_session is not None and live_session.process_id != process.id:
        raise ValueError("the session is not one of this process")
    if is_admin(organizer):
        return Decision.ALLOWED
    membership = membership_of(organizer, process)
    if membership is None:
        return Decision.HIDDEN
    if role_allows(membership, capability, live_session):
        return Decision.ALLOWED
    return Decision.FORBIDDEN


def can(
    organizer: Organizer | None,
    process: Process,
    capability: Capability,
    live_session: LiveSession | None = None,
) -> bool:
    return decide(organizer, process, capability, live_session) is Decision.ALLOWED


def can_facilitate(organizer: Organizer | None, live_session: LiveSession) -> bool:
    """The check of the facilitator's socket: on connect and again on every event."""
    return can(organizer, live_session.process, Capability.FACILITATE, live_session)


def capabilities(organizer: Organizer | None, process: Process) -> frozenset[Capability]:
    """Everything ``organizer`` may do to the process as a whole (for showing links)."""
    if is_admin(organizer):
        return frozenset(Capability)
    membership = membership_of(organizer, process)
    if membership is None:
        return frozenset()
    return ROLE_CAPABILITIES[Role(membership.role)]


def visible_processes(organizer: Organizer | None) -> list[tuple[Process, str | None]]:
    """The processes shown on the organiser's index, each with the organiser's role there.

    Administrators see every process (role ``None`` where they are not a member).
    """
    if not signed_in(organizer):
        return []
    roles = dict(
        db.session.execute(
            select(Membership.process_id, Membership.role).filter_by(organizer_id=organizer.id)
        ).all()
    )
    query = select(Process).order_by(Process.title, Process.id)
    if not is_admin(organizer):
        query = query.where(Process.id.in_(roles.keys()))
    return [(process, roles.get(process.id)) for process in db.session.scalars(query)]


def sessions_to_run(
    organizer: Organizer | None, process: Process, live_sessions: Sequence[LiveSession]
) -> list[LiveSession]:
    """Of ``live_sessions`` (all of one process), those this organiser may run."""
    if is_admin(organizer):
        return list(live_sessions)
    membership = membership_of(organizer, process)
    if membership is None:
        return []
    return [s for s in live_sessions if role_allows(membership, Capability.FACILITATE, s)]
