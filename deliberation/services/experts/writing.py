"""The expert's side: the personal link, the draft, the submission.

The link's secret is the key (no account): :func:`by_token` finds the invitation from the
hash of the secret, and only while the link still works (not accepted nor withdrawn). The
expert saves drafts as often as they like; submitting freezes the draft as a numbered
:class:`ExpertSubmission` for the organisers to review. Every refusal is a
:class:`ExpertError` holding one message per field at fault, and saves nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ...database import writes
from ...extensions import db
from ...models import (
    EDITABLE_STATES,
    JUSTIFICATION_MAX,
    LINK_STATES,
    STANCES,
    TEXT_MAX,
    TITLE_MAX,
    ExpertInvitation,
    ExpertSubmission,
    Hypothesis,
    Question,
    utcnow,
)
from ..registration.errors import clean, clean_text, required, too_long
from ..validation import _

TOKEN_MIN, TOKEN_MAX = 20, 100
REFERENCES_MAX = 5_000


class ExpertError(Exception):
    """A refused form: ``errors`` maps each field at fault ("" for the form) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def by_token(token: Any) -> ExpertInvitation | None:
    """The invitation of a personal link that still works; None otherwise (accepted,
    withdrawn, unknown: the page says only that the link no longer works)."""
    if not isinstance(token, str) or not TOKEN_MIN <= len(token) <= TOKEN_MAX:
        return None
    invitation = db.session.scalar(select(ExpertInvitation).filter_by(token_hash=token_hash(token)))
    if invitation is None or invitation.state not in LINK_STATES:
        return None
    return invitation


def hypotheses_of(invitation: ExpertInvitation) -> list[tuple[Question, list[Hypothesis]]]:
    """The field's questions with their hypotheses, in outline order: what the expert
    gives a stance on."""
    return [(question, list(question.hypotheses)) for question in invitation.field.questions]


@dataclass
class Draft:
    title: str
    text: str
    references: str
    stances: dict[str, dict[str, str]]


def read_draft(invitation: ExpertInvitation, form: dict[str, Any]) -> Draft:
    """The form's values checked: lengths, stances among the field's hypotheses, a
    justification for every stance. Raises :class:`ExpertError` with every fault."""
    errors: dict[str, str] = {}
    title = clean(form.get("title"))
    if len(title) > TITLE_MAX:
        errors["title"] = too_long(TITLE_MAX)
    text = clean_text(form.get("text"))
    if len(text) > TEXT_MAX:
        errors["text"] = _(
            "Too long: %(count)d characters, at most %(max)d.", count=len(text), max=TEXT_MAX
        )
    references = clean_text(form.get("references"))
    if len(references) > REFERENCES_MAX:
        errors["references"] = too_long(REFERENCES_MAX)
    stances: dict[str, dict[str, str]] = {}
    for _question, hypotheses in hypotheses_of(invitation):
        for hypothesis in hypotheses:
            key = str(hypothesis.id)
            stance = clean(form.get(f"stance-{key}"))
            why = clean(form.get(f"why-{key}"))
            if stance and stance not in STANCES:
                errors[f"stance-{key}"] = _("Choose supports, nuances or contradicts.")
                continue
            if len(why) > JUSTIFICATION_MAX:
                errors[f"why-{key}"] = too_long(JUSTIFICATION_MAX)
                continue
            if stance or why:
                stances[key] = {"stance": stance, "justification": why}
    return _checked(errors, Draft(title, text, references, stances))


def _checked(errors: dict[str, str], draft: Draft) -> Draft:
    if errors:
        raise ExpertError(errors)
    return draft


def _editable(invitation: ExpertInvitation) -> None:
    if invitation.state == "submitted":
        raise ExpertError(
            {"": _("Your input is submitted: the organisers are reviewing it. Nothing changed.")}
        )
    if invitation.state not in EDITABLE_STATES:
        raise ExpertError({"": _("This input can no longer be changed.")})


def _store(invitation: ExpertInvitation, draft: Draft) -> None:
    invitation.title = draft.title
    invitation.text = draft.text
    invitation.references = draft.references
    invitation.stances = draft.stances
    invitation.saved_at = utcnow()


@writes
def save_draft(invitation_id: int, form: dict[str, Any]) -> ExpertInvitation:
    """Keep what the expert wrote, as it is (nothing is required yet)."""
    invitation = _locked(invitation_id)
    _editable(invitation)
    _store(invitation, read_draft(invitation, form))
    return invitation


@writes
def submit(invitation_id: int, form: dict[str, Any]) -> ExpertSubmission:
    """Save the draft and freeze it as the next submission. A text is required, and every
    stance needs its sentence of justification (and the reverse)."""
    invitation = _locked(invitation_id)
    _editable(invitation)
    draft = read_draft(invitation, form)
    errors: dict[str, str] = {}
    if not draft.text:
        errors["text"] = required()
    for key, entry in draft.stances.items():
        if not entry["stance"]:
            errors[f"stance-{key}"] = _("Choose a stance for this justification.")
        elif not entry["justification"]:
            errors[f"why-{key}"] = _("Say in a sentence why.")
    if errors:
        raise ExpertError(errors)
    _store(invitation, draft)
    number = len(invitation.submissions) + 1
    submission = ExpertSubmission(
        number=number,
        title=draft.title,
        text=draft.text,
        references=draft.references,
        stances=draft.stances,
    )
    invitation.submissions.append(submission)
    invitation.state = "submitted"
    db.session.flush()
    return submission


def _locked(invitation_id: int) -> ExpertInvitation:
    """The invitation read again under the write lock: two tabs sending at once act one
    after the other, the second seeing the first's state."""
    invitation = db.session.scalar(
        select(ExpertInvitation)
        .filter_by(id=invitation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None or invitation.state not in LINK_STATES:
        raise ExpertError({"": _("This link no longer works.")})
    return invitation
