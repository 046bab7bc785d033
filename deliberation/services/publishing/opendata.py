"""Open data: the results of a process as CSV and JSON — aggregates only.

What is published is exactly what ``methods.summarize`` shows: counts per answer overall and
per displayable group (small groups are merged or hidden there, to keep the ballot secret).
No ballot, no participant, no token, no timestamp of a single vote ever leaves this module,
with one exception: the organisers' own export (``with_record=True``, never the public
one) carries the record of each NAMED poll, who voted what (``services.live.record``).
The follow-up of the recommendations (``services.publishing.followup``) is published here
too: in the JSON under ``followup``, and as its own CSV, one row per status change; so are
the readers' comments that readers can see (``services.publishing.comments``), under
``comments`` and as their own CSV.
Also home of the publish/unpublish rule of the public synthesis page.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from flask_babel import force_locale

from ... import methods
from ...database import writes
from ...extensions import db
from ...models import Poll, Process, utcnow
from ...wording import verdict_words
from ..authoring.numbering import finding_numbers
from ..consolidation.outcomes import PollResult, item_outcomes, poll_results
from ..live import record
from . import comments, followup

CSV_COLUMNS = (
    "poll_id",
    "session",
    "session_kind",
    "territory",
    "held_on",
    "item_type",
    "item_id",
    "item",
    "method",
    "group",
    "group_ballots",
    "answer",
    "answer_label",
    "count",
    "percent",
    "outcome",
    "reason",
    "support_percent",
    "item_outcome",
)


@writes
def set_synthesis_published(process: Process, published: bool) -> Process:
    if published and not process.synthesis_published:
        process.synthesis_published_at = utcnow()
    elif not published:
        process.synthesis_published_at = None
    process.synthesis_published = bool(published)
    return process


def item_labels(process: Process, numbers: dict[int, int]) -> dict[tuple[str, int], str]:
    labels: dict[tuple[str, int], str] = {}
    for field_ in process.fields:
        for question in field_.questions:
            for hypothesis in question.hypotheses:
                labels[("hypothesis", hypothesis.id)] = hypothesis.text
        for finding in field_.findings:
            labels[("finding", finding.id)] = f"{numbers.get(finding.id, 0)}. {finding.text}"
            for item_type, children in (
                ("recommendation", finding.recommendations),
                ("action_path", finding.action_paths),
                ("implementation_condition", finding.conditions),
            ):
                for child in children:
                    labels[(item_type, child.id)] = child.text
    return labels


def _answers(result: PollResult, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer rows; majority judgment is flattened to one row per option and grade."""
    rows = []
    for answer in answers or []:
        if answer.get("grades") is not None:
            for grade in answer["grades"]:
                rows.append(
                    {
                        "key": f"{answer['key']}:{grade['grade']}",
                        "label": f"{answer['label']} — {grade['grade']}",
                        "count": grade["count"],
                        "percent": grade["percent"],
                    }
                )
        else:
            rows.append(
                {
                    "key": answer["key"],
                    "label": answer["label"],
                    "count": answer["count"],
                    "percent": answer.get("percent"),
                }
            )
    return rows


def _poll_record(
    result: PollResult, labels: dict[tuple[str, int], str], language: str
) -> dict[str, Any]:
    summary = result.summary
    item = labels.get((result.item_type, result.item_id or 0)) or result.item_text
    groups = []
    for group in summary.get("groups") or []:
        row = {"group": group["group"], "ballots": group["ballots"], "hidden": group["hidden"]}
        if not group["hidden"]:
            row.update(
                {
                    "outcome": group.get("outcome"),
                    "reason": verdict_words(group.get("verdict"), language)[1],
                    "support_percent": group.get("support_percent"),
                    "block_percent": group.get("block_percent"),
                    "answers": _answers(result, group.get("answers") or []),
                }
            )
        groups.append(row)
    return {
        "poll_id": result.poll_id,
        "session": result.session_title,
        "session_kind": result.session_kind,
        "territory": result.territory,
        "held_on": result.held_on.isoformat() if result.held_on else None,
        "item_type": result.item_type,
        "item_id": result.item_id,
        "item": item,
        "method": result.method,
        "ballots": result.ballots,
        "base": summary.get("base"),
        "base_note": summary.get("base_note"),
        "outcome": summary.get("outcome"),
        # The verdict and its reason in the process language, as every surface words it.
        "verdict": summary.get("verdict"),
        "reason": verdict_words(summary.get("verdict"), language)[1],
        "support_percent": summary.get("support_percent"),
        "block_percent": summary.get("block_percent"),
        "answers": _answers(result, summary.get("answers") or []),
        "groups": groups,
        "divergence": summary.get("divergence"),
    }


def named_record(process: Process, result: PollResult) -> list[dict[str, Any]]:
    """Who voted what in a named poll, labels in the process language ([] if secret)."""
    if result.secret:
        return []
    poll = db.session.get(Poll, result.poll_id)
    method = methods.method(result.method)
    with force_locale(process.language or "fr"):
        labels = method.document_labels(process) or method.answer_labels(process)
    return record.named_record(poll, labels)


def aggregates(process: Process, with_record: bool = False) -> dict[str, Any]:
    """Everything published about a process's votes, as one JSON-ready dict. The
    organisers' copy (``with_record``) adds each named poll's record of who voted what."""
    results = poll_results(process)
    numbers = finding_numbers(process)
    labels = item_labels(process, numbers)
    outcomes = item_outcomes(process)
    language = process.language or "fr"
    polls = []
    for result in results:
        entry = _poll_record(result, labels, process.language or "fr")
        found = outcomes.get((result.item_type, result.item_id or 0))
        # What became of the item the poll is about (the one final outcome, docs/exports.md).
        entry["item_outcome"] = found.outcome if found is not None else None
        entry["secret"] = result.secret
        if with_record and not result.secret:
            entry["named_ballots"] = named_record(process, result)
        polls.append(entry)
    return {
        "process": {
            "slug": process.slug,
            "title": process.title,
            "language": process.language,
            "thresholds": {
                "validated": process.threshold_validated,
                "rework": process.threshold_rework,
                "block": process.threshold_block,
                "divergence_points": process.divergence_points,
            },
        },
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "polls": polls,
        "followup": followup.open_data(process),
        "comments": comments.open_data(process),
        "items": [
            {
                "item_type": key[0],
                "item_id": key[1],
                "item": labels.get(key, ""),
                "where": found.where,
                "method": found.method,
                "ballots": found.ballots,
                "outcome": found.outcome,
                "outcome_label": verdict_words(found.summary.get("verdict"), language)[0],
                "reason": verdict_words(found.summary.get("verdict"), language)[1],
                "workshops": found.workshops,
                "territories": found.territories,
                "support_percent": found.support_percent,
                "block_percent": found.summary.get("block_percent"),
                "majority_grade": found.summary.get("majority_grade"),
            }
            for key, found in outcomes.items()
        ],
    }


def as_json(process: Process, with_record: bool = False) -> str:
    return json.dumps(aggregates(process, with_record), ensure_ascii=False, indent=1)


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(process: Process) -> str:
    """One row per poll, group ("" = everyone) and answer; no cell can run a formula (a
    group's or an option's name is typed by organisers and participants alike)."""
    data = aggregates(process)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for poll in data["polls"]:
        base = {key: poll[key] for key in CSV_COLUMNS if key in poll}
        buckets = [("", poll["ballots"], poll["answers"], poll)] + [
            (g["group"], g["ballots"], g.get("answers") or [], g) for g in poll["groups"]
        ]
        for group, ballots, answers, figures in buckets:
            for answer in answers:
                row = {
                    **base,
                    "group": group,
                    "group_ballots": ballots,
                    "answer": answer["key"],
                    "answer_label": answer["label"],
                    "count": answer["count"],
                    "percent": answer["percent"],
                    "outcome": figures.get("outcome"),
                    "reason": figures.get("reason"),
                    "support_percent": figures.get("support_percent"),
                    "item_outcome": poll.get("item_outcome"),
                }
                writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


NAMED_COLUMNS = ("poll_id", "session", "item", "participant", "name", "group", "choice")


def named_votes_csv(process: Process) -> str:
    """For the organisers only: one row per voter of each named poll (who voted what)."""
    numbers = finding_numbers(process)
    labels = item_labels(process, numbers)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=NAMED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in poll_results(process):
        item = labels.get((result.item_type, result.item_id or 0)) or result.item_text
        for row in named_record(process, result):
            values = {
                "poll_id": result.poll_id,
                "session": result.session_title,
                "item": item,
                "participant": row["participant"],
                "name": row["name"],
                "group": row["group"],
                "choice": row["choice_label"],
            }
            writer.writerow({key: safe_cell(value) for key, value in values.items()})
    return out.getvalue()


FOLLOWUP_COLUMNS = (
    "field",
    "finding_number",
    "item_type",
    "item_id",
    "item",
    "addressed_to",
    "current_status",
    "current_progress",
    "links",
    "status",
    "date",
    "progress",
    "note",
    "recorded_at",
)


def followup_rows(process: Process) -> list[dict[str, Any]]:
    """One row per status change of each followed item, oldest first; an item with no
    change yet has one row with empty status columns (so every item is listed)."""
    rows = []
    for record_ in followup.open_data(process):
        base = {
            "field": record_["field"],
            "finding_number": record_["finding_number"],
            "item_type": record_["item_type"],
            "item_id": record_["item_id"],
            "item": record_["item"],
            "addressed_to": record_["addressed_to"],
            "current_status": record_["status"] or "",
            "current_progress": record_["progress"],
            "links": " ".join(link["url"] for link in record_["links"]),
        }
        for change in record_["history"] or [{}]:
            rows.append(
                {
                    **base,
                    "status": change.get("status", ""),
                    "date": change.get("date", ""),
                    "progress": change.get("progress", ""),
                    "note": change.get("note", ""),
                    "recorded_at": change.get("recorded_at", ""),
                }
            )
    return rows


def followup_csv(process: Process) -> str:
    """The follow-up as CSV; no cell can run a formula."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FOLLOWUP_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in followup_rows(process):
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


def followup_json(process: Process) -> str:
    data = {
        "process": {"slug": process.slug, "title": process.title, "language": process.language},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "followup": followup.open_data(process),
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


COMMENT_COLUMNS = (
    "id",
    "recommendation_id",
    "recommendation",
    "state",
    "author",
    "body",
    "hidden_reason",
    "created_at",
)


def comments_csv(process: Process) -> str:
    """The comments readers can see: published ones with their text, hidden ones with the
    reason only; never a pending one. No cell can run a formula."""
    labels = item_labels(process, finding_numbers(process))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COMMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for comment in comments.open_data(process):
        row = {
            **comment,
            "recommendation": labels.get(("recommendation", comment["recommendation_id"]), ""),
        }
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


def comments_json(process: Process) -> str:
    data = {
        "process": {"slug": process.slug, "title": process.title, "language": process.language},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "comments": comments.open_data(process),
    }
    return json.dumps(data, ensure_ascii=False, indent=1)
