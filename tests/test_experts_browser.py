"""Experts writing their own inputs, in real headless Chromium through the real server
(issue 15 part 4): the organiser invites an expert, the expert writes with the live
preview and submits, is asked for changes, resubmits, is accepted; the input shows on the
outline and, once the handouts are published again, in the field's *Éclairages* (the Word
file built by an export worker, read back with python-docx). The link then stops working."""

from __future__ import annotations

import pytest
from docx import Document

from tests.conftest import start_demo_server
from tests.test_live_browser import PHONE, log_in

SLUG = "assises-insertion"


@pytest.fixture
def server(tmp_path, demo_database):
    """The demo on a server whose export workers write Word only (no LibreOffice wait)."""
    server = start_demo_server(tmp_path, demo_database, env={"EXPORT_PDF": "0"})
    yield server
    server.stop()


def decide(page, server, name: str, decision: str, comment: str = "") -> None:
    page.goto(f"{server.url}/organize/{SLUG}/experts")
    page.get_by_role("row").filter(has_text=name).get_by_role("link").first.click()
    if comment:
        page.fill("#comment", comment)
    page.click(f"button[name=decision][value={decision}]")
    page.wait_for_load_state()


def test_an_expert_writes_is_asked_for_changes_resubmits_and_is_accepted(server, browser, tmp_path):
    organiser = browser.new_page()
    log_in(organiser, server)
    organiser.goto(f"{server.url}/organize/{SLUG}/experts")
    organiser.fill("#name", "Prof. Luc Verhaegen")
    organiser.fill("#affiliation", "ULB")
    organiser.select_option("#role", "academic")
    organiser.click("form.form button.primary")
    organiser.wait_for_selector("#expert-link")
    link = organiser.input_value("#expert-link")
    assert "/x/" in link

    # The expert, on a phone-sized screen, without an account.
    expert = browser.new_context(viewport=PHONE, locale="fr-BE").new_page()
    expert.goto(link)
    assert "Prof. Luc Verhaegen" in expert.inner_text("main")
    expert.fill("#text", "Les **parcours** longs protègent.")
    # The organisers' live preview, for the expert: rendered by the server, sanitised.
    expert.wait_for_selector("#text-preview strong:has-text('parcours')")
    first = expert.locator("select[id^=stance-]").first
    hypothesis_key = first.get_attribute("id").removeprefix("stance-")
    first.select_option("supports")
    # A stance without its sentence is refused, with a message beside it; nothing is lost.
    expert.click("button[value=submit]")
    expert.wait_for_selector(f"#why-{hypothesis_key}-error")
    assert "Dites en une phrase pourquoi." in expert.inner_text(f"#why-{hypothesis_key}-error")
    assert expert.input_value("#text") == "Les **parcours** longs protègent."
    expert.fill(f"#why-{hypothesis_key}", "Les cohortes suivies cinq ans le montrent.")
    expert.click("button[value=save]")
    expert.wait_for_selector("text=Votre brouillon est enregistré.")
    expert.click("button[value=submit]")
    expert.wait_for_selector("#input-state[data-state=submitted]")

    decide(organiser, server, "Verhaegen", "changes_requested", "Ajoutez une référence, svp.")
    expert.reload()
    assert "Ajoutez une référence, svp." in expert.inner_text("#review-comment")
    expert.fill("#references", "- Verhaegen, L. (2013). *Parcours d’insertion.* ULB.")
    expert.fill("#text", "Les **parcours** longs protègent, surtout les plus jeunes.")
    expert.click("button[value=submit]")
    expert.wait_for_selector("#input-state[data-state=submitted]")

    decide(organiser, server, "Verhaegen", "accepted")
    assert organiser.locator("#input-state[data-state=accepted]").count() == 1
    organiser.click("#input-state a[href*='#expert_input-']")
    organiser.wait_for_load_state()
    item = organiser.locator(".expert-inputs li.item").filter(has_text="Prof. Luc Verhaegen")
    assert "surtout les plus jeunes" in item.inner_text()
    assert "Les cohortes suivies cinq ans le montrent." in item.inner_text()

    # The link stops working once accepted.
    expert.goto(link)
    assert "Ce lien ne fonctionne plus" in expert.inner_text("main")

    # Published again, the field's Éclairages carry the input (built by a worker).
    organiser.goto(f"{server.url}/organize/{SLUG}/handouts")
    organiser.locator("tr").nth(1).locator("button[value=publish]").click()
    organiser.wait_for_load_state()
    for _attempt in range(120):
        if organiser.locator("#handouts-job[data-state=done]").count():
            break
        organiser.wait_for_timeout(500)
        organiser.reload()
    assert organiser.locator("#handouts-job[data-state=done]").count() == 1
    with organiser.expect_download() as download:
        organiser.locator("tr").nth(1).locator("a[href$='-inputs.docx']").click()
    saved = tmp_path / "eclairages.docx"
    download.value.save_as(saved)
    text = "\n".join(p.text for p in Document(str(saved)).paragraphs)
    assert "Prof. Luc Verhaegen, chercheur·e, ULB" in text
    assert "Les parcours longs protègent, surtout les plus jeunes." in text
    assert "Les cohortes suivies cinq ans le montrent." in text
    assert "Verhaegen, L. (2013). Parcours d’insertion. ULB." in text

    # The participants see the documents on the process's public page.
    reader = browser.new_context(viewport=PHONE, locale="fr-BE").new_page()
    reader.goto(f"{server.url}/p/{SLUG}/documents")
    assert reader.locator("a[href$='-inputs.docx']").count() == 3
