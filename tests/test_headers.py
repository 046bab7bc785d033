"""Security headers on every response of every route (pages, JSON, files, errors, refusals),
cookie flags, and what changes behind a reverse proxy (ProxyFix): the client's address for
the throttles, Secure cookies, HSTS only over HTTPS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from deliberation.extensions import db
from deliberation.headers import CONTENT_SECURITY_POLICY
from deliberation.live import rooms
from deliberation.models import Hypothesis, Process
from deliberation.services.live import sessions
from deliberation.services.people.accounts import create_or_update_organizer
from tests.conftest import make_app
from tests.live_fixtures import make_member, make_process, workshop

EMAIL, PASSWORD = "orga@example.org", "a long organiser password"


def assert_secured(response, where: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives.get("frame-ancestors") == "'none'", where
    assert directives.get("default-src") == "'self'", where
    script = directives.get("script-src", "")
    assert script.startswith("'self' 'nonce-") and "unsafe" not in script, where
    style = directives.get("style-src", "")
    assert style.startswith("'self' 'nonce-") and "unsafe" not in style, where
    assert directives.get("object-src") == "'none'", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert "Strict-Transport-Security" not in headers, where  # plain HTTP: a LAN


@pytest.fixture
def world(app):
    rooms.clear()
    with app.app_context():
        organizer, _created = create_or_update_organizer(EMAIL, PASSWORD)
        process = make_process()
        make_member(process.id, organizer.id, "owner")
        session = workshop(process)
        sessions.add_agenda_item(session, "free", text="Shall we?")
        hypothesis = db.session.scalar(db.select(Hypothesis))
        values = {
            "slug": process.slug,
            "session_id": session.id,
            "code": session.join_code,
            "document_kind": "synthesis",
            "item_id": hypothesis.id,
            "item_type": "hypothesis",
            "agenda_id": 1,
            "number": 1,
            "territory_id": 1,
            "job_id": "missing",
            "name": "missing.docx",
            "action": "show_item",
            "filename": "css/app.css",
            "invitation_id": 1,
            "membership_id": 1,
            "link_id": 1,
            "comment_id": 1,
            "support_id": 1,
            "event_id": 1,
            "secret": "not-a-real-registration-secret",
            "recommendation_id": 1,
            "token": "not-a-real-invitation",
            "expert_id": 1,
        }
        db.session.get(Process, process.id).synthesis_published = True
        db.session.commit()
    yield values
    rooms.clear()


def test_every_route_sends_the_headers(app, world):
    client = app.test_client()
    anonymous = app.test_client()
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 302
    seen = 0
    statuses = set()
    for rule in app.url_map.iter_rules():
        values = {name: world[name] for name in rule.arguments}
        if rule.endpoint == "public.set_language":
            values["code"] = "en"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "auth.logout":
                continue  # last, below: it ends the session the walk needs
            for who in (client, anonymous):
                response = who.open(url, method=method)
                response.get_data()  # a streamed page (the outline) is rendered to its end
                assert_secured(response, f"{method} {url}")
                statuses.add(response.status_code)
                seen += 1
    assert_secured(client.post("/logout"), "POST /logout")
    assert_secured(anonymous.get("/nowhere"), "404")
    assert seen > 100
    # The walk met successes, redirects and refusals alike.
    assert {200, 302, 404} <= statuses and statuses & {400, 405}


def test_headers_on_throttled_answers(app, world):
    app.config["CODE_GUESS_LIMIT"] = "1 per minute"
    client = app.test_client()
    client.get("/j?code=ZZZZZZ")
    refused = client.get(f"/j/{world['code']}")
    assert refused.status_code == 429
    assert_secured(refused, "code throttle")
    for _attempt in range(6):
        answer = client.post("/login", data={"email": EMAIL, "password": "wrong password"})
    assert answer.status_code == 429
    assert_secured(answer, "log-in throttle")


def set_cookie_headers(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_cookie_flags_on_a_lan(app, world):
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "remember": "y"})
    cookies = set_cookie_headers(response)
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
        assert "Secure" not in cookies[name]  # plain HTTP on a LAN: Secure would lose them
    expires = parsedate_to_datetime(cookies["remember_token"].split("Expires=")[1].split(";")[0])
    lasts = expires - datetime.now(UTC)
    assert timedelta(days=29) < lasts <= timedelta(days=30), lasts
    joined = app.test_client().post(f"/j/{world['code']}", data={"name": "Ana"})
    token = set_cookie_headers(joined)["participant_token"]
    assert "HttpOnly" in token and "SameSite=Lax" in token and "Secure" not in token


def test_behind_a_reverse_proxy(tmp_path, monkeypatch):
    """TRUSTED_PROXIES=1: the proxy's X-Forwarded-For names the client (one throttle each),
    X-Forwarded-Proto https makes cookies Secure and brings HSTS."""
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    app = make_app(tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    with app.app_context():
        create_or_update_organizer(EMAIL, PASSWORD)
        code = workshop(make_process()).join_code
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    https = {"X-Forwarded-Proto": "https"}

    def through_proxy(client_address: str):
        client = app.test_client()
        client.environ_base.update(proxy)
        client.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
        return client

    first = through_proxy("203.0.113.1")
    for _attempt in range(10):  # the first client's address budget spent
        first.post("/login", data={"email": f"x{_attempt}@example.org", "password": "x" * 12})
    assert first.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 429
    second = through_proxy("203.0.113.2")  # same proxy address, another client
    answer = second.post("/login", data={"email": EMAIL, "password": PASSWORD}, headers=https)
    assert answer.status_code == 302
    cookies = set_cookie_headers(answer)
    assert "Secure" in cookies["session"] and "HttpOnly" in cookies["session"]
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    joined = through_proxy("203.0.113.3").post(f"/j/{code}", data={}, headers=https)
    assert "Secure" in set_cookie_headers(joined)["participant_token"]


def test_without_a_proxy_forwarded_headers_are_ignored(app):
    """A client cannot pick its own address (and dodge the throttle) with X-Forwarded-For."""
    with app.app_context():
        create_or_update_organizer(EMAIL, PASSWORD)
    for attempt in range(10):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{attempt}"
        client.post("/login", data={"email": f"x{attempt}@example.org", "password": "x" * 12})
    last = app.test_client()
    last.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.99"
    assert last.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 429


def test_policy_allows_same_origin_websockets_and_nothing_inline():
    assert CONTENT_SECURITY_POLICY["connect-src"] == "'self'"
    assert "'unsafe-inline'" not in str(CONTENT_SECURITY_POLICY)
    assert "'unsafe-eval'" not in str(CONTENT_SECURITY_POLICY)
