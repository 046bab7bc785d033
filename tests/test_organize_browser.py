"""The organiser's screens in real Chromium: log in, edit a hypothesis with the live
preview, and reorder hypotheses with the buttons and by dragging."""

import re
import uuid

import pytest
from conftest import log_in

pytestmark = pytest.mark.timeout(180)

DEMO = "assises-insertion"
PASSWORD = "a long password"


def hypothesis_ids(page, question_id: str) -> list[str]:
    return page.eval_on_selector_all(
        f'#question-{question_id} ol[data-kind="hypothesis"] > li',
        "items => items.map(li => li.dataset.id)",
    )


def test_edit_with_live_preview_and_reorder(live_server, browser, tmp_path):
    email = f"orga-{uuid.uuid4().hex[:8]}@example.org"
    result = live_server.flask("create-organizer", email, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "organiser" in result.stdout
    live_server.flask("add-member", DEMO, email, "--role", "co_organizer")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, live_server.url, email, PASSWORD)
        page.click("form.lang-switch button[lang=en]")  # English UI for the checks below
        page.goto(f"{live_server.url}/organize/{DEMO}")
        assert page.locator(".finding-number").first.inner_text() == "Finding 1"

        # The first question with at least two hypotheses.
        question_id = page.eval_on_selector_all(
            'li[id^="question-"]',
            """items => items.find(q =>
                 q.querySelectorAll('ol[data-kind="hypothesis"] > li').length >= 2).dataset.id""",
        )
        before = hypothesis_ids(page, question_id)
        first = before[0]

        # Edit the first hypothesis: the preview follows the typing, sanitised.
        page.click(f"#hypothesis-{first} .item-actions a:text('Edit')")
        page.wait_for_selector("textarea#text")
        page.fill("textarea#text", "")
        page.type("textarea#text", "Revised **in the browser** <script>window.pwned=1</script>")
        page.wait_for_selector("#text-preview strong:text('in the browser')")
        assert "<script" not in page.inner_html("#text-preview")
        page.click("form.item-form button.primary")
        page.wait_for_url(f"**/organize/{DEMO}#hypothesis-{first}")
        assert "in the browser" in page.inner_text(f"#hypothesis-{first} .item-text")
        assert page.evaluate("window.pwned") is None

        # Move it down with the button (a plain form post).
        page.click(f'#hypothesis-{first} button[data-move="down"]')
        page.wait_for_load_state()
        after = hypothesis_ids(page, question_id)
        assert after[:2] == [before[1], first]

        # Drag it back to the top by its handle (with the mouse, step by step, as a person
        # would: Chromium starts an HTML5 drag only after the pointer has moved a little).
        handle = page.locator(f"#hypothesis-{first} > .item-head .drag-handle")
        target = page.locator(f"#hypothesis-{before[1]} > .item-head")
        target.evaluate("element => element.scrollIntoView({block: 'center'})")
        start, goal = handle.bounding_box(), target.bounding_box()
        with page.expect_response(lambda r: r.url.endswith("/hypothesis/reorder")) as answer:
            page.mouse.move(start["x"] + 5, start["y"] + 5)
            page.mouse.down()
            page.mouse.move(start["x"] + 5, start["y"] - 10, steps=3)
            page.mouse.move(goal["x"] + 20, goal["y"] + 3, steps=10)
            page.mouse.up()
        assert answer.value.ok
        page.reload()
        assert hypothesis_ids(page, question_id)[:2] == [first, before[1]]

        # Issue 18: the whole row drags, and a quick gesture is enough — grabbed by its
        # text, far from the handle, moved in two steps.
        row = page.locator(f"#hypothesis-{first} > .item-head .item-text")
        target = page.locator(f"#hypothesis-{before[1]} > .item-head")
        start, goal = row.bounding_box(), target.bounding_box()
        with page.expect_response(lambda r: r.url.endswith("/hypothesis/reorder")) as answer:
            page.mouse.move(start["x"] + 10, start["y"] + 5)
            page.mouse.down()
            page.mouse.move(goal["x"] + 30, goal["y"] + goal["height"] - 3, steps=2)
            page.mouse.up()
        assert answer.value.ok
        page.reload()
        assert hypothesis_ids(page, question_id)[:2] == [before[1], first]
        box = page.locator(f"#hypothesis-{first} > .item-head .drag-handle").bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44

        # The Markdown box says its limit and counts as one types.
        page.click(f"#hypothesis-{first} .item-actions a:text('Edit')")
        counter = page.locator("#text-count")
        assert page.get_attribute("textarea#text", "maxlength") == "20000"
        page.fill("textarea#text", "12345")
        assert counter.inner_text() == "5 of 20,000 characters"
    finally:
        context.close()


def test_home_card_says_in_preparation_then_published_on(live_server, browser):
    """Issue 18: the public home card of a process says what a visitor can expect."""
    email, password = live_server.demo_login
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 640})
    visitor = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 640})
    page = context.new_page()
    try:
        log_in(page, live_server.url, email, password)
        page.goto(live_server.url + "/")
        card = page.locator("li.card", has_text="Assises")
        assert "En préparation" in card.inner_text()
        visitor_page = visitor.new_page()
        visitor_page.goto(live_server.url + "/")
        assert visitor_page.locator("li.card").count() == 0  # a draft is nobody else's

        page.goto(f"{live_server.url}/organize/{DEMO}/exports")
        page.click("form[action$='/exports/publish'] button")
        page.goto(live_server.url + "/")
        assert "Synthèse publiée le" in card.inner_text()
        visitor_page.goto(live_server.url + "/")
        text = visitor_page.locator("li.card", has_text="Assises").inner_text()
        assert re.search(r"Synthèse publiée le \d{1,2} \w+ 20\d\d", text), text
        assert "En préparation" not in text
        visitor_page.click("li.card >> text=Lire la synthèse")
        assert visitor_page.url.endswith(f"/p/{DEMO}")
    finally:
        visitor.close()
        context.close()
