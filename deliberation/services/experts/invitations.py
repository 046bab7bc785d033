"""The organisers' side: invite an expert, renew or withdraw the link, review submissions.

Accepting a submission makes it an :class:`ExpertInput` of the field, with the expert's
name, role and affiliation, their stances (each with its justification) and, as its
version history, every submission they made (the organisers' requests for changes in the
versions' summaries). From then on the personal link no longer works, like a withdrawn one.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from ...database import writes
from ...extensions import db
from ...models import (
    DECISIONS,
    EXPERT_NAME_MAX,
    EXPERT_ROLES,
    REVIEW_COMMENT_MAX,
    TITLE_MAX,
    ExpertInput,
    ExpertInvitation,
    ExpertStance,
    ExpertSubmission,
    Field,
    Hypothesis,
    Process,
    TextVersion,
    utcnow,
)
from ..authoring.versions import encode
from ..registration.errors import bounded, clean, clean_text, too_long
from ..validation import _
from .writing import ExpertError, token_hash

TOKEN_BYTES = 32


def invitations_of(process: Process) -> list[ExpertInvitation]:
    """Every invitation of the process, by field then newest first."""
    return list(
        db.session.scalars(
            select(ExpertInvitation)
            .filter_by(process_id=process.id)
            .join(ExpertInvitation.field)
            .order_by(Field.position, ExpertInvitation.created_at.desc(), ExpertInvitation.id)
        )
    )


def invitation_of(process: Process, invitation_id: int) -> ExpertInvitation | None:
    invitation = db.session.get(ExpertInvitation, invitation_id)
    return invitation if invitation and invitation.process_id == process.id else None


def waiting_review(process: Process) -> int:
    return (
        db.session.scalar(
            select(func.count(ExpertInvitation.id)).filter_by(
                process_id=process.id, state="submitted"
            )
        )
        or 0
    )


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@writes
def invite(process: Process, form: dict[str, Any], by: str) -> tuple[ExpertInvitation, str]:
    """A new invitation; returns it and the link's secret (shown once, never stored)."""
    errors: dict[str, str] = {}
    name = bounded(form.get("name"), EXPERT_NAME_MAX, errors, "name", is_required=True)
    affiliation = bounded(form.get("affiliation"), TITLE_MAX, errors, "affiliation")
    role = clean(form.get("role")) or "other"
    if role not in EXPERT_ROLES:
        errors["role"] = _("Choose a role from the list.")
    field_ = _field_of(process, form.get("field_id"))
    if field_ is None:
        errors["field_id"] = _("Choose a field of this process.")
    if errors:
        raise ExpertError(errors)
    token = _new_token()
    invitation = ExpertInvitation(
        process_id=process.id,
        field=field_,
        token_hash=token_hash(token),
        name=name,
        role=role,
        affiliation=affiliation,
        created_by=by,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def _field_of(process: Process, raw: Any) -> Field | None:
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 12:
        return None
    field_ = db.session.get(Field, int(text))
    return field_ if field_ and field_.process_id == process.id else None


def _locked(process: Process, invitation_id: int) -> ExpertInvitation:
    invitation = db.session.scalar(
        select(ExpertInvitation)
        .filter_by(id=invitation_id, process_id=process.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        raise ExpertError({"": _("This invitation no longer exists.")})
    return invitation


def _still_open(invitation: ExpertInvitation) -> None:
    if invitation.state == "accepted":
        raise ExpertError({"": _("This input was already accepted: nothing changed.")})
    if invitation.state == "withdrawn":
        raise ExpertError({"": _("This invitation was already withdrawn: nothing changed.")})


@writes
def new_link(process: Process, invitation_id: int) -> str:
    """A fresh secret for the invitation: the old link stops working at once."""
    invitation = _locked(process, invitation_id)
    _still_open(invitation)
    token = _new_token()
    invitation.token_hash = token_hash(token)
    return token


@writes
def withdraw(process: Process, invitation_id: int) -> ExpertInvitation:
    invitation = _locked(process, invitation_id)
    _still_open(invitation)
    invitation.state, invitation.closed_at = "withdrawn", utcnow()
    return invitation


@writes
def review(
    process: Process, invitation_id: int, decision: Any, comment: Any, by: str
) -> ExpertInvitation:
    """Decide on the latest submission: accept it, ask for changes (a comment is then
    required: it is what the expert reads), or decline it."""
    invitation = _locked(process, invitation_id)
    _still_open(invitation)
    if decision not in DECISIONS:
        raise ExpertError({"decision": _("Choose accept, ask for changes or decline.")})
    comment_text = clean_text(comment)
    if len(comment_text) > REVIEW_COMMENT_MAX:
        raise ExpertError({"comment": too_long(REVIEW_COMMENT_MAX)})
    if invitation.state != "submitted" or not invitation.submissions:
        raise ExpertError({"": _("There is no submission waiting for a review: nothing changed.")})
    if decision == "changes_requested" and not comment_text:
        raise ExpertError({"comment": _("Say what to change: the expert reads this comment.")})
    submission = invitation.submissions[-1]
    submission.decision, submission.comment = decision, comment_text
    submission.decided_at, submission.decided_by = utcnow(), by
    invitation.review_comment = comment_text
    invitation.state = decision
    if decision == "accepted":
        invitation.closed_at = utcnow()
        invitation.expert_input = _enter_process(invitation, by)
    db.session.flush()
    return invitation


def _enter_process(invitation: ExpertInvitation, by: str) -> ExpertInput:
    """The accepted submission as an input of the field, its submissions as its history."""
    accepted = invitation.submissions[-1]
    field_ = invitation.field
    expert_input = ExpertInput(
        field=field_,
        position=len(field_.expert_inputs),
        title=accepted.title,
        author=invitation.name,
        role=invitation.role,
        affiliation=invitation.affiliation,
        text=accepted.text,
        references=accepted.references,
    )
    db.session.add(expert_input)
    hypotheses = {
        h.id: h
        for h in db.session.scalars(
            select(Hypothesis).where(
                Hypothesis.id.in_([int(k) for k in accepted.stances if k.isdigit()])
            )
        )
    }
    for key, entry in (accepted.stances or {}).items():
        hypothesis = hypotheses.get(int(key)) if key.isdigit() else None
        # A hypothesis deleted since the submission: its stance has nothing left to qualify.
        if hypothesis is None or hypothesis.question.field_id != field_.id:
            continue
        expert_input.stances.append(
            ExpertStance(
                hypothesis=hypothesis,
                stance=entry.get("stance", ""),
                justification=entry.get("justification", ""),
            )
        )
    db.session.flush()
    for submission in invitation.submissions:
        db.session.add(_version(expert_input, invitation, submission, by))
    return expert_input


def _version(
    expert_input: ExpertInput, invitation: ExpertInvitation, submission: ExpertSubmission, by: str
) -> TextVersion:
    values = {
        "title": submission.title,
        "author": invitation.name,
        "role": invitation.role,
        "affiliation": invitation.affiliation,
        "text": submission.text,
        "references": submission.references,
    }
    if submission.decision == "accepted":
        summary = _(
            "Submitted by the expert (version %(n)d), accepted by %(by)s.",
            n=submission.number,
            by=by,
        )
    else:
        summary = _(
            "Submitted by the expert (version %(n)d); changes asked: %(comment)s",
            n=submission.number,
            comment=submission.comment,
        )
    return TextVersion(
        item_type="expert_input",
        item_id=expert_input.id,
        number=submission.number,
        text=encode("expert_input", values),
        kind="created" if submission.number == 1 else "edited",
        author=invitation.name,
        summary=summary,
        created_at=submission.submitted_at,
    )
