"""Markdown for authored texts: rendered with ``markdown``, sanitised with ``nh3``.

This is the one place that turns an organiser's (or a participant's) Markdown into HTML.
Everything shown in a page goes through :func:`render_markdown`; nothing else may mark
user text as safe.
"""

from __future__ import annotations

import html
import re

import markdown
import nh3
from markupsafe import Markup

MARKDOWN_EXTENSIONS = ["tables", "sane_lists", "fenced_code"]

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "small",
    "sup", "sub", "abbr", "code", "pre", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
}
# Tags whose content goes too, not only the tag (a <script> body is never text to show).
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template"}
URL_SCHEMES = {"http", "https", "mailto"}

# A footnote marker such as ``[^2]`` in an item's text refers to the finding's 2nd note.
NOTE_MARKER = re.compile(r"\[\^(\d{1,3})\]")


def sanitize_html(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_markdown(text: str | None) -> Markup:
    """Markdown → sanitised HTML, safe to put in a template as is."""
    if not text:
        return Markup("")
    rendered = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    clean = sanitize_html(rendered).strip()
    # Safe after sanitising: the pattern only ever captures digits.
    clean = NOTE_MARKER.sub(r'<sup class="note-ref">\1</sup>', clean)
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def render_inline(text: str | None) -> Markup:
    """Like :func:`render_markdown` for a one-line text: without the wrapping paragraph."""
    rendered = str(render_markdown(text)).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return Markup(rendered)  # noqa: S704 - already sanitised


def plain_text(text: str | None) -> str:
    """The words of a Markdown text without any markup, whitespace collapsed."""
    if not text:
        return ""
    rendered = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    stripped = nh3.clean(rendered, tags=set(), clean_content_tags=DROPPED_WITH_CONTENT)
    return " ".join(html.unescape(stripped).split())


def excerpt(text: str | None, limit: int = 120) -> str:
    """A plain-text beginning of a text, cut on a word, for lists and titles."""
    words = plain_text(text)
    if len(words) <= limit:
        return words
    return words[: limit - 1].rsplit(" ", 1)[0] + "…"
