"""The Actes' overview of the sessions: the programme that opens them and the participation
that closes them (per session, per group and per territory)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..models import LiveSession
from ..services.consolidation.outcomes import PollResult
from ..wording import date_words, group_label, words
from .docxkit import DocWriter


def _place(live: LiveSession) -> str:
    """The session's place when it says more than its territory (the demo's repeat it)."""
    territory = live.territory.name if live.territory else ""
    return live.place if live.place and live.place != territory else ""


def write_programme(writer: DocWriter, sessions: list[LiveSession], lang: str) -> None:
    """Every session in the order it was held: date, session, field, territory and place.
    Left out while no session exists (the sessions chapter then says so)."""
    if not sessions:
        return
    w = words(lang)
    with_place = any(_place(live) for live in sessions)
    writer.paragraph(w["programme"], "Heading 1")
    header = [w["date"], w["session"], w["field_column"], w["territory"]]
    rows = []
    for live in sessions:
        kind = w["assembly"] if live.kind == "assembly" else w["workshop"]
        row = [
            date_words(live.held_on, lang),
            f"{kind} — {live.title}",
            live.field.title if live.field else "–",
            live.territory.name if live.territory else "–",
        ]
        rows.append(row + ([_place(live) or "–"] if with_place else []))
    writer.table(header + ([w["place"]] if with_place else []), rows)


def write_participation(
    writer: DocWriter,
    sessions: list[LiveSession],
    participants: dict[int, dict[str, int]],
    by_session: dict[int, list[PollResult]],
    w: dict[str, str],
    lang: str,
    organisations: list[str] | None = None,
    attendance: list[dict[str, Any]] | None = None,
) -> None:
    """Per session, per group and per territory (when there are several); then the
    participating organisations and the attendance at the events (registrations checked in)."""
    writer.paragraph(w["participation"], "Heading 1")
    rows, totals = [], defaultdict(int)
    territories: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for live in sessions:
        groups = participants.get(live.id, {})
        for group, count in groups.items():
            totals[group] += count
        ballots = max((r.ballots for r in by_session.get(live.id, [])), default=0)
        territory = live.territory.name if live.territory else "–"
        territories[territory][0] += 1
        territories[territory][1] += sum(groups.values())
        rows.append(
            [
                live.title,
                date_words(live.held_on, lang),
                territory,
                sum(groups.values()),
                ballots,
            ]
        )
    if rows:
        writer.table(
            [w["sessions"], w["date"], w["territory"], w["participants"], w["ballots"]], rows
        )
    if totals:
        writer.table(
            [w["group"], w["participants"]],
            [[group_label(g, lang), n] for g, n in sorted(totals.items())],
        )
    if len(territories) > 1:
        writer.table(
            [w["territory"], w["sessions"], w["participants"]],
            [[name, count, people] for name, (count, people) in sorted(territories.items())],
        )
    attended = [row for row in attendance or [] if row["registered"]]
    if not rows and not organisations and not attended:
        writer.paragraph(w["no_participation"])
    if organisations:
        writer.paragraph(w["organisations"], "Heading 2")
        writer.paragraph(w["organisations_note"])
        for name in organisations:
            writer.paragraph(name, "List Bullet")
    if attended:
        write_attendance(writer, attended, w, lang)


def write_attendance(
    writer: DocWriter, rows: list[dict[str, Any]], w: dict[str, str], lang: str
) -> None:
    """Registered and checked in: per event, then per group, then per territory (several)."""
    writer.paragraph(w["attendance"], "Heading 2")
    writer.table(
        [w["event"], w["date"], w["territory"], w["registered"], w["attended"]],
        [
            [
                row["event"],
                date_words(row["starts_at"].date(), lang),
                row["territory"] or "–",
                row["registered"],
                row["attended"],
            ]
            for row in rows
        ],
    )
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    territories: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        for group, counts in row["groups"].items():
            groups[group][0] += counts["registered"]
            groups[group][1] += counts["attended"]
        territory = territories[row["territory"] or "–"]
        territory[0] += row["registered"]
        territory[1] += row["attended"]
    writer.table(
        [w["group"], w["registered"], w["attended"]],
        [
            [group_label(group, lang), registered, came]
            for group, (registered, came) in sorted(groups.items(), key=lambda kv: kv[0] == "")
        ],
    )
    if len(territories) > 1:
        writer.table(
            [w["territory"], w["registered"], w["attended"]],
            [[name, registered, came] for name, (registered, came) in sorted(territories.items())],
        )
