"""Every route, walked as someone who may not use it (the socket events:
tests/test_access_sockets.py).

The routes come from ``app.url_map``, so a route added later is walked too. Each refused
request must change nothing in the database nor in the exports directory. A control request
by a member who may use the route shows that the refusal comes from the access check, not
from an address that leads nowhere.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from conftest import make_app
from flask import Flask, url_for
from flask_login import login_user

from deliberation import create_app
from deliberation.extensions import db
from deliberation.models import Organizer, Process
from deliberation.services.people.access import Capability
from deliberation.views.guard import PUBLIC_ENDPOINTS, SIGNED_IN, access_rule, may_open
from tests.access_world import World, build_world, client_as, snapshot

IGNORED_METHODS = {"HEAD", "OPTIONS"}

# The endpoints the public may use, reviewed: this list and the guard's must agree.
REVIEWED_PUBLIC = {
    "static",
    "public.home",
    "public.set_language",
    "health.healthz",
    "auth.login",
    "published.synthesis",
    "published.results_csv",
    "published.results_json",
    "published_followup.page",
    "published_followup.feed",
    "published_followup.as_csv",
    "published_followup.as_json",
    "published_comments.recommendation",
    "published_comments.post_comment",
    "published_comments.report",
    "published_comments.comments_json",
    "published_comments.comments_csv",
    "published_support.challenge",
    "published_support.sign",
    "published_support.private_link",
    "published_support.confirm_page",
    "published_support.confirm",
    "published_support.withdraw",
    "published_support.withdraw_mine",
    "published_support.public_csv",
    "published_support.public_json",
    "participate.enter_code",
    "participate.join",
    "participate.join_post",
    "participate.phone",
    "participate.qr_code",
    "participate.api_ballot",
    "participate.vote_form",
    "participate.vote_form_again",
    "participate.propose_form",
    "participate.easy_read",
    "facilitate.projector",
    "invitations.show",
    "invitations.register",
    "registration.form",
    "registration.submit",
    "registration.mine",
    "registration.change_form",
    "registration.change",
    "registration.cancel",
    "registration.ticket",
    "experts.write",
    "experts.send",
    "experts.preview",
    "documents.page",
    "documents.download",
}

# Reviewed lists of who may use what, kept apart from the routes' own declarations so that a
# route declaring the wrong capability fails here. Any other route of a process is for its
# owners and co-organisers only.
SIGNED_IN_ROUTES = {
    "auth.change_password",  # one's own password
    "auth.logout",  # one's own sessions
    "organize.index",
    "organize.new_process",
    "organize.preview",
    "invitations.accept",
}
FACILITATOR_ROUTES = {
    "facilitate.session_list",
    "facilitate.console",
    "facilitate.agenda_add",
    "facilitate.agenda_move",
    "facilitate.agenda_remove",
    "facilitate.action",
    "facilitate.minutes_save",  # write the minutes of the item shown, read their versions
    "facilitate.minutes_history",
    "facilitate.set_easy_read",  # the phones' default display, easy to read or not
    "admission.tickets",  # read the admission page, set the head count,
    "admission.set_expected",
    "admission.void",  # void and replace a lost ticket at the desk,
    "admission.print_sheet",  # print tickets (not: open or close joining, issue tickets)
    "registration_admin.check_in",  # check a registered person in at the door
}
OWNER_ROUTES = {
    "members.invite",
    "members.withdraw",
    "members.change_role",
    "members.remove",
    "organize.delete_process",
}


def url_values(endpoint: str, arguments: set[str], world: World) -> dict[str, Any]:
    ids = world.ids
    values: dict[str, Any] = {}
    for name in arguments:
        if name == "item_id":
            on_recommendation = endpoint == "consolidate.trace" or endpoint.startswith("followup.")
            values[name] = ids["recommendation_id"] if on_recommendation else ids["finding_id"]
        elif name == "document_kind":
            values[name] = "synthesis"
        elif name == "item_type":
            on_recommendation = endpoint == "consolidate.trace" or endpoint.startswith("followup.")
            values[name] = "recommendation" if on_recommendation else "finding"
        elif name == "number":
            values[name] = 1
        elif name == "action":
            values[name] = "show_item"
        elif name == "job_id":
            values[name] = world.job_id
        elif name == "name":
            values[name] = world.file_name
        elif name in ("link_id", "comment_id"):
            values[name] = 1  # a link or comment that does not exist: a message, not a 404
        elif name == "token":
            values[name] = "not-a-real-invitation-token-at-all"
        else:
            values[name] = ids[name]
    return values


def form_payload(world: World) -> dict[str, str]:
    """Values that would make each form succeed for a member who may use it."""
    ids = world.ids
    return {
        "title": "Written by an intruder",
        "slug": "intruded",
        "text": "Intruder's text",
        "name": "Intruder",
        "language": "en",
        "parent": str(ids["field_id"]),
        "confirm": "yes",
        "published": "1",
        "kind": "workshop",
        "action": "free",
        "item_id": str(ids["first_agenda_id"]),
        "poll_id": str(ids["poll_id"]),
        "direction": "up",
        "role": "owner",
        "territory_id": "",
        "label": "Intruder",
        "rows_name": "Theme",
        "rows_values": "A\nB",
        "cols_name": "Policy",
        "cols_values": "C\nD",
        "rule": "validated_or_amended",
    }


def protected_routes(app: Flask) -> list[tuple[str, str, set[str], str]]:
    """(endpoint, rule, arguments, method) of every route that is not public."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.append((rule.endpoint, rule.rule, set(rule.arguments), method))
    return found


def call(client, method: str, url: str, world: World):
    if method == "GET":
        return client.get(url, query_string={"parent": world.ids["field_id"]})
    return client.open(url, method=method, data=form_payload(world))


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login" in response.location


def refused_request(app, world, who, endpoint, url, method, expect) -> str | None:
    """Send one request as ``who``; a description of what went wrong, or None."""
    before = snapshot(app)
    response = call(client_as(app, world.people.get(who)), method, url, world)
    after = snapshot(app)
    refused = is_login_redirect(response) if expect == "login" else response.status_code == expect
    problems = []
    if not refused:
        problems.append(f"answered {response.status_code}, expected {expect}")
    if before != after:
        changed = [t for t in before["tables"] if before["tables"][t] != after["tables"][t]]
        problems.append(f"changed {changed or 'the exports directory'}")
    if problems:
        return f"{who} {method} {url} ({endpoint}): {'; '.join(problems)}"
    return None


# -- the list of public routes ------------------------------------------------------------


def test_every_route_is_public_on_purpose_or_declares_who_may_use_it(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        declared = access_rule(app, rule.endpoint)
        if rule.endpoint in PUBLIC_ENDPOINTS:
            assert declared is None, f"{rule.endpoint} is public and declares {declared}"
        elif not isinstance(declared, Capability) and declared != SIGNED_IN:
            undeclared.append(rule.endpoint)
    assert undeclared == [], "routes with no access rule (refused until one is declared)"
    assert set(PUBLIC_ENDPOINTS) == REVIEWED_PUBLIC


def test_a_route_that_declares_nothing_is_refused(app, caplog):
    app.add_url_rule("/organize/<slug>/undeclared", "undeclared", lambda slug: "open")
    world = build_world(app)
    owner = client_as(app, world.people["owner"])
    with caplog.at_level(logging.WARNING):
        assert owner.get("/organize/assises/undeclared").status_code == 403
    assert "declares no access rule" in caplog.text
    assert is_login_redirect(app.test_client().get("/organize/assises/undeclared"))


# -- every route, refused -----------------------------------------------------------------


def test_every_protected_route_refuses_anonymous_outsiders_and_the_wrong_members(any_db_app):
    app = any_db_app
    world = build_world(app)
    failures: list[str] = []
    walked = 0
    for endpoint, _rule, arguments, method in protected_routes(app):
        with app.test_request_context():
            url = url_for(endpoint, **url_values(endpoint, arguments, world))
        checks: list[tuple[str, Any]] = [("anonymous", "login")]
        if endpoint not in SIGNED_IN_ROUTES:
            checks.append(("outsider", 404))  # not a member: the process is not revealed
            if endpoint not in FACILITATOR_ROUTES:
                checks.append(("facilitator", 403))  # a member, without the capability
            elif "session_id" in arguments:
                checks.append(("namur_facilitator", 403))  # the session is in Liège
            if endpoint in OWNER_ROUTES:
                checks.append(("co_organizer", 403))
        for who, expect in checks:
            failure = refused_request(app, world, who, endpoint, url, method, expect)
            if failure:
                failures.append(failure)
            walked += 1
    assert failures == []
    assert walked > 100  # every route, several people each


def test_signed_in_pages_show_an_outsider_nothing_of_the_process(app):
    world = build_world(app)
    outsider = client_as(app, world.people["outsider"])
    index = outsider.get("/organize/").get_data(as_text=True)
    assert "Assises" not in index and "/organize/assises" not in index
    home = outsider.get("/").get_data(as_text=True)
    assert "Assises" not in home
    before = snapshot(app)
    refused = outsider.post("/invite/not-a-real-invitation-token-at-all", data={})
    assert refused.status_code == 302 and refused.location.endswith("/organize/")
    assert "does not work" in outsider.get("/organize/").get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("owner", {"organize.outline", "facilitate.session_list", "organize.delete_process"}),
        ("co_organizer", {"organize.outline", "facilitate.session_list"}),
        ("facilitator", {"facilitate.session_list"}),
        ("outsider", set()),
    ],
)
def test_may_open_is_the_access_check_for_links(app, person, expected):
    """The pages a template links to are the ones the guard would let this person into."""
    world = build_world(app)
    endpoints = {"organize.outline", "facilitate.session_list", "organize.delete_process"}
    with app.test_request_context():
        process = db.session.get(Process, world.ids["process_id"])
        login_user(db.session.get(Organizer, world.people[person]))
        assert {e for e in endpoints if may_open(e, process)} == expected
        assert may_open("public.home", process) and may_open("organize.index", process)


def test_may_open_refuses_an_endpoint_that_does_not_exist(app):
    with app.test_request_context(), pytest.raises(LookupError):
        may_open("organize.no_such_page")


def _route_list() -> list:
    """The protected routes, read at collection time from an app with no database."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [
        pytest.param(endpoint, arguments, method, id=f"{endpoint}-{method}")
        for endpoint, _rule, arguments, method in protected_routes(app)
    ]


@pytest.mark.parametrize("endpoint, arguments, method", _route_list())
def test_the_owner_is_let_through_where_the_others_are_refused(
    tmp_path, endpoint, arguments, method
):
    """The control: on a fresh world each, the least of the roles that may use a route is let
    through (a facilitator on the live routes, a co-organiser on the others, an owner on the
    owners' ones). So each refusal above comes from the access check, not from an address
    that leads nowhere."""
    app = make_app(tmp_path, EXPORT_JOBS_SYNCHRONOUS=True)
    world = build_world(app)
    with app.test_request_context():
        url = url_for(endpoint, **url_values(endpoint, arguments, world))
    if endpoint in OWNER_ROUTES:
        who = "owner"
    elif endpoint in FACILITATOR_ROUTES:
        who = "facilitator"
    elif endpoint in SIGNED_IN_ROUTES:
        who = "outsider"
    else:
        who = "co_organizer"
    response = call(client_as(app, world.people[who]), method, url, world)
    assert response.status_code not in (401, 403, 404), (who, endpoint, method, url)
    assert not is_login_redirect(response), (who, endpoint, method, url)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
