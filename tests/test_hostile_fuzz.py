"""Issue 11: fuzzing every way in with hostile strings and numbers, and never a traceback.

Hypothesis drives every Socket.IO event (and raw packets), ``POST /api/ballots``, the join
pages and the process-file importer, in process on SQLite and PostgreSQL (the log captured),
then raw websocket and polling traffic against the real server (its log read). Whatever is
sent, the answer is a documented refusal or a success, and no log line carries a traceback.
"""

from __future__ import annotations

import json
import logging
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliberation.extensions import db, socketio
from deliberation.live import broadcast, guard, rooms
from deliberation.services.authoring.process_file import ProcessFileError, load_process_text
from deliberation.services.live import sessions, voting
from deliberation.services.people.accounts import create_or_update_organizer
from tests.live_fixtures import free_item, make_member, make_process, workshop

PASSWORD = "correct horse battery"
EVENTS = [
    "vote", "sync", "propose", "my_proposals", "list_proposals", "moderate", "show_item",
    "open_poll", "close_poll", "publish_poll", "reset_poll", "set_show_live", "no_such_event",
    "connect", "disconnect", "", "\x00refused",
]  # fmt: skip
FIELDS = [
    "poll_id", "ballot_id", "choice", "round", "answer", "grades", "dots", "item_id",
    "method", "show_live", "options", "key", "label", "countdown_seconds", "kind", "text",
    "client_id", "item_type", "proposal_id", "action", "reason", "into", "proposal_ids",
    "token", "role", "code", "session_id", "slug", "title", "fields",
]  # fmt: skip
NASTY_TEXT = [
    "\x00", "\ud800", "a\udfffb", "\x01\x1b[31m", "' OR 1=1 --", "<script>alert(1)</script>",
    "yes", "full", "consensus", "dot", "accept", "merge", "amendment", "comment", "hypothesis",
    "x" * 3000, "\u202e", "🗳️", "ACDEFH", "NaN", "true", "false", "null", "-1", "1e400",
]  # fmt: skip
NASTY_INTS = [
    0, 1, 2, -1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64,
    10**100,
]  # fmt: skip

# Text with every code point, surrogates and controls included.
any_text = st.one_of(
    st.text(st.characters(codec=None, categories=None), max_size=40), st.sampled_from(NASTY_TEXT)
)
numbers = st.one_of(
    st.sampled_from(NASTY_INTS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
scalars = st.one_of(any_text, numbers)
hostile_json = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), any_text), children, max_size=5),
    ),
    max_leaves=25,
)
payloads = st.one_of(
    hostile_json,
    st.fixed_dictionaries({}, optional={name: hostile_json for name in FIELDS[:12]}),
    st.integers(min_value=10, max_value=40).map(lambda n: json.loads("[" * n + "]" * n)),
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def no_tracebacks(caplog) -> None:
    bad = [
        record.getMessage()[:300]
        for record in caplog.records
        if record.exc_info or "Traceback" in record.getMessage() or record.levelno >= logging.ERROR
    ]
    assert not bad, bad


@pytest.fixture
def hall(any_db_app):
    """A workshop with a poll open, a phone and a facilitator; rate limits lifted so that
    every fuzzed event reaches its handler."""
    app = any_db_app
    app.config.update(SOCKET_RATE=1e9, SOCKET_BURST=1e9, SOCKET_FLOOD_DISCONNECT=1e12)
    rooms.clear()
    guard.clear()
    broadcast.reset()
    with app.app_context():
        process = make_process()
        session = workshop(process)
        item = free_item(session)
        voting.open_poll(session, item, "consensus")
        organizer, _created = create_or_update_organizer("facilitator@example.org", PASSWORD)
        make_member(process.id, organizer.id, "facilitator")
        _, token = sessions.join(session.join_code, "", "")
        ids = {"session": session.id, "code": session.join_code, "token": token}
    yield app, ids
    rooms.clear()
    guard.clear()
    broadcast.reset()


@pytest.mark.timeout(240)
def test_fuzz_every_socket_event(hall, caplog):
    app, ids = hall
    phone = socketio.test_client(app, auth={"role": "phone", "token": ids["token"]})
    http = app.test_client()
    http.post("/login", data={"email": "facilitator@example.org", "password": PASSWORD})
    console = socketio.test_client(
        app, flask_test_client=http, auth={"role": "facilitator", "session_id": ids["session"]}
    )
    assert phone.is_connected() and console.is_connected()

    @FUZZ
    @given(event=st.sampled_from(EVENTS), payload=payloads, as_console=st.booleans())
    def send(event, payload, as_console):
        client = console if as_console else phone
        ack = client.emit(event, payload, callback=True)
        assert isinstance(ack, dict), (event, ack)
        assert "ok" in ack or "role" in ack, ack  # a refusal, a success, or a state
        if ack.get("ok") is False:
            assert isinstance(ack["error"], str) and isinstance(ack["message"], str)

    with caplog.at_level(logging.WARNING):
        send()
    assert phone.is_connected() and console.is_connected()
    no_tracebacks(caplog)


@pytest.mark.timeout(240)
def test_fuzz_raw_packets(hall, caplog):
    app, ids = hall
    phone = socketio.test_client(app, auth={"role": "phone", "token": ids["token"]})
    server = socketio.server
    prefixes = st.sampled_from(["", "0", "1", "2", "27", "3", "4", "5", "51-", "6", "9", "0/x,"])
    raw = st.one_of(
        st.tuples(prefixes, st.text(st.characters(codec=None, categories=None), max_size=60)).map(
            "".join
        ),
        st.tuples(prefixes, hostile_json.map(lambda v: json.dumps(v, allow_nan=True))).map("".join),
        st.binary(max_size=60),
    )

    @FUZZ
    @given(packet=raw)
    def send(packet):
        server._handle_eio_message(phone.eio_sid, packet)

    with caplog.at_level(logging.WARNING):
        send()
    no_tracebacks(caplog)


@pytest.mark.timeout(240)
def test_fuzz_post_api_ballots(hall, caplog):
    app, ids = hall
    client = app.test_client()
    tokens = st.one_of(st.just(ids["token"]), any_text, numbers)
    ballots = st.fixed_dictionaries(
        {"token": tokens},
        optional={name: hostile_json for name in ("poll_id", "ballot_id", "choice", "round")},
    )
    bodies = st.one_of(
        ballots.map(lambda b: json.dumps(b, allow_nan=True).encode("utf-8", "surrogatepass")),
        payloads.map(lambda b: json.dumps(b, allow_nan=True).encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
    )

    @FUZZ
    @given(body=bodies)
    def post(body):
        response = client.post("/api/ballots", data=body, content_type="application/json")
        assert response.status_code in (200, 400, 403, 409, 413, 503), response.status_code
        answer = response.get_json()
        assert isinstance(answer, dict) and isinstance(answer["ok"], bool)

    with caplog.at_level(logging.WARNING):
        post()
    no_tracebacks(caplog)


@pytest.mark.timeout(240)
def test_fuzz_join_pages(hall, caplog):
    app, ids = hall
    client = app.test_client()
    raw_field = st.binary(max_size=40).map(urllib.parse.quote_from_bytes)
    field_value = st.one_of(
        raw_field,
        st.sampled_from(NASTY_TEXT).map(lambda t: urllib.parse.quote(t, errors="surrogatepass")),
    )
    codes = st.one_of(st.just(ids["code"]), st.just(ids["code"].lower()), raw_field)

    groups = st.one_of(st.sampled_from(["", "service_user", "employer"]), field_value)

    @FUZZ
    @given(code=codes, name=field_value, group=groups, token=field_value)
    def join(code, name, group, token):
        body = f"name={name}&group={group}&token={token}"
        for response in (
            client.post(f"/j/{code}", data=body, content_type="application/x-www-form-urlencoded"),
            client.get(f"/j?code={code}"),
            client.get(f"/j/{code}"),
            client.get(f"/s/{code}"),
        ):
            assert response.status_code < 500, (code, name, response.status_code)

    with caplog.at_level(logging.WARNING):
        join()
    no_tracebacks(caplog)


@pytest.mark.timeout(240)
def test_fuzz_the_process_file_importer(any_db_app, caplog):
    app = any_db_app
    process_like = st.fixed_dictionaries(
        {"slug": st.one_of(st.just("fuzz"), any_text), "title": any_text},
        optional={
            "language": any_text,
            "thresholds": hostile_json,
            "groups": hostile_json,
            "territories": hostile_json,
            "fields": st.lists(
                st.fixed_dictionaries(
                    {"title": any_text},
                    optional={"questions": hostile_json, "findings": hostile_json},
                ),
                max_size=3,
            ),
        },
    )

    def as_yaml(data) -> str:
        return json.dumps(data, allow_nan=True)  # JSON is YAML: quoted escapes included

    texts = st.one_of(
        process_like.map(as_yaml),
        st.text(st.characters(codec=None, categories=None), max_size=200),
        st.integers(min_value=40, max_value=3000).map(lambda n: "a: " + "[" * n + "]" * n),
        st.integers(min_value=40, max_value=400).map(
            lambda n: "slug: a\ntitle: b\nfields:\n" + "".join("  " * i + "- \n" for i in range(n))
        ),
    )

    @FUZZ
    @given(text=texts)
    def load(text):
        with app.app_context():
            try:
                load_process_text(text, replace=True)
            except ProcessFileError as refusal:
                assert str(refusal)
            finally:
                db.session.rollback()
                db.session.remove()

    with caplog.at_level(logging.WARNING):
        load()
    no_tracebacks(caplog)
