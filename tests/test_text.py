from markupsafe import Markup

from deliberation.services.authoring.text import excerpt, plain_text, render_inline, render_markdown


def test_usual_formatting_lists_and_tables():
    html = render_markdown(
        "# Title\n\n**bold** and *it*\n\n- one\n- two\n\n1. first\n2. second\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    assert isinstance(html, Markup)
    for fragment in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>it</em>", "<ul>", "<ol>"):
        assert fragment in html
    assert "<table>" in html and "<td>1</td>" in html


def test_links_get_rel_noopener():
    html = render_markdown("[site](https://example.org)")
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer"' in html


def test_script_is_removed_with_its_content():
    html = render_markdown("Hello <script>alert('x')</script> world")
    assert "<script" not in html
    assert "alert" not in html
    assert "Hello" in html and "world" in html


def test_javascript_links_lose_their_href():
    html = render_markdown("[click](javascript:alert(1)) and <a href='javascript:evil()'>x</a>")
    assert "javascript:" not in html
    assert "click" in html


def test_event_handler_attributes_are_stripped():
    html = render_markdown('<p onclick="evil()">hi</p><img src=x onerror="evil()">')
    assert "onclick" not in html and "onerror" not in html and "evil" not in html
    assert "hi" in html


def test_note_markers_become_superscripts():
    assert '<sup class="note-ref">2</sup>' in render_markdown("See this[^2].")


def test_empty_text_renders_empty():
    assert render_markdown("") == "" and render_markdown(None) == ""


def test_inline_drops_the_paragraph():
    assert render_inline("a *b*") == "a <em>b</em>"


def test_plain_text_and_excerpt():
    assert plain_text("**Bold** <script>x()</script> & [link](http://a.b)") == "Bold & link"
    long = "word " * 100
    cut = excerpt(long, 30)
    assert len(cut) <= 30 and cut.endswith("…")
