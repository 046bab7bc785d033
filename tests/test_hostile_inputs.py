"""Issue 11: every value a client sends is checked before it goes further.

The pure checks of ``deliberation.inputs``, then the Socket.IO edge (``live.guard``) through
Flask-SocketIO's test client: raw packets a broken or hostile client could send, each
answered with its documented code and never a traceback in the log.
"""

from __future__ import annotations

import json
import logging

import pytest

from deliberation import inputs
from deliberation.extensions import db, socketio
from deliberation.live import broadcast, guard, rooms
from deliberation.models import Participant
from deliberation.services.live import sessions
from deliberation.services.people.accounts import create_or_update_organizer
from tests.live_fixtures import ballot_id, free_item, make_member, make_process, workshop

PASSWORD = "correct horse battery"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- the pure checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ('["vote",{"poll_id":1,"choice":{"grades":{"a":"good"}}}]', False),
        (nested(inputs.MAX_DEPTH), False),
        (nested(inputs.MAX_DEPTH + 1), True),
        (nested(100_000), True),
        # Brackets inside strings are text, not nesting.
        (json.dumps(["propose", {"text": "[" * 500 + "{" * 500}]), False),
        ('"' + "\\" * 9 + '"', False),
        # Unbalanced: never JSON, never cleared.
        ("[" * 20, True),
    ],
)
def test_depth_is_judged_on_the_text_before_parsing(text, deep):
    assert inputs.too_deep(text) is deep


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("x" * (inputs.MAX_PAYLOAD_CHARS + 1), "too_large"),
        (nested(10_000), "bad_request"),
        ('{"a": NaN}', "bad_request"),
        ('{"a": Infinity}', "bad_request"),
        ('{"a": 1e400}', "bad_request"),
        ('{"a": 9223372036854775808}', "bad_request"),
        ('{"a": -9223372036854775809}', "bad_request"),
        ('{"a": ' + "9" * 5000 + "}", "bad_request"),
        ('{"a": "\\ud800"}', "bad_request"),
        ('{"\\udfff": 1}', "bad_request"),
        ('{"a": "x\\u0000y"}', "bad_request"),
        ('{"a": "' + "x" * (inputs.MAX_STRING_CHARS + 1) + '"}', "bad_request"),
        ("{", "bad_request"),
        ("", "bad_request"),
    ],
)
def test_loads_refuses_with_the_documented_code(text, code):
    with pytest.raises(inputs.Malformed) as refused:
        inputs.loads(text)
    assert refused.value.code == code


def test_loads_accepts_what_honest_clients_send():
    value = {"poll_id": 2**63 - 1, "text": "Ça va — 👍 [x]", "n": -(2**63), "ok": True, "f": 1.5}
    assert inputs.loads(json.dumps(value)) == value
    assert inputs.loads_bytes(json.dumps(value).encode()) == value
    with pytest.raises(inputs.Malformed):
        inputs.loads_bytes(b'{"a": "\xff"}')  # not UTF-8


def test_ids_and_booleans_are_strict():
    assert inputs.is_id(1) and inputs.is_id(2**31 - 1)
    for value in (0, -1, 2**31, 2**63 - 1, 2**63, True, 1.0, "1", None, [1]):
        assert not inputs.is_id(value)
    assert inputs.strict_bool(True) is True and inputs.strict_bool(False) is False
    for value in ("false", "true", 0, 1, None, [], "no"):
        assert inputs.strict_bool(value) is None


# -- the Socket.IO edge -----------------------------------------------------------------------


@pytest.fixture
def live(any_db_app):
    rooms.clear()
    guard.clear()
    broadcast.reset()
    app = any_db_app
    with app.app_context():
        process = make_process()
        session = workshop(process)
        item = free_item(session)
        organizer, _created = create_or_update_organizer("facilitator@example.org", PASSWORD)
        make_member(process.id, organizer.id, "facilitator")
        _, token = sessions.join(session.join_code, "", "")
        ids = {"session": session.id, "item": item.id, "code": session.join_code, "token": token}
    yield app, ids
    rooms.clear()
    guard.clear()
    broadcast.reset()


def phone(app, token):
    client = socketio.test_client(app, auth={"role": "phone", "token": token})
    assert client.is_connected()
    return client


def facilitator(app, session_id):
    http = app.test_client()
    http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    client = socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": session_id}
    )
    assert client.is_connected()
    return client


class RawAcks:
    """Send raw Socket.IO packets as a client would, and collect the acks they get."""

    def __init__(self, client) -> None:
        self.client = client
        self.server = socketio.server
        self.sent: list[str] = []

    def send(self, raw) -> list[dict]:
        before = len(self.client.get_received())  # drain
        del before
        acks = []
        original = self.server._send_packet

        def capture(eio_sid, pkt):
            if eio_sid == self.client.eio_sid and pkt.packet_type == 3:
                acks.append({"id": pkt.id, "data": pkt.data})
            return original(eio_sid, pkt)

        self.server._send_packet = capture
        try:
            self.server._handle_eio_message(self.client.eio_sid, raw)
        finally:
            self.server._send_packet = original
        return acks


def no_tracebacks(caplog) -> None:
    bad = [
        record
        for record in caplog.records
        if record.exc_info or "Traceback" in record.getMessage() or record.levelno >= logging.ERROR
    ]
    assert not bad, [record.getMessage()[:300] for record in bad]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("27" + nested(10_000), "bad_request"),  # RecursionError before
        ('27["vote",{"poll_id":' + str(2**64) + "}]", "bad_request"),  # OverflowError before
        ('27["propose",{"kind":"comment","text":"a\\ud800b"}]', "bad_request"),
        ('27["vote",NaN]', "bad_request"),
        ('27["vote"', "bad_request"),  # not JSON
        ("27{}", "bad_request"),  # an event must be an array
        ("27[]", "bad_request"),
        ("27[5]", "bad_request"),  # the event name must be text
        ('27["connect",{"role":"projector"}]', "unknown_event"),  # reserved names
        ('27["disconnect"]', "unknown_event"),
        ('27["no such event",{}]', "unknown_event"),
        ('27["' + "\\u0000refused" + '","rate_limited"]', "bad_request"),
        ("27" + json.dumps(["sync", "x" * (inputs.MAX_PAYLOAD_CHARS + 10)]), "too_large"),
        ('47["x"]', "bad_request"),  # CONNECT_ERROR is not a client's packet
        ('57["vote",{"_placeholder":true,"num":0}]', "bad_request"),  # binary event
        ('37["late ack"]', "bad_request"),  # an ack of a callback never asked for
        ("97[]", "bad_request"),  # unknown packet type
    ],
)
def test_raw_packets_get_their_documented_refusal(live, caplog, raw, code):
    app, ids = live
    client = RawAcks(phone(app, ids["token"]))
    with caplog.at_level(logging.WARNING):
        acks = client.send(raw)
    assert len(acks) == 1 and acks[0]["id"] == 7, acks
    ack = acks[0]["data"][0]
    assert ack["ok"] is False and ack["error"] == code and ack["message"]
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    "raw",
    ["2", "x", "", "0", "1", "3", b"\x00\x01binary", "2" + nested(100), "0/admin,"],
)
def test_packets_without_an_ack_id_are_dropped_quietly(live, caplog, raw):
    app, ids = live
    client = RawAcks(phone(app, ids["token"]))
    with caplog.at_level(logging.WARNING):
        assert client.send(raw) == []
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    "auth",
    [
        {"role": ["phone"]},  # unhashable role: a TypeError before
        {"role": "phone", "token": "a\ud800"},
        {"role": "projector", "code": "\x00" * 6},
        {"role": "facilitator", "session_id": 2**63},
        {"role": "facilitator", "session_id": 2**63 - 1},
        {"role": "facilitator", "session_id": True},
    ],
)
def test_hostile_connect_payloads_are_refused(live, caplog, auth):
    app, _ids = live
    with caplog.at_level(logging.WARNING):
        client = socketio.test_client(app, auth=auth)
    assert not client.is_connected()
    no_tracebacks(caplog)


def test_deep_connect_payload_is_a_bad_request(live, caplog):
    app, ids = live
    client = phone(app, ids["token"])
    server = socketio.server
    sent = []
    original = server._send_packet
    server._send_packet = lambda eio_sid, pkt: sent.append(pkt) or original(eio_sid, pkt)
    try:
        with caplog.at_level(logging.WARNING):
            # A second namespace's CONNECT with a payload nested 10,000 deep.
            server._handle_eio_message(client.eio_sid, "0" + nested(10_000))
    finally:
        server._send_packet = original
    assert sent and sent[-1].packet_type == 4  # CONNECT_ERROR, no traceback
    no_tracebacks(caplog)


def test_out_of_range_ids_and_loose_booleans_are_bad_requests(live, caplog):
    app, ids = live
    handset = phone(app, ids["token"])
    console = facilitator(app, ids["session"])
    with caplog.at_level(logging.WARNING):
        for poll_id in (2**63, -(2**63) - 1, 2**64, 2**63 - 1, 2**31):
            ack = handset.emit(
                "vote",
                {"poll_id": poll_id, "ballot_id": ballot_id(), "choice": {"answer": "yes"}},
                callback=True,
            )
            assert ack["error"] == "bad_request"
        ack = handset.emit(
            "vote",
            {"poll_id": 2**31 - 1, "ballot_id": ballot_id(), "choice": {"answer": "yes"}},
            callback=True,
        )
        assert ack["error"] == "unknown_poll"
        for event, payload in [
            ("close_poll", {"poll_id": 2**64}),
            ("show_item", {"item_id": 2**63}),
            ("open_poll", {"item_id": 2**70, "method": "yes_no"}),
            ("moderate", {"proposal_id": 2**65, "action": "accept"}),
        ]:
            assert console.emit(event, payload, callback=True)["error"] == "bad_request"
        ack = console.emit(
            "moderate",
            {"proposal_id": "99999999999999999999999", "action": "accept"},
            callback=True,
        )
        assert ack["error"] == "bad_request"
        # A named poll: live results are for named votes only.
        opened = console.emit(
            "open_poll",
            {"item_id": ids["item"], "method": "yes_no", "secret": False},
            callback=True,
        )
        poll_id = opened["state"]["poll"]["id"]
        for loose in ("false", "true", 0, 1, None):
            ack = console.emit(
                "set_show_live", {"poll_id": poll_id, "show_live": loose}, callback=True
            )
            assert ack["ok"] is False and ack["error"] == "bad_request", loose
        ack = console.emit("set_show_live", {"poll_id": poll_id, "show_live": True}, callback=True)
        assert ack["ok"] and ack["state"]["poll"]["show_live"] is True
        bad_open = console.emit(
            "open_poll",
            {"item_id": ids["item"], "method": "yes_no", "show_live": "false"},
            callback=True,
        )
        assert bad_open["error"] == "bad_request"
    no_tracebacks(caplog)


def test_extra_arguments_and_unknown_events_are_answered(live, caplog):
    app, ids = live
    handset = phone(app, ids["token"])
    with caplog.at_level(logging.WARNING):
        assert handset.emit("sync", {}, "extra", 3, callback=True)["role"] == "phone"
        unknown = handset.emit("launch_missiles", {"now": True}, callback=True)
        assert (
            unknown
            == {
                "ok": False,
                "error": "unknown_event",
                "message": unknown["message"],
            }
            and unknown["message"]
        )
    no_tracebacks(caplog)


def test_join_pages_refuse_nul_and_drop_control_characters(any_db_app, caplog):
    app = any_db_app
    with app.app_context():
        session = workshop(make_process())
        code = session.join_code
    client = app.test_client()
    form = "application/x-www-form-urlencoded"
    with caplog.at_level(logging.WARNING):
        # PostgreSQL cannot store a NUL: refused before any view reads it (the error page).
        assert client.post(f"/j/{code}", data="name=a%00b", content_type=form).status_code == 400
        assert client.get("/j?code=AC%00EFH").status_code == 400
        assert client.get("/j/%00CDEFH").status_code == 404
        joined = client.post(f"/j/{code}", data="name=Ana%01%1B%5B31m", content_type=form)
        assert joined.status_code == 200
    with app.app_context():
        names = [p.display_name for p in db.session.scalars(db.select(Participant))]
    assert names == ["Ana[31m"]
    no_tracebacks(caplog)


def test_ids_in_addresses_beyond_the_id_columns_are_not_found(any_db_app, caplog):
    app = any_db_app
    password = "Zebra-lantern-quartz-88"
    with app.app_context():
        create_or_update_organizer("big@example.org", password)
    client = app.test_client()
    login = client.post("/login", data={"email": "big@example.org", "password": password})
    assert login.status_code == 302
    with caplog.at_level(logging.WARNING):
        for number in (10**30, 2**64, 2**63, 2**31):
            # Before: SQLite could not bind the number (a 500), PostgreSQL refused it.
            assert client.get(f"/facilitate/session/{number}").status_code == 404
    no_tracebacks(caplog)
