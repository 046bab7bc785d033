"""The Actes' section on what became of the recommendations (services.publishing.followup).

Written only once something was recorded: Actes exported right after the day have no empty
section. Per field, each followed item with its finding, current status and progress, the
body it was addressed to, its links, then its whole history, oldest first — the same facts
as the public follow-up page, in the process's language.
"""

from __future__ import annotations

from flask_babel import force_locale

from ..models import Process
from ..services.publishing.followup import STATUS_LABELS, FollowedItem, overview
from .docxkit import DocWriter, excerpt

_WORDS = {
    "fr": {
        "title": "Suivi des recommandations",
        "overall": "Avancement global : {percent} % (moyenne des recommandations et pistes "
        "d’action ; un élément sans suivi compte pour 0 %).",
        "item": "Élément",
        "status": "Statut",
        "progress": "Avancement",
        "addressed": "Adressée à : {body}",
        "links": "Décisions : {links}",
        "finding": "Constat {n}",
        "change": "{date} — {status} ({progress} %) : {note}",
    },
    "en": {
        "title": "Follow-up of the recommendations",
        "overall": "Overall progress: {percent} % (average of the recommendations and action "
        "paths; an item with nothing recorded counts as 0 %).",
        "item": "Item",
        "status": "Status",
        "progress": "Progress",
        "addressed": "Addressed to: {body}",
        "links": "Decisions: {links}",
        "finding": "Finding {n}",
        "change": "{date} — {status} ({progress} %): {note}",
    },
}


def write_followup(writer: DocWriter, process: Process) -> None:
    """``process`` with its tree loaded, as ``build_proceedings`` has it."""
    view = overview(process)
    followed = [item for item in view.items if item.follow_up is not None]
    if not followed:
        return
    lang = process.language if process.language in _WORDS else "en"
    w = _WORDS[lang]
    with force_locale(lang):
        statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    writer.paragraph(w["title"], "Heading 1")
    writer.paragraph(w["overall"].format(percent=view.progress))

    def name(item: FollowedItem, limit: int) -> str:
        return f"{w['finding'].format(n=item.finding_number)} · {excerpt(item.item.text, limit)}"

    for part in view.fields:
        items = [item for item in part.items if item.follow_up is not None]
        if not items:
            continue
        writer.paragraph(part.field.title, "Heading 2")
        writer.table(
            [w["item"], w["status"], w["progress"]],
            [
                [
                    name(item, 120),
                    statuses.get(item.status or "", "–"),
                    f"{item.progress} %",
                ]
                for item in items
            ],
        )
        for item in items:
            follow_up = item.follow_up
            writer.paragraph(name(item, 200), "Heading 3")
            if follow_up.addressed_to:
                writer.paragraph(w["addressed"].format(body=follow_up.addressed_to))
            if follow_up.links:
                links = "; ".join(f"{link.label} <{link.url}>" if link.label else link.url
                                  for link in follow_up.links)  # fmt: skip
                writer.paragraph(w["links"].format(links=links))
            for entry in follow_up.entries:
                change = w["change"].format(
                    date=entry.happened_on.isoformat(),
                    status=statuses[entry.status],
                    progress=entry.progress,
                    note=entry.note,
                )
                writer.paragraph(change, "List Bullet")
