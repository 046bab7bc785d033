"""The table of facilitator actions (deliberation/live/actions.py): each action reached by
its Socket.IO event and by the console's HTTP form gives the same result and the same
refusal, and options typed one per line are read once, on the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from deliberation.extensions import db, socketio
from deliberation.live import actions, broadcast, rooms
from deliberation.live.actions import ACTIONS, FormPayload, JsonPayload, poll_options
from deliberation.models import LiveSession, Poll
from deliberation.refusals import Refused
from deliberation.services.live import voting
from deliberation.services.people.accounts import create_or_update_organizer
from tests.live_fixtures import free_item, make_member, make_process, workshop

PASSWORD = "correct horse battery"
ENGLISH = {"Accept-Language": "en"}
UNKNOWN = 2_000_000_000


@dataclass(frozen=True)
class Spec:
    """How to reach one action: the state it starts from, its JSON and its form payload."""

    start: str  # "idle", "open" (a named poll open), "closed"
    json: dict[str, Any]
    form: dict[str, str]
    refused_json: dict[str, Any]
    refused_form: dict[str, str]
    refusal: str = "unknown_poll"


ITEM, POLL = "<item>", "<poll>"
SPECS = {
    "show_item": Spec(
        "idle",
        {"item_id": ITEM},
        {"item_id": ITEM},
        {"item_id": UNKNOWN},
        {"item_id": str(UNKNOWN)},
        "unknown_item",
    ),
    "open_poll": Spec(
        "idle",
        {
            "item_id": ITEM,
            "method": "dot",
            "options": "Alpha\n\n  Beta  \n",
            "dots": 4,
            "secret": False,
            "show_live": True,
            "countdown_seconds": 60,
        },
        {
            "item_id": ITEM,
            "method": "dot",
            "options": "Alpha\n\n  Beta  \n",
            "dots": "4",
            "secret": "no",
            "show_live": "on",
            "countdown_seconds": "60",
        },
        {"item_id": ITEM, "method": "dot", "options": "Only one"},
        {"item_id": ITEM, "method": "dot", "options": "Only one"},
        "invalid_options",
    ),
    "close_poll": Spec(
        "open", {"poll_id": POLL}, {"poll_id": POLL}, {"poll_id": UNKNOWN}, {"poll_id": "x"}
    ),
    "publish_poll": Spec(
        "closed", {"poll_id": POLL}, {"poll_id": POLL}, {"poll_id": 0}, {"poll_id": "0"}
    ),
    "reset_poll": Spec(
        "closed",
        {"poll_id": POLL},
        {"poll_id": POLL, "confirm": "yes"},
        {"poll_id": UNKNOWN},
        {"poll_id": str(UNKNOWN), "confirm": "yes"},
    ),
    "set_show_live": Spec(
        "open",
        {"poll_id": POLL, "show_live": False},
        {"poll_id": POLL},  # an unticked box sends nothing: false
        {"poll_id": UNKNOWN, "show_live": True},
        {"poll_id": str(UNKNOWN), "show_live": "on"},
    ),
    "set_projector_theme": Spec(
        "idle",
        {"theme": "dark"},
        {"theme": "dark"},
        {"theme": "neon"},
        {"theme": ""},
        "bad_request",
    ),
}


def test_every_action_of_the_table_has_a_case_here():
    assert set(SPECS) == set(ACTIONS)


@pytest.fixture
def two_sessions(app):
    """Two identical sessions of one process, one per path, and a facilitator of it."""
    rooms.clear()
    broadcast.reset()
    with app.app_context():
        process = make_process()
        organizer, _created = create_or_update_organizer("facilitator@example.org", PASSWORD)
        make_member(process.id, organizer.id, "facilitator")
        worlds = {}
        for path in ("socket", "http"):
            session = workshop(process, f"By {path}")
            worlds[path] = {"session": session.id, "item": free_item(session).id}
    yield app, worlds
    rooms.clear()
    broadcast.reset()


def _prepare(app, world: dict[str, int], start: str) -> None:
    if start == "idle":
        return
    with app.app_context():
        session = db.session.get(LiveSession, world["session"])
        item = next(entry for entry in session.agenda if entry.id == world["item"])
        poll = voting.open_poll(
            session, item, "yes_no", secret=False, show_live=True, actor="setup"
        )
        world["poll"] = poll.id
        if start == "closed":
            voting.close_poll(poll, actor="setup")


def _filled(payload: dict[str, Any], world: dict[str, int], as_text: bool) -> dict[str, Any]:
    names = {ITEM: world["item"], POLL: world.get("poll")}
    return {
        key: (str(names[value]) if as_text else names[value]) if value in names else value
        for key, value in payload.items()
    }


def _outcome(app, world: dict[str, int]) -> dict[str, Any]:
    """What an action changed, in terms that do not depend on the session's own ids."""
    with app.app_context():
        session = db.session.get(LiveSession, world["session"])
        poll = db.session.scalar(
            db.select(Poll).filter_by(session_id=session.id).order_by(Poll.id.desc())
        )
        shown = session.current_item_id
        return {
            "shown": None if shown is None else shown == world["item"],
            "theme": session.projector_theme,
            "poll": None
            if poll is None
            else {
                "state": poll.state,
                "round": poll.round,
                "method": poll.method,
                "options": poll.options,
                "dots": poll.dots,
                "secret": poll.secret,
                "show_live": poll.show_live,
                "countdown": poll.countdown_ends_at is not None,
            },
        }


def _console(app, session_id: int):
    http = app.test_client()
    http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    client = socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": session_id}
    )
    assert client.is_connected()
    return client, http


def _by_socket(app, world, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    console, _http = _console(app, world["session"])
    ack = console.emit(name, _filled(payload, world, as_text=False), callback=True)
    console.disconnect()
    return ack


def _by_http(app, world, name: str, payload: dict[str, str]) -> tuple[str, str]:
    _console_socket, http = _console(app, world["session"])
    _console_socket.disconnect()
    response = http.post(
        f"/facilitate/session/{world['session']}/action/{name}",
        data=_filled(payload, world, as_text=True),
        headers=ENGLISH,
    )
    assert response.status_code == 302
    with http.session_transaction() as flask_session:
        flashes = flask_session.get("_flashes", [])
    assert flashes, "the action said how it went"
    return flashes[-1]  # after the log-in's welcome


@pytest.mark.parametrize("name", sorted(SPECS))
def test_both_paths_give_the_same_result(two_sessions, name):
    app, worlds = two_sessions
    spec = SPECS[name]
    for world in worlds.values():
        _prepare(app, world, spec.start)
    before = _outcome(app, worlds["socket"])
    ack = _by_socket(app, worlds["socket"], name, spec.json)
    assert ack["ok"] is True, ack
    category, _message = _by_http(app, worlds["http"], name, spec.form)
    assert category == "success"
    after = _outcome(app, worlds["socket"])
    assert after != before, "the action changed something"
    assert _outcome(app, worlds["http"]) == after


@pytest.mark.parametrize("name", sorted(SPECS))
def test_both_paths_give_the_same_refusal(two_sessions, name):
    app, worlds = two_sessions
    spec = SPECS[name]
    for world in worlds.values():
        _prepare(app, world, spec.start)
    before = {path: _outcome(app, world) for path, world in worlds.items()}
    ack = _by_socket(app, worlds["socket"], name, spec.refused_json)
    assert (ack["ok"], ack["error"]) == (False, spec.refusal)
    category, message = _by_http(app, worlds["http"], name, spec.refused_form)
    assert (category, message) == ("error", ack["message"])
    with app.test_request_context(headers=ENGLISH):
        assert message == str(Refused(spec.refusal).message)
    assert {path: _outcome(app, world) for path, world in worlds.items()} == before


def test_an_organiser_who_may_not_run_the_session_is_refused_by_the_table(two_sessions):
    app, worlds = two_sessions
    with app.app_context():
        session = db.session.get(LiveSession, worlds["socket"]["session"])
        stranger, _created = create_or_update_organizer("stranger@example.org", PASSWORD)
        payload = JsonPayload({"item_id": worlds["socket"]["item"]})
        for name in ACTIONS:
            with pytest.raises(Refused) as refused:
                actions.dispatch(session, name, payload, stranger)
            assert refused.value.code == "not_allowed"
        with pytest.raises(Refused) as unknown:
            actions.dispatch(session, "drop_tables", payload, stranger)
        assert unknown.value.code == "unknown_event"
        assert session.current_item_id is None


def test_the_http_form_of_an_unknown_action_is_404(two_sessions):
    app, worlds = two_sessions
    _socket, http = _console(app, worlds["http"]["session"])
    _socket.disconnect()
    response = http.post(f"/facilitate/session/{worlds['http']['session']}/action/drop_tables")
    assert response.status_code == 404


def test_the_form_must_confirm_a_reset_a_socket_client_confirms_on_its_side(two_sessions):
    app, worlds = two_sessions
    _prepare(app, worlds["http"], "closed")
    category, message = _by_http(app, worlds["http"], "reset_poll", {"poll_id": POLL})
    assert category == "error"
    with app.test_request_context(headers=ENGLISH):
        assert message == str(Refused("confirm").message)
    assert _outcome(app, worlds["http"])["poll"]["state"] == "closed"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("Alpha\n\n  Beta   gamma \r\nDelta", ["Alpha", "Beta gamma", "Delta"]),
        ("\n \n", None),
        ("", None),
        (None, None),
    ],
)
def test_options_typed_one_per_line_are_read_once_on_the_server(typed, read):
    expected = (
        None
        if read is None
        else [{"key": f"o{n}", "label": label} for n, label in enumerate(read, start=1)]
    )
    assert poll_options(typed) == expected


def test_options_built_by_a_client_are_left_to_the_vote_rules():
    built = [{"key": "a", "label": "A"}, {"key": "b", "label": "B"}]
    assert poll_options(built) is built


@pytest.mark.parametrize(
    ("payload", "name", "default", "expected"),
    [
        (JsonPayload({}), "show_live", False, False),
        (JsonPayload({"show_live": True}), "show_live", False, True),
        (FormPayload({}), "show_live", False, False),
        (FormPayload({"show_live": "on"}), "show_live", False, True),
        (FormPayload({}), "secret", True, True),
        (FormPayload({"secret": "no"}), "secret", True, False),
        (FormPayload({"secret": "yes"}), "secret", True, True),
    ],
)
def test_flags_as_each_path_writes_them(payload, name, default, expected):
    assert payload.flag(name, default) is expected


@pytest.mark.parametrize("sent", ["false", 0, None, "true"])
def test_a_json_flag_is_a_json_boolean_or_refused(sent):
    with pytest.raises(Refused) as refused:
        JsonPayload({"show_live": sent}).flag("show_live", False)
    assert refused.value.code == "bad_request"


def test_form_ids_and_numbers_are_read_from_text_json_ones_kept_as_sent():
    form = FormPayload({"item_id": " 12 ", "poll_id": "x1", "dots": "0", "countdown": "60"})
    assert (form.id("item_id"), form.id("poll_id"), form.id("missing")) == (12, "x1", None)
    assert (form.number("dots"), form.number("countdown"), form.number("missing")) == (
        None,
        60,
        None,
    )
    sent = JsonPayload({"item_id": "12", "dots": 4.0})
    assert (sent.id("item_id"), sent.number("dots")) == ("12", 4.0)
