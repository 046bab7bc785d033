"""Real Word footnotes (python-docx 1.2 has no footnote API) and ordered settings.

The footnotes part is created on first use with Word's two separator footnotes (ids -1 and
0), related to the document part, and announced in ``settings.xml`` (``w:footnotePr``).
"""

from __future__ import annotations

from docx.document import Document as DocumentObject
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn


class Footnotes:
    """The footnotes part, created on first use (python-docx 1.2 has no footnote API)."""

    def __init__(self, document: DocumentObject) -> None:
        self._document = document
        self._root = None
        self._next_id = 1

    def _ensure(self):
        if self._root is not None:
            return self._root
        xml = (
            f"<w:footnotes {nsdecls('w', 'r')}>"
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
            "</w:footnote>"
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
            "<w:continuationSeparator/></w:r></w:p></w:footnote></w:footnotes>"
        )
        document_part = self._document.part
        part = XmlPart(
            PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, parse_xml(xml), document_part.package
        )
        document_part.relate_to(part, RT.FOOTNOTES)
        settings = self._document.settings.element
        footnote_pr = parse_xml(
            f'<w:footnotePr {nsdecls("w")}><w:footnote w:id="-1"/><w:footnote w:id="0"/>'
            "</w:footnotePr>"
        )
        insert_setting(settings, footnote_pr)
        self._root = part.element
        return self._root

    def new(self) -> tuple[int, object]:
        """A new empty ``w:footnote`` element and its id."""
        root = self._ensure()
        footnote = OxmlElement("w:footnote")
        footnote.set(qn("w:id"), str(self._next_id))
        root.append(footnote)
        self._next_id += 1
        return self._next_id - 1, footnote

    @property
    def count(self) -> int:
        return self._next_id - 1


# Elements of w:settings that must come after updateFields/footnotePr (schema order).
_SETTINGS_AFTER = ("w:endnotePr", "w:compat", "w:docVars", "w:rsids", "m:mathPr")


def insert_setting(settings, element) -> None:
    tag = element.tag
    existing = settings.find(tag)
    if existing is not None:
        settings.replace(existing, element)
        return
    for name in _SETTINGS_AFTER:
        anchor = settings.find(qn(name))
        if anchor is not None:
            anchor.addprevious(element)
            return
    settings.append(element)
