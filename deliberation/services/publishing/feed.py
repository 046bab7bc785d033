"""The Atom feed of a process's follow-up: one entry per status change, newest first.

A newsroom or a federation subscribes to it to learn when a recommendation moves. Built
with feedgen (lxml underneath), never by pasting strings: every text is escaped by the XML
library. Texts are in the process's language, whoever asks (a feed is read by machines
that send no language cookie).
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask_babel import force_locale
from flask_babel import gettext as _

from ...models import Process
from ..authoring.text import excerpt
from .followup import CONTROL_CHARACTERS, ITEM_LABELS, STATUS_LABELS, status_changes

# Enough for a subscriber polling once a day; older changes stay on the page and in open data.
FEED_ENTRIES = 50
ATOM_TYPE = "application/atom+xml"


def xml_text(text: str) -> str:
    """Characters XML 1.0 cannot carry are dropped (an authored text may hold one)."""
    return CONTROL_CHARACTERS.sub("", text or "")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def atom_feed(process: Process, page_url: str, feed_url: str) -> bytes:
    """The feed as UTF-8 Atom XML. ``page_url`` is the public follow-up page, whose
    anchors the entries link to; ``feed_url`` the feed's own address."""
    changes = status_changes(process, FEED_ENTRIES)
    feed = FeedGenerator()
    feed.id(page_url)
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.link(href=feed_url, rel="self", type=ATOM_TYPE)
    feed.language(process.language or "fr")
    feed.author({"name": xml_text(process.title)})
    updated = changes[0].entry.recorded_at if changes else process.updated_at
    feed.updated(_utc(updated or datetime.now(UTC).replace(tzinfo=None)))
    with force_locale(process.language or "fr"):
        feed.title(xml_text(_("Follow-up of the recommendations: %(title)s", title=process.title)))
        feed.subtitle(xml_text(_("What became of each recommendation and action path.")))
        # feedgen prepends each entry: add the oldest first so that the newest leads.
        for change in reversed(changes):
            entry = change.entry
            item_words = f"{ITEM_LABELS[change.item_type]} ({change.finding_number})"
            title = f"{STATUS_LABELS[entry.status]} — {item_words}: {excerpt(change.item.text)}"
            summary = _(
                "%(date)s — %(status)s, %(progress)d %%: %(note)s",
                date=entry.happened_on.isoformat(),
                status=STATUS_LABELS[entry.status],
                progress=entry.progress,
                note=entry.note,
            )
            added = feed.add_entry()
            added.id(f"{page_url}#change-{entry.id}")
            added.title(xml_text(title))
            added.link(href=f"{page_url}#{change.item_type}-{change.item.id}", rel="alternate")
            added.summary(xml_text(summary))
            added.published(_utc(entry.recorded_at))
            added.updated(_utc(entry.recorded_at))
    return feed.atom_str(pretty=True)
