"""Sessions: codes, participants and tokens, the agenda, item presentation, screen states."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from itsdangerous import URLSafeTimedSerializer

from deliberation.extensions import db
from deliberation.models import AgendaItem, Finding, LiveSession, Participant
from deliberation.services.live import ballots, sessions, voting
from deliberation.services.live.sessions import CODE_ALPHABET, SessionError
from tests.live_fixtures import ballot_id, first_field, free_item, make_process, workshop


@pytest.fixture
def ctx(app):
    with app.test_request_context(), force_locale("en"):
        yield app


def test_create_session_and_join_code(ctx):
    process = make_process()
    codes = {workshop(process, f"W{i}").join_code for i in range(30)}
    assert len(codes) == 30
    for code in codes:
        assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("0O1IL2Z5S6G8B")
    session = workshop(process)
    spaced = session.join_code.lower()[:3] + "-" + session.join_code.lower()[3:]
    assert sessions.session_by_code(spaced).id == session.id
    assert sessions.session_by_code("") is None
    assert sessions.session_by_code("ABC") is None


@pytest.mark.parametrize(
    ("kind", "title", "code"),
    [
        ("party", "T", "invalid_session_kind"),
        ("workshop", "   ", "invalid_title"),
        ("assembly", "x" * 301, "invalid_title"),
    ],
)
def test_create_session_refusals(ctx, kind, title, code):
    process = make_process()
    with pytest.raises(SessionError) as refused:
        sessions.create_session(process, kind, title)
    assert refused.value.code == code
    assert db.session.scalar(db.select(db.func.count(LiveSession.id))) == 0


def test_create_session_checks_field_and_territory_belong_to_process(ctx):
    process = make_process("one")
    other = make_process("two")
    with pytest.raises(SessionError) as refused:
        sessions.create_session(process, "workshop", "T", field_id=first_field(other).id)
    assert refused.value.code == "unknown_field"
    with pytest.raises(SessionError) as refused:
        sessions.create_session(process, "workshop", "T", territory_id=other.territories[0].id)
    assert refused.value.code == "unknown_territory"
    session = sessions.create_session(
        process, "assembly", "AG", territory_id=process.territories[0].id, place="Namur"
    )
    assert session.territory.name == "Liège" and session.place == "Namur"


def test_join_issues_a_token_that_names_the_participant(ctx):
    process = make_process()
    session = workshop(process)
    participant, token = sessions.join(session.join_code.lower(), "  Ana   B ", "service_user")
    assert participant.display_name == "Ana B" and participant.group == "service_user"
    assert sessions.participant_from_token(token).id == participant.id
    anonymous, _ = sessions.join(session.join_code)
    assert anonymous.group == "" and anonymous.display_name == ""
    assert sessions.participant_from_token(token + "x") is None
    assert sessions.participant_from_token(None) is None
    forged = URLSafeTimedSerializer("other-secret", salt="participant").dumps(
        {"p": participant.token_id, "s": session.id}
    )
    assert sessions.participant_from_token(forged) is None
    # A token for another session id (same secret) names nobody.
    crossed = URLSafeTimedSerializer(ctx.config["SECRET_KEY"], salt="participant").dumps(
        {"p": participant.token_id, "s": session.id + 1}
    )
    assert sessions.participant_from_token(crossed) is None


def test_join_refusals_write_nothing(ctx):
    process = make_process()
    session = workshop(process)
    for code, group, expected in [
        ("QQQQQQ", "", "unknown_session"),
        (session.join_code, "martians", "invalid_group"),
    ]:
        with pytest.raises(SessionError) as refused:
            sessions.join(code, "x", group)
        assert refused.value.code == expected
        assert refused.value.payload("en")["message"]
    assert db.session.scalar(db.select(db.func.count(Participant.id))) == 0


def test_fill_agenda_from_field_in_workshop_order(ctx):
    process = make_process()
    session = workshop(process)
    added = sessions.fill_agenda_from_field(session, first_field(process))
    types = [item.item_type for item in added]
    assert types == ["hypothesis"] * 4 + (
        ["finding", "recommendation", "recommendation", "action_paths", "implementation_condition"]
        * 2
    )
    assert [item.position for item in added] == list(range(len(added)))
    # Filling again adds nothing twice.
    assert sessions.fill_agenda_from_field(session, first_field(process)) == []
    titles = [sessions.present_item(item)["title"] for item in added]
    assert titles[:5] == [
        "Hypothesis 1.1",
        "Hypothesis 1.2",
        "Hypothesis 2.1",
        "Hypothesis 2.2",
        "Finding 1",
    ]
    assert titles[5:9] == [
        "Recommendation 1.1",
        "Recommendation 1.2",
        "Action paths of finding 1",
        "Implementation condition 1.1",
    ]
    paths = sessions.present_item(added[7])
    assert paths["suggested_method"] == "dot"
    assert [option["label"] for option in paths["options"]] == ["Path 0", "Path 1"]
    assert "<li>Path 0</li>" in paths["text_html"]
    hypothesis = sessions.present_item(added[0])
    assert hypothesis["context"].startswith("Question 1:")
    assert hypothesis["text"] == "Hypothesis 0.0"


def test_findings_are_numbered_across_fields(ctx):
    process = make_process()
    session = workshop(process)
    last = db.session.scalar(db.select(Finding).filter_by(text="Field two finding"))
    item = sessions.add_agenda_item(session, "finding", last.id)
    assert sessions.present_item(item)["title"] == "Finding 3"


def test_agenda_add_refusals(ctx):
    process = make_process("one")
    other = make_process("two")
    session = workshop(process)
    foreign = db.session.scalar(db.select(Finding).filter_by(field_id=first_field(other).id))
    for item_type, item_id, text, code in [
        ("finding", foreign.id, "", "unknown_item"),
        ("finding", 99999, "", "unknown_item"),
        ("poem", None, "x", "invalid_item"),
        ("free", None, "  ", "invalid_item"),
    ]:
        with pytest.raises(SessionError) as refused:
            sessions.add_agenda_item(session, item_type, item_id, text)
        assert refused.value.code == code
    assert session.agenda == []


def test_items_ticked_in_the_console_are_added_all_or_none(ctx):
    process = make_process()
    session = workshop(process)
    first, second = first_field(process).findings[:2]
    with pytest.raises(SessionError) as refused:
        sessions.add_agenda_items(session, [f"finding:{first.id}", "finding:99999"])
    assert refused.value.code == "unknown_item"
    with pytest.raises(SessionError) as refused:
        sessions.add_agenda_items(session, [])
    assert refused.value.code == "invalid_item"
    db.session.expire_all()
    assert session.agenda == []  # the first item went with the refusal of the second
    added = sessions.add_agenda_items(session, [f"finding:{first.id}", f"finding:{second.id}"])
    db.session.expire_all()
    assert [item.id for item in session.agenda] == [item.id for item in added]
    assert [item.item_id for item in session.agenda] == [first.id, second.id]


def test_move_and_remove_agenda_items(ctx):
    process = make_process()
    session = workshop(process)
    a, b, c = (free_item(session, text) for text in "abc")
    sessions.move_agenda_item(c, 0)
    db.session.expire_all()
    assert [item.text for item in session.agenda] == ["c", "a", "b"]
    sessions.move_agenda_item(c, 99)
    db.session.expire_all()
    assert [item.text for item in session.agenda] == ["a", "b", "c"]
    voting.open_poll(session, b, "yes_no")
    with pytest.raises(SessionError) as refused:
        sessions.remove_agenda_item(b)
    assert refused.value.code == "item_has_votes"
    sessions.remove_agenda_item(a)
    db.session.expire_all()
    assert [item.text for item in session.agenda] == ["b", "c"]


def test_show_item_is_refused_while_a_poll_is_open(ctx):
    process = make_process()
    session = workshop(process)
    first, second = free_item(session, "first"), free_item(session, "second")
    sessions.show_item(session, second)
    assert session.current_item_id == second.id
    poll = voting.open_poll(session, first, "consensus")
    db.session.refresh(session)
    assert session.current_item_id == first.id  # opening a poll shows its item
    with pytest.raises(SessionError) as refused:
        sessions.show_item(session, second)
    assert refused.value.code == "poll_open"
    sessions.show_item(session, first)  # showing the same item again is harmless
    voting.close_poll(poll)
    sessions.show_item(session, None)
    db.session.refresh(session)
    assert session.current_item_id is None


def test_state_for_each_role(ctx):
    process = make_process()
    session = workshop(process)
    item = free_item(session, "Do we agree?")
    idle = sessions.state_for(session, "projector")
    assert idle["item"] is None and idle["poll"] is None
    assert idle["session"]["join_url"] == f"/j/{session.join_code}"
    voter, _ = sessions.join(session.join_code, "", "employer")
    other, _ = sessions.join(session.join_code, "", "employer")
    poll = voting.open_poll(session, item, "consensus", secret=False)
    ballots.cast(voter.id, poll.id, ballot_id(), {"answer": "full"})
    phone = sessions.state_for(session, "phone", voter)
    assert phone["voted"] is True and phone["counts"] is None and phone["results"] is None
    assert sessions.state_for(session, "phone", other)["voted"] is False
    assert phone["poll"]["answers"][0] == {
        "key": "full",
        "label": "Fully agree",
        "picto": "face_very_happy",
    }
    assert phone["item"]["title"] == "Question to the room"
    projector = sessions.state_for(session, "projector")
    assert projector["counts"]["voted"] == 1 and projector["counts"]["joined"] == 2
    assert projector["results"] is None and projector["voted"] is None
    facilitator = sessions.state_for(session, "facilitator")
    assert facilitator["results"]["ballots"] == 1
    assert [entry["id"] for entry in facilitator["agenda"]] == [item.id]
    voting.set_show_live(poll, True)
    assert sessions.state_for(session, "projector")["results"]["ballots"] == 1
    assert sessions.state_for(session, "phone", voter)["results"] is None
    voting.close_poll(poll)
    voting.publish_poll(poll)
    assert sessions.state_for(session, "phone", voter)["results"]["outcome"] == "validated"
    # Nothing in any state names a participant next to a choice.
    assert "full" not in str(phone["voted"])


def test_state_uses_the_process_language(app):
    with app.test_request_context():
        process = make_process(language="fr")
        session = workshop(process)
        item = free_item(session)
        voting.open_poll(session, item, "yes_no")
        state = sessions.state_for(session, "phone", None)
        assert state["session"]["language"] == "fr"
        assert [answer["key"] for answer in state["poll"]["answers"]] == ["yes", "no", "abstain"]


def test_qr_svg(ctx):
    svg = sessions.qr_svg("http://127.0.0.1:5000/j/ACDEFH")
    assert svg.startswith("<svg") and "viewBox" in svg and "<path" in svg


def test_agenda_item_snapshot_survives_deletion(ctx):
    process = make_process()
    session = workshop(process)
    finding = db.session.scalar(db.select(Finding).filter_by(text="Finding text 1"))
    item = sessions.add_agenda_item(session, "finding", finding.id)
    db.session.delete(finding)
    db.session.commit()
    item = db.session.get(AgendaItem, item.id)
    presented = sessions.present_item(item)
    assert presented["text"] == "Finding text 1"
    assert presented["title"] == "Item no longer in the process"
