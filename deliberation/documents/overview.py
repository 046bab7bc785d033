"""The Actes' overview of the sessions: the programme that opens them and the participation
that closes them (per session, per group and per territory)."""

from __future__ import annotations

from collections import defaultdict

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
) -> None:
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
    if not rows:
        writer.paragraph(w["no_participation"])
