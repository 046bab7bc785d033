import pytest
from markupsafe import Markup

from deliberation.services.authoring.textdiff import (
    diff_words,
    render_html,
    side_by_side,
    tokenize,
)

ORIGINAL = "Un accompagnement de qualité demande du temps et des moyens."
AMENDED = "Un accompagnement de qualité demande du temps, des moyens et de la confiance."


def _side(pieces, keep):
    return "".join(text for op, text in pieces if op in ("equal", keep))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (ORIGINAL, AMENDED),
        ("", "Nouvelle piste d'action."),
        ("Texte supprimé entièrement.", ""),
        ("same text", "same text"),
        ("a  b\n\nc", "a b c d"),
        ("L'insertion   sociale", "L’insertion sociale et professionnelle"),
    ],
)
def test_each_side_is_rebuilt_exactly(before, after):
    pieces = diff_words(before, after)
    assert _side(pieces, "delete") == before
    assert _side(pieces, "insert") == after


def test_tokens_keep_whitespace_and_split_punctuation():
    assert tokenize("temps, des  moyens.") == ["temps", ",", " ", "des", "  ", "moyens", "."]
    assert tokenize("accompagnées") == ["accompagnées"]


def test_only_the_changed_words_are_marked():
    pieces = diff_words(ORIGINAL, AMENDED)
    deleted = [text for op, text in pieces if op == "delete"]
    inserted = [text for op, text in pieces if op == "insert"]
    assert "Un accompagnement de qualité demande du temps" in pieces[0][1]
    assert pieces[0][0] == "equal"
    assert "".join(inserted).count("confiance") == 1
    assert "accompagnement" not in "".join(deleted + inserted)


def test_a_changed_comma_is_marked_alone():
    pieces = diff_words("le temps. Puis", "le temps, Puis")
    assert ("delete", ".") in pieces
    assert ("insert", ",") in pieces
    assert all("temps" not in text for op, text in pieces if op != "equal")


def test_neighbouring_changes_read_as_one():
    pieces = diff_words("one two three four", "one deux trois four")
    assert pieces == [
        ("equal", "one "),
        ("delete", "two three"),
        ("insert", "deux trois"),
        ("equal", " four"),
    ]


def test_html_is_escaped_and_marked():
    html = render_html(diff_words("a <b> & c", "a <script>alert(1)</script> & c"))
    assert isinstance(html, Markup)
    assert "<script" not in html and "</script" not in html
    assert "&lt;/script" in html
    assert "<ins>" in html and "<del>" in html
    assert "&amp;" in html


def test_side_by_side_marks_each_side_only_with_its_own_change():
    original, proposed = side_by_side(ORIGINAL, AMENDED)
    assert "<ins>" not in original and "<del>" in original
    assert "<del>" not in proposed and "<ins>" in proposed
    assert "confiance" in proposed and "confiance" not in original
