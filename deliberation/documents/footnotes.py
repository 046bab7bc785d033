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


# The end of the schema order of w:settings children (ECMA-376, CT_Settings), from the two
# this module writes: Word refuses a settings part whose children are out of order.
_SETTINGS_TAIL = (
    "updateFields", "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars",
    "rsids", "attachedSchema", "themeFontLang", "clrSchemeMapping",
    "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade", "captions",
    "readModeInkLockDown", "smartTagType", "shapeDefaults", "doNotEmbedSmartTags",
    "decimalSymbol", "listSeparator",
)  # fmt: skip
_W = qn("w:x")[:-1]


def insert_setting(settings, element) -> None:
    """Put (or replace) one child of w:settings at its place in the schema order."""
    existing = settings.find(element.tag)
    if existing is not None:
        settings.replace(existing, element)
        return
    position = _SETTINGS_TAIL.index(element.tag[len(_W) :])
    later = set(_SETTINGS_TAIL[position + 1 :])
    for child in settings:
        tag = child.tag if isinstance(child.tag, str) else ""
        # Children from other namespaces (m:mathPr, w14:…) all come after these two.
        if not tag.startswith(_W) or tag[len(_W) :] in later:
            child.addprevious(element)
            return
    settings.append(element)
