"""A few registrations to the demo's general assembly, so that the organisers' list, its
counts per group, the CSV and the sign-in sheet show something on first run. The people are
invented (ILLUSTRATIVE); the organisations are those the source names (seed 004)."""

from __future__ import annotations

from ...extensions import db
from ...models import Process, Registration
from ..registration import registrations

PEOPLE = (
    ("Claire Dumont", "EFT-OISP", "social_worker", True, ""),
    ("Marc Lefèvre", "Forem", "public_official", True, ""),
    ("Samira Benali", "", "service_user", False, "Accès de plain-pied, s’il vous plaît."),
    ("Julien Henrard", "CPAS de Namur", "social_worker", True, ""),
    ("Anne Collard", "CSEF Liège-Huy-Waremme", "public_official", True, ""),
    ("Thomas Piron", "Régie des quartiers", "employer", False, ""),
)


def ensure_demo_registrations(process: Process) -> list[str]:
    """Register the demo people to the process's first event, once (none there yet)."""
    if not process.events:
        return ["No event in the demo process: no demo registrations."]
    if db.session.scalar(db.select(Registration.id).filter_by(process_id=process.id).limit(1)):
        return ["Demo registrations already there."]
    event = process.events[0]
    for name, organisation, group, listed, accessibility in PEOPLE:
        registrations.register(
            process,
            {
                "name": name,
                "organisation": organisation,
                "group": group,
                "listed": listed,
                "accessibility": accessibility,
                "event_ids": [str(event.id)],
            },
            by_organiser=True,  # registered whatever the closing date says
        )
    return [f"{len(PEOPLE)} demo registrations to « {event.title} »."]
