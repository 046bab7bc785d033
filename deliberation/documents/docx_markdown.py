"""Markdown into Word: the part of :class:`~.docxkit.DocWriter` that turns a text's
sanitised HTML into paragraphs, runs and list styles."""

from __future__ import annotations

import re

import lxml.html
import markdown as markdown_lib
from docx.oxml.text.paragraph import CT_P

from ..services.authoring.text import NOTE_MARKER, sanitize_html

# Everything XML 1.0 forbids: C0 controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Text without any of these characters cannot hold Markdown: it becomes one run directly.
_MARKDOWN_HINT = re.compile(r"[*_`#<>&|!\[\]\\\n]|^\s*(?:[-+]|\d+[.)])\s")


def clean_text(value: object) -> str:
    """Any value as text that is legal in XML: forbidden characters dropped, newlines unified."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _XML_ILLEGAL.sub("", text.replace("\r\n", "\n"))


# Lists inside a footnote take the note's size: their own list styles (docxkit makes them).
_LIST_STYLES = {
    "footnote text": {"ul": "Footnote List Bullet", "ol": "Footnote List Number"},
}
_DEFAULT_LISTS = {"ul": "List Bullet", "ol": "List Number"}


class MarkdownWriting:
    """Mixed into :class:`~.docxkit.DocWriter`, which provides ``paragraph``, ``inline``,
    ``_new_p`` (paragraphs in its resolved styles) and ``_markdown`` (one reusable parser)."""

    _markdown: markdown_lib.Markdown

    def markdown(self, text: str | None, style: str = "Normal", container=None) -> None:
        """Markdown as paragraphs of ``style``, lists in List Bullet / List Number styles."""
        text = clean_text(text).strip()
        if not text:
            return
        if not _MARKDOWN_HINT.search(NOTE_MARKER.sub("", text)):
            self.paragraph(text, style, container)
            return
        html = sanitize_html(self._markdown.reset().convert(text))
        if not html.strip():
            return
        root = lxml.html.fragment_fromstring(html, create_parent="div")
        self._blocks(root, style, container, level=0)

    def inline_markdown(self, p: CT_P, text: str | None, rest_style: str | None = None) -> None:
        """Markdown into an existing paragraph (e.g. after a number): blocks become lines.

        With ``rest_style``, only the first paragraph goes into ``p``; what follows (a list,
        another paragraph, a table) is written after it as blocks, so a list in a finding's
        statement stays a list."""
        text = clean_text(text).strip()
        if not _MARKDOWN_HINT.search(NOTE_MARKER.sub("", text)):
            self.inline(p, text)
            return
        html = sanitize_html(self._markdown.reset().convert(text))
        root = lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")
        if rest_style is not None and len(root) > 1 and root[0].tag == "p" and not root.text:
            first = root[0]
            root.remove(first)
            self._inline(p, first, None, False, skip_lists=False)
            self._blocks(root, rest_style, None, level=0)
            return
        self._inline(p, root, None, False, skip_lists=False)

    def _blocks(self, element, style: str, container, level: int) -> None:
        if element.text and element.text.strip():
            self._inline_block(element, style, container)
            return
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in ("ul", "ol"):
                self._list(child, _LIST_STYLES.get(style, _DEFAULT_LISTS)[tag], container, 0)
            elif tag == "blockquote":
                self._blocks(child, "Quote", container, level)
            elif tag == "table":
                rows = [
                    [c.text_content().strip() for c in row if c.tag in ("td", "th")]
                    for row in child.iter("tr")
                ]
                if container is None and rows:
                    # A Markdown table becomes a Word table (the body only: a table in a
                    # footnote stays lines of cells, Word's notes being text).
                    self.table(rows[0], rows[1:])
                else:
                    for cells in rows:
                        self.paragraph(" | ".join(cells), style, container)
            elif tag == "hr":
                continue
            elif tag:
                self._inline_block(child, style, container)
            if child.tail and child.tail.strip():
                self.paragraph(child.tail.strip(), style, container)

    def _list(self, element, list_style: str, container, depth: int) -> None:
        in_note = list_style.startswith("Footnote")
        # Nested levels (List Bullet 2, 3); a footnote's list keeps one level, at note size.
        style = list_style if depth == 0 or in_note else f"{list_style} {min(depth + 1, 3)}"
        for item in element:
            if item.tag != "li":
                continue
            p = self._new_p(style, container)
            self._inline(p, item, None, False, skip_lists=True)
            for nested in item:
                if nested.tag in ("ul", "ol"):
                    styles = _LIST_STYLES["footnote text"] if in_note else _DEFAULT_LISTS
                    self._list(nested, styles[nested.tag], container, depth + 1)

    def _inline_block(self, element, style: str, container) -> None:
        p = self._new_p(style, container)
        heading = element.tag in ("h1", "h2", "h3", "h4", "h5", "h6")
        self._inline(p, element, "Strong" if heading else None, False, skip_lists=False)

    def _inline(self, p: CT_P, element, char_style, italic, skip_lists: bool) -> None:
        if element.text:
            self.inline(p, element.text, char_style, italic)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if skip_lists and tag in ("ul", "ol"):
                pass
            elif tag == "br":
                p.add_r().add_br()
            elif tag in ("strong", "b"):
                self._inline(p, child, "Strong", italic, skip_lists)
            elif tag in ("em", "i"):
                if char_style:
                    self._inline(p, child, char_style, True, skip_lists)
                else:
                    self._inline(p, child, "Emphasis", False, skip_lists)
            elif tag in ("p", "li", "ul", "ol", "blockquote", "pre") or tag[:1] == "h":
                if len(p) > (1 if p.pPr is not None else 0):
                    p.add_r().add_br()
                self._inline(p, child, char_style, italic, skip_lists)
            elif tag == "a":
                self._inline(p, child, char_style, italic, skip_lists)
                href = child.get("href") or ""
                if href and href != child.text_content():
                    self.inline(p, f" ({href})", char_style, italic)
            elif tag:
                self._inline(p, child, char_style, italic, skip_lists)
            if child.tail:
                self.inline(p, child.tail, char_style, italic)
