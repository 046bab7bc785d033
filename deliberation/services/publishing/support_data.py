"""The public support as open data and as the organisers' list: counts per item and group
for everyone, names only where the signer agreed to show them; every field, withdrawn
signatures included, for the organisers. No cell of a CSV can run a formula."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from ...models import Process, Support
from ..authoring.numbering import finding_numbers
from . import support
from .opendata import item_labels, safe_cell

PUBLIC_COLUMNS = ("item", "recommendation_id", "group", "signatures", "shown_names")
ORGANISER_COLUMNS = (
    "id",
    "item",
    "recommendation_id",
    "name",
    "organisation",
    "group",
    "comment",
    "show_name",
    "signed_at",
    "confirmed_at",
    "withdrawn_at",
)


def item_names(process: Process) -> dict[int | None, str]:
    """What each signature is for, as readers read it (« the synthesis as a whole » for
    None)."""
    labels = item_labels(process, finding_numbers(process))
    names: dict[int | None, str] = {None: process.title}
    for (item_type, item_id), label in labels.items():
        if item_type == "recommendation":
            names[item_id] = label
    return names


def public_data(process: Process) -> dict[str, Any]:
    counts = support.counts(process)
    names = item_names(process)
    shown: dict[int | None, list[dict[str, str]]] = {}
    for signature in support.active(process):
        if signature.show_name:
            shown.setdefault(signature.recommendation_id, []).append(
                {
                    "name": signature.name,
                    "organisation": signature.organisation,
                    "group": signature.group,
                    "comment": signature.comment,
                }
            )
    items = [
        {
            "recommendation_id": item,
            "item": names.get(item, ""),
            "signatures": tally.total,
            "by_group": tally.by_group,
            "shown": shown.get(item, []),
        }
        for item, tally in sorted(counts.items(), key=lambda pair: (pair[0] is not None, pair[0]))
    ]
    return {
        "process": {"slug": process.slug, "title": process.title, "language": process.language},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "support": items,
    }


def public_json(process: Process) -> str:
    return json.dumps(public_data(process), ensure_ascii=False, indent=1)


def public_csv(process: Process) -> str:
    """One row per item and group (group '' = all groups), with the names shown by consent."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PUBLIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in public_data(process)["support"]:
        names = "; ".join(
            ", ".join(part for part in (shown["name"], shown["organisation"]) if part)
            for shown in item["shown"]
        )
        rows = [("", item["signatures"], names)] + [
            (group or "-", count, "") for group, count in item["by_group"].items()
        ]
        for group, count, shown_names in rows:
            row = {
                "item": item["item"],
                "recommendation_id": item["recommendation_id"] or "",
                "group": group,
                "signatures": count,
                "shown_names": shown_names,
            }
            writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


def organiser_rows(process: Process) -> list[dict[str, Any]]:
    names = item_names(process)
    return [_organiser_row(signature, names) for signature in support.every_signature(process)]


def _organiser_row(signature: Support, names: dict[int | None, str]) -> dict[str, Any]:
    return {
        "id": signature.id,
        "item": names.get(signature.recommendation_id, ""),
        "recommendation_id": signature.recommendation_id or "",
        "name": signature.name,
        "organisation": signature.organisation,
        "group": signature.group,
        "comment": signature.comment,
        "show_name": "yes" if signature.show_name else "no",
        "signed_at": signature.created_at.isoformat(timespec="seconds"),
        # Empty: waiting for its e-mail confirmation (it does not count).
        "confirmed_at": (
            signature.confirmed_at.isoformat(timespec="seconds") if signature.confirmed_at else ""
        ),
        "withdrawn_at": (
            signature.withdrawn_at.isoformat(timespec="seconds") if signature.withdrawn_at else ""
        ),
    }


def organiser_csv(process: Process) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ORGANISER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in organiser_rows(process):
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()
