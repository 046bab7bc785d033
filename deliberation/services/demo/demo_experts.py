"""The demo's handouts and its expert: the handouts of fields 1-3 published (the
``load-demo`` command then builds them), and an invitation pending for an invented expert
(ILLUSTRATIVE) on field 1, with a draft begun, for the organisers to see the review page."""

from __future__ import annotations

from ...extensions import db
from ...models import ExpertInvitation, Process
from ..experts import invitations, writing
from ..publishing import handouts

DEMO_EXPERT = {
    "name": "Dr Hélène Marchal",
    "affiliation": "Université de Liège",
    "role": "academic",
}
DRAFT = (
    "Les trajectoires d’insertion observées entre 2008 et 2013 montrent que "
    "l’accompagnement **continu** réduit les abandons.\n\n"
    "*Brouillon : chiffres à compléter.*"
)


def ensure_demo_experts(process: Process) -> list[str]:
    """Publish the handouts of fields 1-3 and invite the demo expert, once each."""
    lines: list[str] = []
    fields = process.fields[:3]
    if fields and not handouts.published_fields(process):
        for field_ in fields:
            handouts.publish(process, field_.id)
        lines.append(f"Handouts of fields 1-{len(fields)} published.")
    exists = db.session.scalar(
        db.select(ExpertInvitation.id).filter_by(process_id=process.id).limit(1)
    )
    if fields and exists is None:
        invitation, token = invitations.invite(
            process, {**DEMO_EXPERT, "field_id": str(fields[0].id)}, "demo"
        )
        writing.save_draft(
            invitation.id, {"title": "Ce que disent les trajectoires", "text": DRAFT}
        )
        lines.append(f"An expert invited on field 1, draft begun: /x/{token}")
    return lines
