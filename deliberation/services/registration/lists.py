"""The organisers' lists of an event: CSV, and the rows of the sign-in sheet to print (its
Word document: documents/sign_in_sheet.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from ...models import Place
from ..live.admission import format_ticket
from ..publishing.opendata import FORMULA_STARTS

CSV_COLUMNS = (
    "name",
    "organisation",
    "group",
    "status",
    "ticket",
    "attended",
    "accessibility",
    "listed",
    "email",
    "registered_at",
    "by_organiser",
)


def _safe(value: object) -> object:
    """No cell a spreadsheet would run as a formula: names and organisations are typed by
    anyone on the public form."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def roster_csv(places: list[Place], group_labels: Mapping[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for place in places:
        registration = place.registration
        row = (
            registration.name,
            registration.organisation,
            group_labels.get(registration.group, registration.group),
            place.status,
            format_ticket(registration.code),
            place.attended_at.isoformat(timespec="minutes") if place.attended_at else "",
            registration.accessibility,
            "yes" if registration.listed else "no",
            registration.email,
            registration.created_at.isoformat(timespec="minutes"),
            "yes" if registration.by_organiser else "no",
        )
        writer.writerow([_safe(value) for value in row])
    return out.getvalue()


def sign_in_rows(places: list[Place], group_labels: Mapping[str, str]) -> list[list[str]]:
    """The sign-in sheet's rows: the confirmed places, by name, an empty cell to sign."""
    return [
        [
            p.registration.name,
            p.registration.organisation,
            group_labels.get(p.registration.group, p.registration.group),
            format_ticket(p.registration.code),
            "",
        ]
        for p in places
        if p.status == "confirmed"
    ]
