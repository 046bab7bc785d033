"""The sign-in sheet of an event, to print (Word): a table with a column to sign."""

from __future__ import annotations

import io
from collections.abc import Mapping

from docx import Document

from .docxkit import DocWriter


def sign_in_sheet(
    title: str, rows: list[list[str]], language: str, headings: Mapping[str, str]
) -> bytes:
    """A Word table with a column to sign. The rows are written as one XML fragment
    (``DocWriter.table``): a hall of 2,000 is one table, not 10,000 cell lookups."""
    document = Document()
    writer = DocWriter(document, language)
    writer.paragraph(title, "Title")
    writer.paragraph(headings["when"], "Subtitle")
    columns = ("name", "organisation", "group", "ticket", "signature")
    writer.table([headings[key] for key in columns], rows)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
