"""The Actes: the full record of a process, from its method to the final outcomes.

Order: title page, table of contents, the process and its method, per field (questions and
hypotheses, expert inputs and their stances, the findings as synthesised), the sessions
(participants per group, each closed poll with its results table and chart), amendments
with their versions, proposals and comments from the floor, final outcomes, participation,
the follow-up of the recommendations (once something was recorded), and an appendix on
the vote methods with this process's thresholds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from .. import methods
from ..extensions import db
from ..models import LiveSession, Participant, Process, Proposal, TextVersion
from ..services.authoring.numbering import finding_numbers
from ..services.consolidation.outcomes import (
    ItemOutcome,
    PollResult,
    item_outcomes,
    item_priorities,
    outcome_line,
    poll_results,
)
from ..services.live import minutes
from ..services.publishing.opendata import named_record
from ..services.registration import registrations
from ..tally import OutcomeRule
from ..wording import (
    code_label,
    date_words,
    grade_label,
    group_label,
    percent_cell,
    typographic,
    verdict_words,
    words,
)
from . import charts
from .appendix import write_appendix
from .docxkit import DocWriter, excerpt, outcome_style
from .followup_section import write_followup
from .item_index import ItemIndex
from .minutes_section import write_minutes
from .overview import write_participation, write_programme
from .synthesis import markdown_with_definitions, set_properties, title_page, write_finding
from .tree import load_process_tree
from .wordcharts import ChartData

Progress = Callable[[int, int], None]


def build_proceedings(process: Process, progress: Progress | None = None) -> DocumentObject:
    process = load_process_tree(process)
    document = Document()
    writer = DocWriter(document, process.language)
    w = words(process.language)
    lang = process.language
    results = poll_results(process)
    outcomes = item_outcomes(process)
    priorities = item_priorities(process)
    numbers = finding_numbers(process)
    items = ItemIndex(process, numbers, w)
    sessions = db.session.scalars(
        db.select(LiveSession)
        .where(LiveSession.process_id == process.id)
        .options(selectinload(LiveSession.field), selectinload(LiveSession.territory))
        .order_by(LiveSession.held_on, LiveSession.id)
    ).all()
    total = 1 + len(process.fields) + max(len(sessions), 1) + 1
    step = Stepper(progress, total)
    set_properties(document, process, w["proceedings_title"])

    title_page(writer, process, w["proceedings_title"])
    writer.table_of_contents(w["toc"])
    writer.page_break()
    write_programme(writer, sessions, lang)
    write_method(writer, process, w)
    step()

    for index, field_ in enumerate(process.fields, start=1):
        write_field(writer, field_, index, numbers, outcomes, w, priorities)
        step()

    participants = participants_by_session(process.id)
    notes = minutes.of_process(process.id)
    by_session: dict[int, list[PollResult]] = defaultdict(list)
    for result in results:
        by_session[result.session_id].append(result)
    writer.paragraph(w["sessions"], "Heading 1")
    if not sessions:
        writer.paragraph(w["no_sessions"])
    for live in sessions:
        write_session(writer, process, live, participants.get(live.id, {}), by_session, items)
        write_minutes(writer, notes.get(live.id, []), numbers, lang)
        step()

    write_amendments(writer, process, items, w)
    write_proposals(writer, sessions, items, w)
    write_final_outcomes(writer, outcomes, items, w, lang)
    write_participation(
        writer,
        sessions,
        participants,
        by_session,
        w,
        lang,
        organisations=registrations.participating_organisations(process),
        attendance=registrations.attendance(process),
    )
    write_followup(writer, process)
    write_appendix(writer, OutcomeRule.from_process(process), lang)
    writer.page_numbers(process.title)
    writer.finish_table_of_contents()
    step()
    return document


class Stepper:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done = min(self.done + 1, self.total)
        if self.progress:
            self.progress(self.done, self.total)


def write_method(writer: DocWriter, process: Process, w: dict[str, str]) -> None:
    writer.paragraph(w["method_and_process"], "Heading 1")
    if process.introduction.strip():
        markdown_with_definitions(writer, process.introduction)
    if process.steering_committee.strip():
        writer.paragraph(w["steering_committee"], "Heading 2")
        writer.markdown(process.steering_committee)
    if process.territories:
        writer.paragraph(w["territories"], "Heading 2")
        for territory in process.territories:
            writer.paragraph(territory.name, "List Bullet")
    if not (
        process.introduction.strip() or process.steering_committee.strip() or process.territories
    ):
        writer.paragraph(w["no_method"])


def write_field(
    writer: DocWriter,
    field_: Any,
    index: int,
    numbers: dict[int, int],
    outcomes: dict[tuple[str, int], ItemOutcome],
    w: dict[str, str],
    priorities: dict[tuple[str, int], ItemOutcome] | None = None,
) -> None:
    writer.paragraph(f"{index}. {field_.title}", "Heading 1")
    if field_.description.strip():
        writer.markdown(field_.description)
    hypothesis_text: dict[int, str] = {}
    if field_.questions:
        writer.paragraph(w["questions"], "Heading 2")
        for q_index, question in enumerate(field_.questions, start=1):
            writer.paragraph(f"{index}.{q_index} {question.text}", "Heading 3")
            if question.hypotheses:
                writer.paragraph(w["hypotheses"], "Finding Subheading")
            for hypothesis in question.hypotheses:
                hypothesis_text[hypothesis.id] = hypothesis.text
                writer.markdown(hypothesis.text, "List Bullet")
                found = outcomes.get(("hypothesis", hypothesis.id))
                if found:
                    writer.paragraph(
                        outcome_line(found, writer.language), outcome_style(found.outcome)
                    )
    if field_.expert_inputs:
        writer.paragraph(w["expert_inputs"], "Heading 2")
        for expert in field_.expert_inputs:
            who = ", ".join(x for x in (expert.author, expert.affiliation) if x)
            title = f"{expert.title} — {who}" if expert.title else who
            writer.paragraph(title, "Heading 3")
            writer.markdown(expert.text)
            if expert.references.strip():
                writer.paragraph(w["references"], "Finding Subheading")
                writer.markdown(expert.references)
            if expert.stances:
                writer.paragraph(w["stances"], "Finding Subheading")
                for stance in sorted(expert.stances, key=lambda s: s.hypothesis_id):
                    text = hypothesis_text.get(stance.hypothesis_id) or stance.hypothesis.text
                    verb = w.get(f"stance_{stance.stance}", stance.stance)
                    line = (
                        f"{verb} : {excerpt(text, 140)}"
                        if writer.language == "fr"
                        else f"{verb}: {excerpt(text, 140)}"
                    )
                    # The expert's sentence saying why, when they wrote their own input.
                    if stance.justification:
                        line += f" — {stance.justification}"
                    writer.paragraph(line, "List Bullet")
    if field_.findings:
        writer.paragraph(w["synthesis_title"], "Heading 2")
        for finding in field_.findings:
            write_finding(writer, finding, numbers.get(finding.id, 0), outcomes, w, priorities)


def participants_by_session(process_id: int) -> dict[int, dict[str, int]]:
    rows = db.session.execute(
        db.select(Participant.session_id, Participant.group, func.count(Participant.id))
        .join(LiveSession, Participant.session_id == LiveSession.id)
        .where(LiveSession.process_id == process_id, Participant.voided_at.is_(None))
        .group_by(Participant.session_id, Participant.group)
    )
    grouped: dict[int, dict[str, int]] = defaultdict(dict)
    for session_id, group, count in rows:
        grouped[session_id][group or ""] = count
    return grouped


def write_session(
    writer: DocWriter,
    process: Process,
    live: LiveSession,
    participants: dict[str, int],
    by_session: dict[int, list[PollResult]],
    items: ItemIndex,
) -> None:
    lang = process.language
    w = words(lang)
    session_kind = w["assembly"] if live.kind == "assembly" else w["workshop"]
    writer.paragraph(f"{session_kind} — {live.title}", "Heading 2")
    territory = live.territory.name if live.territory else ""
    # The place only when it says more than the territory (the demo's repeat it).
    place = live.place if live.place and live.place != territory else ""
    header = [w["date"], w["territory"]] + ([w["place"]] if place else []) + [w["participants"]]
    details = [date_words(live.held_on, lang), territory or "–"]
    details += ([place] if place else []) + [str(sum(participants.values()))]
    writer.table(header, [details])
    if participants:
        rows = [
            [group_label(group, lang), count]
            for group, count in sorted(participants.items(), key=lambda kv: (kv[0] == "", kv[0]))
        ]
        writer.table([w["group"], w["participants"]], rows)
    results = by_session.get(live.id, [])
    if not results:
        writer.paragraph(w["no_polls"])
    for result in results:
        write_poll(writer, result, items, lang)
        if not result.secret:
            write_named_record(writer, process, result, lang)


def write_named_record(writer: DocWriter, process: Process, result: PollResult, lang: str) -> None:
    """A named poll's record: who voted what (a secret poll has none)."""
    w = words(lang)
    rows = named_record(process, result)
    if not rows:
        return
    writer.paragraph(w["named_poll"], "Finding Subheading")
    writer.table(
        [w["participants"], w["group"], w["choice"]],
        [
            [
                row["name"] or w["participant_n"].format(n=row["participant"]),
                group_label(row["group"], lang),
                row["choice_label"],
            ]
            for row in rows
        ],
    )


def write_poll(writer: DocWriter, result: PollResult, items: ItemIndex, lang: str) -> None:
    w = words(lang)
    label = (
        w["free_question"] + " — " + excerpt(result.item_text, 100)
        if result.item_type == "free"
        else items.label(result.item_type, result.item_id, result.item_text)
    )
    writer.paragraph(
        f"{w['poll']} : {label}" if lang == "fr" else f"{w['poll']}: {label}", "Heading 3"
    )
    summary = result.summary
    answers = summary.get("answers") or []
    method = methods.method(result.method)
    if method.display.chart == "grades":
        # The grade decides, with its + / −: no support share beside it (its verdict says why).
        header = [w["answer"], w["majority_grade"], w["rank"], w["outcome"]]
        rows = [
            [
                typographic(a["label"], lang),
                grade_label(a.get("majority_grade"), a.get("sign"), lang),
                a.get("rank") or "–",
                w.get(f"outcome_{a.get('outcome')}", "–"),
            ]
            for a in answers
        ]
        # One bar per option, split into its grades (the scale's colours, best first).
        grade_keys = [g["grade"] for g in (answers[0].get("grades") or [])] if answers else []
        chart = ChartData(
            categories=[typographic(a["label"], lang) for a in answers],
            series=[
                (grade_label(key, "", lang), [a["grades"][i]["count"] for a in answers])
                for i, key in enumerate(grade_keys)
            ],
            description="",
        )
    else:
        header = [w["answer"], method.document_text(lang).count, w["percent"]]
        # An answer outside the base (abstentions: a share of the ballots cast, not of yes +
        # no) says its own base beside its share.
        rows = [
            [
                typographic(a["label"], lang),
                a["count"],
                percent_cell(a.get("percent"), lang)
                + (
                    f" {w['of_ballots']}"
                    if a.get("base") not in (None, summary["base_note"])
                    else ""
                ),
            ]
            for a in answers
        ]
        # One bar for all participants, then one per group shown, split into the answers.
        groups = [g for g in summary.get("groups") or [] if not g.get("hidden")]
        bars = [[a["count"] for a in answers]] + [
            [a["count"] for a in g.get("answers") or []] for g in groups
        ]
        chart = ChartData(
            categories=[w["all_groups"]] + [group_label(g["group"], lang) for g in groups],
            series=[
                (typographic(a["label"], lang), [bar[i] if i < len(bar) else 0 for bar in bars])
                for i, a in enumerate(answers)
            ],
            description="",
        )
    # The first column doubles as the chart's legend: each answer in its bar colour.
    fills = None if method.display.chart == "grades" else charts.hex_colours(len(answers))
    writer.table(header, rows, fills=fills)
    group_rows = summary.get("groups") or []
    if group_rows:
        writer.table(
            [w["group"], w["ballots"], w["percent"], w["outcome"]],
            [
                [
                    group_label(g["group"], lang),
                    g["ballots"],
                    "–" if g.get("hidden") else percent_cell(g.get("support_percent"), lang),
                    "–" if g.get("hidden") else verdict_words(g.get("verdict"), lang)[0] or "–",
                ]
                for g in group_rows
            ],
        )
    if any(sum(values) for _, values in chart.series):
        caption = w["grades_caption" if method.display.chart == "grades" else "chart_caption"]
        writer.chart(replace(chart, description=chart_description(chart, caption, lang)), 15)
        writer.paragraph(caption, "Caption")
    # The verdict and its reason in the method's own terms (methods.verdict), as every
    # surface words it; a poll that ranks gets its count of votes only.
    verdict, reason = verdict_words(summary.get("verdict"), lang)
    line = w["votes" if result.ballots != 1 else "vote"].format(n=result.ballots)
    writer.paragraph(
        f"{verdict}, {line} — {reason}" if verdict else line,
        outcome_style((summary.get("verdict") or {}).get("outcome")),
    )


def chart_description(chart: ChartData, caption: str, lang: str) -> str:
    """A chart's alt text: its caption, then every bar's counts in words."""
    colon = " : " if lang == "fr" else ": "
    bars = [
        category + colon + ", ".join(f"{name} {values[i]}" for name, values in chart.series)
        for i, category in enumerate(chart.categories)
    ]
    separator = " ; " if lang == "fr" else "; "
    return f"{caption} {separator.join(bars)}"


def write_amendments(
    writer: DocWriter, process: Process, items: ItemIndex, w: dict[str, str]
) -> None:
    """Items whose text changed after creation, with every version, and amendments proposed."""
    versions: dict[tuple[str, int], list[TextVersion]] = defaultdict(list)
    for item_type, ids in items.ids.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for version in db.session.scalars(
                db.select(TextVersion)
                .where(TextVersion.item_type == item_type, TextVersion.item_id.in_(chunk))
                .order_by(TextVersion.item_id, TextVersion.number)
            ):
                versions[(item_type, version.item_id)].append(version)
    amendments: dict[tuple[str, int], list[Proposal]] = defaultdict(list)
    for proposal in db.session.scalars(
        db.select(Proposal)
        .join(LiveSession, Proposal.session_id == LiveSession.id)
        .where(LiveSession.process_id == process.id, Proposal.kind == "amendment")
        .order_by(Proposal.id)
    ):
        amendments[(proposal.item_type, proposal.item_id or 0)].append(proposal)
    changed = [
        key
        for key in items.labels
        if any(v.kind in ("amendment", "edited", "rollback") for v in versions.get(key, []))
        or key in amendments
    ]
    writer.paragraph(w["amendments"], "Heading 1")
    if not changed:
        writer.paragraph(w["no_amendments"])
    for key in changed:
        writer.paragraph(items.label(*key), "Heading 3")
        for version in versions.get(key, []):
            when = (
                date_words(version.created_at.date(), writer.language) if version.created_at else ""
            )
            version_kind = code_label(version.kind, writer.language)
            meta = ", ".join(x for x in (version_kind, when, version.author, version.summary) if x)
            writer.paragraph(
                f"{w['version'].format(n=version.number)} ({meta})", "Finding Subheading"
            )
            writer.markdown(version.text)
        for proposal in amendments.get(key, []):
            writer.paragraph(
                f"{w['proposals']} — {code_label(proposal.status, writer.language)} "
                f"({proposal.supporters} {w['supporters']})",
                "Finding Subheading",
            )
            writer.markdown(proposal.text)


def write_proposals(
    writer: DocWriter, sessions: list[LiveSession], items: ItemIndex, w: dict[str, str]
) -> None:
    titles = {live.id: live.title for live in sessions}
    proposals = (
        db.session.scalars(
            db.select(Proposal)
            .where(Proposal.session_id.in_(list(titles)), Proposal.kind != "amendment")
            .order_by(Proposal.session_id, Proposal.id)
        ).all()
        if titles
        else []
    )
    writer.paragraph(f"{w['comments']}", "Heading 1")
    if not proposals:
        writer.paragraph(w["no_comments"])
    current = None
    for proposal in proposals:
        if proposal.session_id != current:
            current = proposal.session_id
            writer.paragraph(titles[current], "Heading 3")
        about = items.label(proposal.item_type, proposal.item_id) if proposal.item_id else ""
        proposal_kind = code_label(proposal.kind, writer.language)
        status = code_label(proposal.status, writer.language)
        meta = ", ".join(x for x in (proposal_kind, status, about) if x)
        writer.markdown(proposal.text, "List Bullet")
        writer.paragraph(meta, "Outcome")


def write_final_outcomes(
    writer: DocWriter,
    outcomes: dict[tuple[str, int], ItemOutcome],
    items: ItemIndex,
    w: dict[str, str],
    lang: str,
) -> None:
    writer.paragraph(w["final_outcomes"], "Heading 1")
    order = {key: index for index, key in enumerate(items.labels)}
    rows = [
        [items.label(*key), outcome_line(found, lang)]
        for key, found in sorted(outcomes.items(), key=lambda kv: order.get(kv[0], 1 << 30))
    ]
    if rows:
        writer.table([w["item"], w["outcome"]], rows)
    else:
        writer.paragraph(w["no_outcomes"])
