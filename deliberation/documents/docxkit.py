"""A small toolkit over python-docx shared by the Synthèse and the Actes.

Why not plain ``document.add_paragraph(text, style=name)``: looking a style up by name walks
the whole style list each time, and a large Actes has tens of thousands of paragraphs. Here
styles are resolved once to their ids and paragraphs are built at the XML level, which is
what python-docx does underneath anyway. The writer also owns what python-docx lacks: real
footnotes, fields (table of contents, page numbers) and Markdown rendered into Word runs and
list styles — with every string passed through :func:`clean_text` first, so no user text can
produce an invalid document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.sax.saxutils import escape as xml_escape

import markdown
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.text.paragraph import CT_P
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from lxml.etree import SubElement

from ..services.authoring.text import MARKDOWN_EXTENSIONS, NOTE_MARKER
from .docx_markdown import MarkdownWriting, clean_text
from .footnotes import Footnotes, insert_setting
from .wordcharts import ChartData, embed_chart, inline_chart

# Styles the documents add to python-docx's default template (name, type, base, setup).
CUSTOM_PARAGRAPH_STYLES = {
    "Finding": ("Normal", {"bold": True, "size": 12, "space_before": 14, "keep_next": True}),
    "Finding Subheading": ("Normal", {"bold": True, "italic": True, "keep_next": True}),
    "Outcome": ("Normal", {"italic": True, "size": 10, "color": (0x1F, 0x5F, 0x3F)}),
    # A verdict's line in the colours of the screens (consolidate.css), and never colour
    # alone: the line starts with the verdict in words and carries a left bar.
    "Outcome Validated": ("Outcome", {"color": (0x14, 0x53, 0x2D), "bar": "16A34A"}),
    "Outcome Rework": ("Outcome", {"color": (0x71, 0x3F, 0x12), "bar": "D97706"}),
    "Outcome Rejected": ("Outcome", {"color": (0x7F, 0x1D, 0x1D), "bar": "DC2626"}),
    "footnote text": ("Normal", {"size": 9}),
    "Cover Note": ("Normal", {"size": 11, "italic": True}),
    "Footnote List Bullet": ("List Bullet", {"size": 9}),
    "Footnote List Number": ("List Number", {"size": 9}),
    "Table Gap": ("Normal", {"size": 6}),
    "Figure": ("Normal", {"keep_next": True}),
    # Word's built-in names for the table of contents levels.
    "toc 1": ("Normal", {"bold": True, "space_before": 6}),
    "toc 2": ("Normal", {"indent": 0.5}),
}
_TOC_LEVELS = {"Heading 1": 1, "Heading 2": 2}
_OUTCOME_STYLES = {
    "validated": "Outcome Validated",
    "rework": "Outcome Rework",
    "rejected": "Outcome Rejected",
}
# A4 with 2.5 cm margins: 16 cm of text width.
TEXT_WIDTH_TWIPS = 9070
TEXT_WIDTH = Cm(16)
# A table this short is kept on one page (each row kept with the next); a longer one may
# break between rows, its header row repeated and never left alone at a page's foot.
KEEP_TOGETHER_ROWS = 15
_VAL = qn("w:val")
_P, _PPR, _PSTYLE = qn("w:p"), qn("w:pPr"), qn("w:pStyle")
_R, _RPR, _RSTYLE, _I = qn("w:r"), qn("w:rPr"), qn("w:rStyle"), qn("w:i")
_T, _TAB, _BR = qn("w:t"), qn("w:tab"), qn("w:br")
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_MARKS = re.compile(r"[*_`#>|]+|\[\^\d+\]|^\s*(?:[-+]|\d+[.)])\s", re.MULTILINE)
_BREAKS = re.compile(r"(\t|\n)")

CUSTOM_CHARACTER_STYLES = {"footnote reference": {"superscript": True}}
# Styles Word knows under these names and ids: declared as its built-in ones, not custom.
BUILT_IN_IDS = {
    "footnote text": "FootnoteText",
    "footnote reference": "FootnoteReference",
    "toc 1": "TOC1",
    "toc 2": "TOC2",
}


def _declare_built_in(style, name: str) -> None:
    if name in BUILT_IN_IDS:
        style.style_id = BUILT_IN_IDS[name]
        style.element.attrib.pop(qn("w:customStyle"), None)


def _apply_font(style, setup: dict) -> None:
    font = style.font
    if "bold" in setup:
        font.bold = setup["bold"]
    if "italic" in setup:
        font.italic = setup["italic"]
    if "size" in setup:
        font.size = Pt(setup["size"])
    if "color" in setup:
        font.color.rgb = RGBColor(*setup["color"])
    if "superscript" in setup:
        font.superscript = setup["superscript"]


class DocWriter(MarkdownWriting):
    """Builds one document: styles resolved once, paragraphs appended to the body or a footnote.

    ``note_resolver`` (set by the caller while it writes a finding) turns a ``[^n]`` marker
    into a footnote id, creating the footnote on first use.
    """

    def __init__(self, document: DocumentObject, language: str = "fr") -> None:
        self.document = document
        self.language = language
        self.body = document.element.body
        self._sect_pr = self.body.get_or_add_sectPr()
        self._chart_id = 0
        self._toc_p = None
        self._headings: list[tuple[int, CT_P]] = []
        self._markdown = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
        self._ensure_styles()
        for section in document.sections:
            section.page_width, section.page_height = Cm(21), Cm(29.7)
            section.left_margin = section.right_margin = Cm(2.5)
        self.style_ids = {s.name: s.style_id for s in document.styles}
        self.footnotes = Footnotes(document)
        self.note_resolver: Callable[[int], int | None] | None = None

    # -- styles -------------------------------------------------------------------------
    def _ensure_styles(self) -> None:
        styles = self.document.styles
        names = {s.name for s in styles}
        for name, (base, setup) in CUSTOM_PARAGRAPH_STYLES.items():
            if name in names:
                continue
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            _declare_built_in(style, name)
            style.base_style = styles[base]
            style.quick_style = True
            _apply_font(style, setup)
            fmt = style.paragraph_format
            if "space_before" in setup:
                fmt.space_before = Pt(setup["space_before"])
            if "indent" in setup:
                fmt.left_indent = Cm(setup["indent"])
            if setup.get("keep_next"):
                fmt.keep_with_next = True
            if "bar" in setup:
                style.element.get_or_add_pPr().append(
                    parse_xml(
                        f'<w:pBdr {nsdecls("w")}><w:left w:val="single" w:sz="24" '
                        f'w:space="6" w:color="{setup["bar"]}"/></w:pBdr>'
                    )
                )
            if name in BUILT_IN_IDS and name.startswith("toc "):
                # The page number at the right margin, after a dotted leader.
                fmt.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
        for name, setup in CUSTOM_CHARACTER_STYLES.items():
            if name not in names:
                style = styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
                _declare_built_in(style, name)
                _apply_font(style, setup)
        # Page numbers centred and the running head set right by their styles themselves,
        # not by direct formatting.
        styles["Footer"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        styles["Header"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        styles["Header"].font.size = Pt(9)
        styles["Header"].font.italic = True
        language_tag = {"fr": "fr-BE", "en": "en-GB"}.get(self.language, self.language)
        rpr = styles["Normal"].element.get_or_add_rPr()
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), language_tag)

    def sid(self, name: str) -> str:
        return self.style_ids[name]

    # -- paragraphs and runs ------------------------------------------------------------
    # Built with plain lxml appends: python-docx's generic "insert in schema order" helpers
    # search the children for every insertion, which dominates the time of a large document.
    def paragraph(self, text: str = "", style: str | None = None, container=None) -> CT_P:
        """A plain-text paragraph (no Markdown), ``[^n]`` markers still become footnotes."""
        p = self._new_p(style, container)
        if text:
            self.inline(p, clean_text(text))
        return p

    def _new_p(self, style: str | None, container=None) -> CT_P:
        if container is None:
            p = SubElement(self.body, _P)
            self._sect_pr.addprevious(p)  # the body's section properties stay last
        else:
            p = SubElement(container, _P)
        if style:
            SubElement(SubElement(p, _PPR), _PSTYLE, {_VAL: self.style_ids[style]})
            if style in _TOC_LEVELS and container is None:
                self._headings.append((_TOC_LEVELS[style], p))
        return p

    def run(self, p: CT_P, text: str, char_style: str | None = None, italic: bool = False):
        r = SubElement(p, _R)
        if char_style or italic:
            rpr = SubElement(r, _RPR)
            if char_style:
                SubElement(rpr, _RSTYLE, {_VAL: self.style_ids[char_style]})
            if italic:
                SubElement(rpr, _I)
        for piece in _BREAKS.split(text) if ("\t" in text or "\n" in text) else (text,):
            if piece == "\t":
                SubElement(r, _TAB)
            elif piece == "\n":
                SubElement(r, _BR)
            elif piece:
                t = SubElement(r, _T)
                t.text = piece
                if piece[0] == " " or piece[-1] == " ":
                    t.set(_SPACE, "preserve")
        return r

    def inline(self, p: CT_P, text: str, char_style: str | None = None, italic=False) -> None:
        """Runs for a text, with ``[^n]`` markers turned into footnote references."""
        if "[^" not in text:
            self.run(p, text, char_style, italic)
            return
        position = 0
        for match in NOTE_MARKER.finditer(text):
            if match.start() > position:
                self.run(p, text[position : match.start()], char_style, italic)
            note_id = self.note_resolver(int(match.group(1))) if self.note_resolver else None
            if note_id is None:
                self.run(p, match.group(0), char_style, italic)
            else:
                self.footnote_reference(p, note_id)
            position = match.end()
        if position < len(text):
            self.run(p, text[position:], char_style, italic)

    def footnote_reference(self, p: CT_P, note_id: int) -> None:
        r = self.run(p, "", "footnote reference")
        reference = OxmlElement("w:footnoteReference")
        reference.set(qn("w:id"), str(note_id))
        r.append(reference)

    def add_footnote(self, text: str) -> int:
        """A real Word footnote holding ``text`` (Markdown: it may carry its own list)."""
        note_id, element = self.footnotes.new()
        resolver, self.note_resolver = self.note_resolver, None  # no notes inside notes
        try:
            self.markdown(text, "footnote text", container=element)
        finally:
            self.note_resolver = resolver
        first = element.find(qn("w:p"))
        if first is None:
            first = self._new_p("footnote text", element)
        mark = OxmlElement("w:r")
        rpr = OxmlElement("w:rPr")
        rstyle = OxmlElement("w:rStyle")
        rstyle.set(qn("w:val"), self.style_ids["footnote reference"])
        rpr.append(rstyle)
        mark.append(rpr)
        mark.append(OxmlElement("w:footnoteRef"))
        space = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = " "
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        space.append(t)
        ppr = first.find(qn("w:pPr"))
        index = 1 if ppr is not None else 0
        first.insert(index, mark)
        first.insert(index + 1, space)
        return note_id

    # -- fields, tables, pictures, breaks ----------------------------------------------
    def field(self, p: CT_P, instruction: str, placeholder: str = "") -> None:
        """A complex field (TOC, PAGE…) with a placeholder result until Word updates it."""

        def fld_char(kind: str):
            r = p.add_r()
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            if kind == "begin":
                char.set(qn("w:dirty"), "true")
            r.append(char)

        fld_char("begin")
        r = p.add_r()
        instr = OxmlElement("w:instrText")
        instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        instr.text = f" {instruction} "
        r.append(instr)
        fld_char("separate")
        p.add_r().text = placeholder
        fld_char("end")

    def table_of_contents(self, title: str) -> None:
        """The place of the table of contents; :meth:`finish_table_of_contents` writes it
        once every heading is known."""
        self.paragraph(title, "TOC Heading")
        self._toc_p = self._new_p(None)
        # Word recomputes the entries' page references on opening.
        insert_setting(
            self.document.settings.element,
            parse_xml(f'<w:updateFields {nsdecls("w")} w:val="true"/>'),
        )

    def finish_table_of_contents(self) -> None:
        """The headings (levels 1-2) as TOC entries, written as Word writes them: each a
        link to a bookmark on its heading, then a tab and a PAGEREF field to that bookmark.

        Why not a TOC field: LibreOffice imports a TOC field as an index whose entries stay
        the cached text until someone updates it by hand, so a converted PDF would have no
        page numbers. Plain paragraphs whose page numbers are PAGEREF fields get them from
        any reader that lays pages out (LibreOffice and its PDF export compute them, Word
        updates them on opening), and their links work everywhere."""
        toc = self._toc_p
        if toc is None:
            return
        previous = None
        for number, (level, heading) in enumerate(self._headings, start=1):
            text = "".join(t.text or "" for t in heading.iter(_T))
            name = f"_Toc{number:08d}"
            _bookmark(heading, name, number)
            if previous is None:
                p = toc
            else:
                p = OxmlElement("w:p")
                previous.addnext(p)
            SubElement(SubElement(p, _PPR), _PSTYLE, {_VAL: self.style_ids[f"toc {level}"]})
            p.append(parse_xml(_toc_entry_xml(clean_text(text), name)))
            previous = p

    def page_numbers(self, running_head: str = "") -> None:
        """A PAGE field in the footer and ``running_head`` (the process's title, say) in the
        header of every page but the cover (the first page has its own, empty, header and
        footer)."""
        for section in self.document.sections:
            section.different_first_page_header_footer = True
            p = section.footer.paragraphs[0]._p
            p.style = self.style_ids["Footer"]
            self.field(p, "PAGE", "1")
            if running_head:
                head = section.header.paragraphs[0]._p
                head.style = self.style_ids["Header"]
                self.run(head, clean_text(running_head))

    def page_break(self) -> None:
        p = self._new_p(None)
        br = OxmlElement("w:br")
        br.set(qn("w:type"), "page")
        r = OxmlElement("w:r")
        r.append(br)
        p.append(r)

    def table(
        self,
        header: list[str],
        rows: list[list[object]],
        style: str = "Light Grid Accent 1",
        fills: list[str] | None = None,
    ):
        """A table with a repeated header row, built as one XML fragment.

        Filling cells through python-docx (``row.cells`` / ``cell.text``) searches the table
        for every cell; the Actes hold thousands of cells, so the rows are written directly.
        """
        columns = max(len(header), 1)
        width = TEXT_WIDTH_TWIPS // columns
        grid = "".join(f'<w:gridCol w:w="{width}"/>' for _ in range(columns))
        short = len(rows) <= KEEP_TOGETHER_ROWS
        keep = "<w:pPr><w:keepNext/></w:pPr>"

        def row(
            values: list[object], is_header: bool, fill: str | None = None, last: bool = False
        ) -> str:
            # The header always stays with the first row; a short table stays whole.
            ppr = keep if is_header or (short and not last) else ""
            cells = []
            for index in range(columns):
                value = values[index] if index < len(values) else ""
                shading = (
                    f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>'
                    if fill and index == 0
                    else ""
                )
                cells.append(
                    f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shading}</w:tcPr>'
                    f"<w:p>{ppr}{_runs_xml(clean_text(value))}</w:p></w:tc>"
                )
            # A row never splits across pages; the header row repeats on each page.
            head = "<w:tblHeader/>" if is_header else ""
            return f"<w:tr><w:trPr><w:cantSplit/>{head}</w:trPr>{''.join(cells)}</w:tr>"

        xml = (
            f"<w:tbl {nsdecls('w')}><w:tblPr>"
            f'<w:tblStyle w:val="{self.style_ids[style]}"/><w:tblW w:w="5000" w:type="pct"/>'
            '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
            'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
            f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
            + row(header, True)
            + "".join(
                row(
                    values,
                    False,
                    fills[i] if fills and i < len(fills) else None,
                    last=i == len(rows) - 1,
                )
                for i, values in enumerate(rows)
            )
            + "</w:tbl>"
        )
        tbl = parse_xml(xml)
        self._sect_pr.addprevious(tbl)
        # Two tables in a row would touch and read as one (Word even merges them): a small
        # empty paragraph always follows a table.
        self._new_p("Table Gap")
        return Table(tbl, self.document._body)

    def chart(self, data: ChartData, width_cm: float) -> None:
        """A native chart (:mod:`.wordcharts`) in its own paragraph, kept with its caption."""
        self._chart_id += 1
        rel_id = embed_chart(self.document.part, self._chart_id, data)
        p = self._new_p("Figure")
        drawing = SubElement(SubElement(p, _R), qn("w:drawing"))
        drawing.append(inline_chart(rel_id, self._chart_id, width_cm, data))


def outcome_style(outcome: str | None) -> str:
    """The paragraph style of an outcome line with this verdict ("Outcome" without one)."""
    return _OUTCOME_STYLES.get(outcome or "", "Outcome")


def excerpt(text: str | None, limit: int = 120) -> str:
    """A one-line beginning of a text for labels, Markdown marks dropped (cheaply: a label
    needs the words, not a faithful rendering)."""
    words = " ".join(_MARKS.sub(" ", clean_text(text)).split())
    if len(words) <= limit:
        return words
    return words[: limit - 1].rsplit(" ", 1)[0] + "…"


def _bookmark(p: CT_P, name: str, number: int) -> None:
    """A bookmark around a heading's text, for the TOC entry's link and page reference."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    ppr = p.find(_PPR)
    if ppr is not None:
        ppr.addnext(start)
    else:
        p.insert(0, start)
    p.append(end)


def _toc_entry_xml(text: str, bookmark: str) -> str:
    """A TOC entry as Word writes one: a link to the heading's bookmark holding the text, a
    tab and a PAGEREF field (its result left empty until a layout computes it; marked
    dirty so that Word does)."""
    w = nsdecls("w")
    return (
        f'<w:hyperlink {w} w:anchor="{bookmark}" w:history="1">{_runs_xml(text)}'
        "<w:r><w:tab/></w:r>"
        '<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> PAGEREF {bookmark} \\h </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        "</w:hyperlink>"
    )


def _runs_xml(text: str) -> str:
    if not text:
        return ""
    parts = []
    for piece in _BREAKS.split(text):
        if piece == "\t":
            parts.append("<w:tab/>")
        elif piece == "\n":
            parts.append("<w:br/>")
        elif piece:
            parts.append(f'<w:t xml:space="preserve">{xml_escape(piece)}</w:t>')
    return f"<w:r>{''.join(parts)}</w:r>"
