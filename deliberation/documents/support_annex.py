"""The public support as a Word annex, to hand to a minister's office with the synthesis:
how many signed each text, per participant group, the signers who agreed to be named, and
their public comments. Built in the export worker like the Synthèse and the Actes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from docx import Document
from docx.document import Document as DocumentObject
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from ..models import Process
from ..services.publishing import support, support_data
from ..wording import group_label
from .docxkit import DocWriter

Progress = Callable[[int, int], None]


def build_support_annex(process: Process, progress: Progress | None = None) -> DocumentObject:
    with force_locale(process.language):
        return _build(process, progress)


def _build(process: Process, progress: Progress | None) -> DocumentObject:
    document = Document()
    writer = DocWriter(document, process.language)
    annex_title = _("Public support for the synthesis")
    core = document.core_properties
    core.title = f"{process.title} — {annex_title}"[:250]
    core.language = {"fr": "fr-BE", "en": "en-GB"}.get(process.language, process.language)
    counts = support.counts(process)
    names = support_data.item_names(process)
    signatures = support.active(process)
    total = len(counts) + 1

    writer.paragraph(process.title, "Title")
    writer.paragraph(annex_title, "Subtitle")
    writer.paragraph(
        _("Signatures counted on %(date)s.", date=format_date(date.today(), "long")), "Normal"
    )
    people = len({signature.signer_key for signature in signatures})
    writer.paragraph(
        _(
            "%(people)d people signed; %(signatures)d signatures in all (one per person and "
            "text; withdrawn signatures are not counted).",
            people=people,
            signatures=len(signatures),
        ),
        "Normal",
    )
    if not counts:
        writer.paragraph(_("Nobody has signed yet."), "Normal")
        return document

    groups = sorted({group for tally in counts.values() for group in tally.by_group})
    order = sorted(counts, key=lambda item: (item is not None, item or 0))
    writer.paragraph(_("Signatures per text and per group"), "Heading 1")
    writer.table(
        [_("Text"), _("Signatures"), *(group_label(group, process.language) for group in groups)],
        [
            [
                _("The synthesis as a whole") if item is None else names.get(item, ""),
                counts[item].total,
                *(counts[item].by_group.get(group, 0) for group in groups),
            ]
            for item in order
        ],
    )
    if progress:
        progress(1, total)

    by_item: dict[int | None, list] = {}
    for signature in signatures:
        by_item.setdefault(signature.recommendation_id, []).append(signature)
    for index, item in enumerate(order, start=2):
        signed = by_item.get(item, [])
        named = [signature for signature in signed if signature.show_name]
        commented = [signature for signature in signed if signature.comment]
        if not named and not commented:
            continue
        heading = _("The synthesis as a whole") if item is None else names.get(item, "")
        writer.paragraph(heading, "Heading 2")
        if named:
            writer.paragraph(_("Signers who agreed to be named"), "Heading 3")
            for signature in named:
                label = ", ".join(
                    part
                    for part in (
                        signature.name,
                        signature.organisation,
                        group_label(signature.group, process.language) if signature.group else "",
                    )
                    if part
                )
                writer.paragraph(label, "List Bullet")
        if commented:
            writer.paragraph(_("Their comments"), "Heading 3")
            for signature in commented:
                author = signature.name if signature.show_name else _("A signer")
                writer.paragraph(f"« {signature.comment} » — {author}", "Quote")
        if progress:
            progress(index, total)
    writer.page_numbers()
    return document
