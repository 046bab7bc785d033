"""Word-level differences between two wordings, for amendments shown on the projector.

The texts are split into words, runs of whitespace and single punctuation marks, so that a
changed comma is marked as a comma and not as the whole word around it. The pieces are
compared with :class:`difflib.SequenceMatcher`; joining the pieces of one side gives back
that side's text exactly.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

from markupsafe import Markup, escape

Op = Literal["equal", "delete", "insert"]
Piece = tuple[Op, str]

# A word (letters, digits, joined by nothing), a run of whitespace, or one other character.
TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def _segments(before: str, after: str) -> list[tuple[str, str, str]]:
    """(opcode tag, old text, new text) runs, whitespace-only equal runs between two changes
    folded into the change around them so the eye reads one change, not a stutter."""
    old, new = tokenize(before), tokenize(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    runs = [
        (tag, "".join(old[i1:i2]), "".join(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    folded: list[tuple[str, str, str]] = []
    index = 0
    while index < len(runs):
        tag, old_text, new_text = runs[index]
        is_gap = tag == "equal" and old_text.isspace()
        if is_gap and folded and folded[-1][0] != "equal" and index + 1 < len(runs):
            next_tag, next_old, next_new = runs[index + 1]
            if next_tag != "equal":
                _, prev_old, prev_new = folded.pop()
                folded.append(
                    ("replace", prev_old + old_text + next_old, prev_new + new_text + next_new)
                )
                index += 2
                continue
        if tag != "equal" and folded and folded[-1][0] != "equal":
            _, prev_old, prev_new = folded.pop()
            folded.append(("replace", prev_old + old_text, prev_new + new_text))
        else:
            folded.append((tag, old_text, new_text))
        index += 1
    return folded


def diff_words(before: str, after: str) -> list[Piece]:
    """The change from ``before`` to ``after`` as (``equal``|``delete``|``insert``, text).

    Joining the ``equal`` and ``delete`` pieces gives ``before``; joining the ``equal`` and
    ``insert`` pieces gives ``after``.
    """
    pieces: list[Piece] = []
    for tag, old_text, new_text in _segments(before, after):
        if tag == "equal":
            pieces.append(("equal", old_text))
            continue
        if old_text:
            pieces.append(("delete", old_text))
        if new_text:
            pieces.append(("insert", new_text))
    return pieces


def render_html(pieces: list[Piece]) -> Markup:
    """One inline rendering: removed words in ``<del>``, added words in ``<ins>``, escaped."""
    out: list[str] = []
    for op, text in pieces:
        if op == "delete":
            out.append(f"<del>{escape(text)}</del>")
        elif op == "insert":
            out.append(f"<ins>{escape(text)}</ins>")
        else:
            out.append(str(escape(text)))
    return Markup("".join(out))  # noqa: S704 - every piece escaped above


def side_by_side(before: str, after: str) -> tuple[Markup, Markup]:
    """The original with its removed words marked, and the new wording with its added ones."""
    pieces = diff_words(before, after)
    original = render_html([piece for piece in pieces if piece[0] != "insert"])
    proposed = render_html([piece for piece in pieces if piece[0] != "delete"])
    return original, proposed
