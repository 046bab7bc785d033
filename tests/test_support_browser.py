"""Issue 16: readers support recommendations from a phone in Chromium — the page's script
solves the proof of work — withdraw one, sign twice under one name (counted once); a burst of
signatures without the proof is refused and counted nowhere."""

from __future__ import annotations

import re

import pytest
from conftest import log_in

pytestmark = pytest.mark.timeout(240)

DEMO = "assises-insertion"
PHONE = {"width": 360, "height": 640}


def publish_the_demo(live_server, browser) -> None:
    email, password = live_server.demo_login
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, live_server.url, email, password)
        page.goto(f"{live_server.url}/organize/{DEMO}/exports")
        page.click("form[action$='/exports/publish'] button")
        page.wait_for_selector("text=The synthesis is public at:")
    finally:
        context.close()


def count_on(page, url: str) -> int:
    page.goto(url)
    text = page.inner_text("#support .support-count strong")
    return int(re.match(r"\d+", text).group(0))


def sign(page, name: str, group: str = "") -> None:
    page.fill("#support-name", name)
    page.fill("#support-organisation", "Collectif des usagers")
    if group:
        page.select_option("#support-group", group)
    page.check("#support-show")
    page.click("#support-form button[type=submit]")
    page.wait_for_selector(".flash")


def test_a_reader_supports_withdraws_and_cannot_sign_twice(live_server, browser):
    publish_the_demo(live_server, browser)
    base = f"{live_server.url}/p/{DEMO}"
    phone = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True, has_touch=True)
    other = browser.new_context(locale="en-GB", viewport=PHONE)
    page = phone.new_page()
    try:
        page.goto(base)
        links = page.eval_on_selector_all(
            "a[href*='/recommendations/'][href$='#support']", "links => links.map(a => a.href)"
        )
        first, second = links[0].split("#")[0], links[1].split("#")[0]
        assert count_on(page, first) == 0

        sign(page, "Aïcha Benali", "service_user")
        # The private link's page: the way to withdraw from any device.
        assert "/support/" in page.url and page.is_visible("text=Keep this private link")
        assert count_on(page, first) == 1
        assert "Service user : 1" in page.inner_text("#support .support-count")
        page.goto(second)
        sign(page, "Aïcha Benali", "service_user")
        assert count_on(page, second) == 1

        # Withdrawn from the phone that signed.
        page.goto(first)
        page.click("#support form button:has-text('Withdraw my signature')")
        page.wait_for_selector(".flash")
        assert count_on(page, first) == 0 and count_on(page, second) == 1

        # The same person from another browser, the name typed differently: counted once.
        again = other.new_page()
        again.goto(second)
        sign(again, "aicha  benali")
        assert "already signed" in again.inner_text(".flash")
        assert count_on(again, second) == 1

        # A burst without the proof of work: every one refused, nothing counted.
        csrf = again.get_attribute("meta[name=csrf-token]", "content")
        rec_id = second.rsplit("/", 1)[1]
        for number in range(30):
            response = again.request.post(
                f"{base}/support",
                form={
                    "csrf_token": csrf,
                    "recommendation_id": rec_id,
                    "name": f"Robot {number}",
                    "proof": '{"number": 1}',
                },
                max_redirects=0,
            )
            assert response.status in (302, 429)
        assert count_on(again, second) == 1
        data = again.request.get(f"{base}/support.json").json()
        counted = {item["recommendation_id"]: item["signatures"] for item in data["support"]}
        assert counted == {int(rec_id): 1}
        assert [shown["name"] for shown in data["support"][0]["shown"]] == ["Aïcha Benali"]
    finally:
        other.close()
        phone.close()
