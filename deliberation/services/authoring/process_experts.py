"""The process file's ``expert_invitations`` of a field (docs/process-format.md): who was
invited, in which state, and their draft or submitted text. The personal link is never in
the file (only its hash is stored, and not exported): an imported invitation gets a link
nobody knows, which an organiser renews (« New link ») to send it. Accepted inputs are the
field's ``expert_inputs``; an invitation's submissions and stances stay in the database."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from ...models import (
    EXPERT_NAME_MAX,
    EXPERT_ROLES,
    EXPERT_STATES,
    JUSTIFICATION_MAX,
    ExpertInvitation,
    Field,
)
from .process_format import LineMap, ProcessFileError

INVITATION_KEYS = (
    "name", "role", "affiliation", "state", "title", "text", "references", "comment",
)  # fmt: skip
# Accepted invitations are the field's expert inputs: the file holds the others.
FILE_STATES = tuple(state for state in EXPERT_STATES if state != "accepted")


def read_invitations(entry: Any, field_: Field) -> None:
    """Add the field entry's ``expert_invitations`` to the unsaved ``field_`` (their
    process is set by the caller once the process exists)."""
    for item in entry.entries("expert_invitations", "expert invitation", INVITATION_KEYS):
        field_.expert_invitations.append(
            ExpertInvitation(
                # A hash of a secret nobody keeps: the link works once renewed.
                token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                name=item.title("name", required=True, limit=EXPERT_NAME_MAX),
                role=item.choice("role", EXPERT_ROLES, "other"),
                affiliation=item.title("affiliation"),
                state=item.choice("state", FILE_STATES, "writing"),
                title=item.title("title"),
                text=item.text("text"),
                references=item.text("references"),
                review_comment=item.text("comment"),
            )
        )


def invitations_data(field_: Field) -> list[dict[str, Any]]:
    """The field's invitations not yet accepted, oldest first."""
    found = []
    for invitation in sorted(field_.expert_invitations, key=lambda i: i.id or 0):
        if invitation.state not in FILE_STATES:
            continue
        data: dict[str, Any] = {"name": invitation.name, "role": invitation.role}
        for key, value in (
            ("affiliation", invitation.affiliation),
            ("state", invitation.state),
            ("title", invitation.title),
            ("text", invitation.text),
            ("references", invitation.references),
            ("comment", invitation.review_comment),
        ):
            if value:
                data[key] = value
        found.append(data)
    return found


def read_justifications(entry: Any, stances: Any) -> dict[str, str]:
    """An expert input's ``justifications``: hypothesis id -> the sentence saying why its
    stance is what it is (each must have a stance)."""
    found = entry.map.get("justifications")
    if found in (None, ""):
        return {}
    if not isinstance(found, LineMap):
        raise ProcessFileError(
            "expert input justifications must be lines such as 'f1-q1-h1: because …'",
            entry.line_of("justifications"),
        )
    sentences = {}
    for ref, sentence in found.items():
        line = found.line_of(ref)
        if not isinstance(stances, LineMap) or ref not in stances:
            raise ProcessFileError(f"justification of {ref!r} without a stance on it", line)
        if not isinstance(sentence, str) or len(sentence) > JUSTIFICATION_MAX:
            raise ProcessFileError(
                f"justification of {ref!r} must be a text of at most {JUSTIFICATION_MAX} "
                "characters",
                line,
            )
        sentences[ref] = " ".join(sentence.split())
    return sentences
