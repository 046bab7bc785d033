"""One person, one vote, without accounts (SQLite and PostgreSQL): personal tickets admit
exactly one participant each (concurrent claims included), a lost ticket is voided and
replaced, joins are throttled per device, per session and per address, and the console
knows the head count expected."""

from __future__ import annotations

import threading

import pytest
from flask_babel import force_locale

from deliberation.extensions import db
from deliberation.models import LiveSession, Participant, Ticket
from deliberation.services.live import admission, amendments, ballots, sessions, voting
from deliberation.services.live.admission import AdmissionError, Visitor
from tests.live_fixtures import ballot_id, free_item, make_process, workshop


@pytest.fixture
def ctx(any_db_app):
    with any_db_app.test_request_context(), force_locale("en"):
        yield any_db_app


def assembly(process, **options) -> LiveSession:
    return sessions.create_session(process, "assembly", "General assembly", **options)


def phone(number: int, address: str = "10.0.0.1") -> Visitor:
    """A phone: its own device cookie; by default all behind one venue address (NAT)."""
    return Visitor(device=f"device-{number:04d}-" + "x" * 20, address=address)


def refusal(call, *args, **kwargs) -> AdmissionError:
    with pytest.raises(AdmissionError) as refused:
        call(*args, **kwargs)
    assert str(refused.value.message)
    return refused.value


def codes(session: LiveSession, batch: int | None = None) -> list[str]:
    return [ticket.code for ticket in admission.tickets_of(session, batch)]


def test_the_general_assembly_admits_with_tickets_and_workshops_with_the_code(ctx):
    process = make_process()
    assert assembly(process).admission == "tickets"
    assert workshop(process).admission == "open"
    assert sessions.create_session(process, "assembly", "Open AG", admission="open").admission
    with pytest.raises(sessions.SessionError):
        sessions.create_session(process, "workshop", "W", admission="anyone")
    with pytest.raises(sessions.SessionError):
        sessions.create_session(process, "workshop", "W", expected_count=-3)


def test_each_ticket_admits_one_participant(ctx):
    session = assembly(make_process())
    batch = admission.issue_tickets(session, 3)
    first, second, third = codes(session, batch)
    assert len({first, second, third}) == 3 and all(len(c) == 10 for c in (first, second))
    assert refusal(admission.admit, session, phone(1)).code == "ticket_required"
    assert refusal(admission.admit, session, phone(1), ticket="AAAAA-AAAAA").code == (
        "unknown_ticket"
    )
    # Typed in lower case with a dash and spaces, as people do.
    ana, token = admission.admit(
        session, phone(1), "Ana", "service_user", " " + admission.format_ticket(first).lower()
    )
    assert sessions.participant_from_token(token).id == ana.id
    # The same ticket on another phone: refused, sent to the welcome desk.
    used = refusal(admission.admit, session, phone(2), "Bob", "", first)
    assert used.code == "ticket_used" and "welcome desk" in str(used.message)
    # The same phone, its token lost: its own place back, not a second one.
    again, _token = admission.admit(session, phone(1), "Ana again", "", first)
    assert again.id == ana.id
    admission.admit(session, phone(2), "Bob", "", second)
    assert sessions.joined_count(session) == 2
    assert sessions.ticket_counts(session) == {"issued": 3, "used": 2, "voided": 0}
    assert codes(session) == [third]  # still to hand out


def test_concurrent_claims_of_one_ticket_admit_one(any_db_app):
    app = any_db_app
    with app.app_context():
        session = assembly(make_process())
        admission.issue_tickets(session, 1)
        (code,) = codes(session)
        session_id = session.id
    contenders = 8
    start = threading.Barrier(contenders, timeout=60)
    won: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()

    def claim(number: int) -> None:
        with app.test_request_context(), force_locale("en"):
            live = db.session.get(LiveSession, session_id)
            db.session.close()
            start.wait()
            try:
                participant, _token = admission.admit(live, phone(number), f"P{number}", "", code)
            except AdmissionError as error:
                with lock:
                    refused.append(error.code)
            else:
                with lock:
                    won.append(participant.id)
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(won) == 1
    assert set(refused) <= {"ticket_used", "server_busy"} and len(refused) == contenders - 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Participant.id))) == 1
        ticket = db.session.scalar(db.select(Ticket))
        assert ticket.participant_id == won[0]


def test_a_voided_ticket_can_no_longer_vote_and_counts_once(ctx):
    session = assembly(make_process())
    admission.issue_tickets(session, 2)
    lost, other = codes(session)
    carla, token = admission.admit(session, phone(1), "Carla", "", lost)
    dan, _ = admission.admit(session, phone(2), "Dan", "", other)
    poll = voting.open_poll(session, free_item(session), "yes_no")
    ballots.cast(carla.id, poll.id, ballot_id(), {"answer": "yes"})
    ballots.cast(dan.id, poll.id, ballot_id(), {"answer": "no"})
    assert voting.voted_count(poll) == 2

    replacement = admission.void_ticket(session, admission.format_ticket(lost))
    db.session.expire_all()
    # The lost phone's token, its socket's ballots: refused. Its ballot left the open poll.
    assert sessions.participant_from_token(token) is None
    with pytest.raises(voting.VoteError) as refused:
        ballots.cast(carla.id, poll.id, ballot_id(), {"answer": "yes"})
    assert refused.value.code == "invalid_token"
    with pytest.raises(amendments.ProposalError):  # nor send proposals from the floor
        amendments.propose(db.session.get(Participant, carla.id), "comment", "Hello")
    assert voting.voted_count(poll) == 1
    assert voting.counts_by_group(poll) == {"": {"#ballots": 1, "no": 1}}
    # The voided ticket admits nobody; the replacement admits the person, who votes once.
    assert refusal(admission.admit, session, phone(1), ticket=lost).code == "ticket_voided"
    carla_again, _ = admission.admit(session, phone(3), "Carla", "", replacement.code)
    ballots.cast(carla_again.id, poll.id, ballot_id(), {"answer": "yes"})
    assert voting.voted_count(poll) == 2
    assert sessions.joined_count(session) == 2  # the voided place is not counted
    assert sessions.ticket_counts(session) == {"issued": 2, "used": 2, "voided": 1}
    assert refusal(admission.void_ticket, session, lost).code == "ticket_voided"
    assert refusal(admission.void_ticket, session, "NOPE").code == "unknown_ticket"


def test_issue_limits(ctx):
    session = assembly(make_process())
    for bad in (0, -1, admission.MAX_TICKETS_PER_BATCH + 1, "12", None):
        with pytest.raises(sessions.SessionError):
            admission.issue_tickets(session, bad)
    assert admission.issue_tickets(session, 5) == 1
    assert admission.issue_tickets(session, 2) == 2
    assert [b["tickets"] for b in admission.batches(session)] == [5, 2]


def test_a_phone_takes_few_places_in_an_open_session(any_db_app):
    app = any_db_app
    app.config["JOIN_LIMIT_PER_DEVICE"] = "3 per hour"
    with app.test_request_context(), force_locale("en"):
        session = workshop(make_process())
        for _ in range(3):  # e.g. one phone lent to two neighbours
            admission.admit(session, phone(1))
        limited = refusal(admission.admit, session, phone(1))
        assert limited.code == "device_limit" and 120 < limited.retry_after <= 3600
        assert "minutes" in str(limited.message)  # an hour's wait is not said in seconds
        # Another phone behind the same address is not affected.
        admission.admit(session, phone(2))
        assert sessions.joined_count(session) == 4


def test_a_hall_arriving_at_once_is_paced_per_session_not_locked_out(any_db_app):
    app = any_db_app
    app.config["JOIN_LIMIT_PER_SESSION"] = "5 per minute"
    with app.test_request_context(), force_locale("en"):
        process = make_process()
        session, elsewhere = workshop(process), workshop(process, "Other room")
        for number in range(5):
            admission.admit(session, phone(number))
        busy = refusal(admission.admit, session, phone(99))
        assert busy.code == "join_busy" and busy.retry_after
        admission.admit(elsewhere, phone(99))  # another session has its own allowance


def test_the_address_limit_and_wrong_tickets(any_db_app):
    app = any_db_app
    app.config["JOIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    app.config["TICKET_FAILURES_PER_DEVICE"] = "2 per minute"
    with app.test_request_context(), force_locale("en"):
        session = assembly(make_process())
        admission.issue_tickets(session, 1)
        for _ in range(2):
            refusal(admission.admit, session, phone(1), ticket="WRONGWRONG")
        tries = refusal(admission.admit, session, phone(1), ticket=codes(session)[0])
        assert tries.code == "ticket_tries" and tries.retry_after
        throttled = refusal(admission.admit, session, phone(2), ticket=codes(session)[0])
        assert throttled.code == "join_throttled"  # a 4th request from the same address
        # Another address is not affected.
        admission.admit(session, phone(3, "192.0.2.7"), ticket=codes(session)[0])


def test_the_head_count(ctx):
    session = workshop(make_process())
    admission.set_expected(session, 2)
    for number in range(3):
        admission.admit(session, phone(number))
    counts = sessions.state_for(session, "facilitator")["counts"]
    assert (counts["joined"], counts["expected"], counts["tickets"]) == (3, 2, None)
    for bad in (-1, "2", 100_001):
        with pytest.raises(sessions.SessionError):
            admission.set_expected(session, bad)
    admission.set_expected(session, None)
    assert sessions.state_for(session, "projector")["counts"]["expected"] is None
    admission.set_admission(session, "tickets")
    assert sessions.state_for(session, "facilitator")["counts"]["tickets"] == {
        "issued": 0,
        "used": 0,
        "voided": 0,
    }
    with pytest.raises(sessions.SessionError):
        admission.set_admission(session, "everyone")


def test_a_misconfigured_limit_stops_the_server_at_start(tmp_path):
    from tests.conftest import make_app

    with pytest.raises(RuntimeError, match="JOIN_LIMIT_PER_SESSION"):
        make_app(tmp_path, JOIN_LIMIT_PER_SESSION="a hundred per second")
