"""Proposals from the floor: proposing, limits, moderation, merging, voting and adoption."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask import current_app, render_template

from deliberation.extensions import db
from deliberation.live import screens
from deliberation.models import (
    PROPOSAL_TEXT_MAX,
    ActionPath,
    AgendaItem,
    Field,
    Finding,
    Hypothesis,
    LiveSession,
    Participant,
    Poll,
    Process,
    Proposal,
    Question,
    TextVersion,
)
from deliberation.services.authoring import authoring
from deliberation.services.live import amendments, ballots, phone_seats, voting
from deliberation.services.live.amendments import ProposalError
from tests.conftest import make_app

HYPOTHESIS = "L'accompagnement doit partir des besoins de la personne."
FINDING = "Les dispositifs se sont empilés sans évaluation."


def build_session(code: str = "ACDEFH") -> LiveSession:
    process = Process(slug=f"assises-{code.lower()}", title="Assises de l'insertion")
    field = Field(title="Dispositifs d'accompagnement", position=0)
    process.fields.append(field)
    question = Question(text="Quel accompagnement ?", position=0)
    field.questions.append(question)
    question.hypotheses.append(Hypothesis(text=HYPOTHESIS, position=0))
    finding = Finding(text=FINDING, position=0)
    field.findings.append(finding)
    finding.action_paths.append(ActionPath(text="Évaluer les dispositifs.", position=0))
    session = LiveSession(process=process, title="Atelier 1", join_code=code)
    db.session.add(session)
    db.session.flush()
    for position, (item_type, item_id) in enumerate(
        [("hypothesis", question.hypotheses[0].id), ("finding", finding.id)]
    ):
        session.agenda.append(AgendaItem(item_type=item_type, item_id=item_id, position=position))
    db.session.flush()
    session.current_item_id = session.agenda[0].id
    db.session.commit()
    return session


def add_participant(session: LiveSession, name: str = "") -> Participant:
    participant = Participant(
        session_id=session.id,
        token_id=f"tok-{name or 'anon'}-{session.id}-{db.session.query(Participant).count()}",
        display_name=name,
    )
    db.session.add(participant)
    db.session.commit()
    return participant


def show(session: LiveSession, index: int) -> None:
    session.current_item_id = session.agenda[index].id
    db.session.commit()


@pytest.fixture
def room(request, tmp_path):
    """A session with two participants, in a request context as in a page or a socket
    handler (the templates need a locale). SQLite; tests marked ``BOTH_DATABASES`` run on
    PostgreSQL too (the rules that lean on the database: locks, idempotency, counting)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        app = make_app(tmp_path, request.getfixturevalue("pg_database_url"))
    else:
        app = make_app(tmp_path)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        session = build_session()
        yield session, add_participant(session, "Ana"), add_participant(session, "")
        db.session.remove()
        db.engine.dispose()


BOTH_DATABASES = pytest.mark.parametrize("room", ["sqlite", "postgresql"], indirect=True)


def hypothesis_of(session: LiveSession) -> Hypothesis:
    return session.process.fields[0].questions[0].hypotheses[0]


@BOTH_DATABASES
def test_amendment_of_the_item_on_screen(room):
    session, ana, _ = room
    proposal, duplicate = amendments.propose(
        ana, "amendment", "L'accompagnement **part** des besoins de la personne.", client_id="c1"
    )
    assert not duplicate
    stored = db.session.get(Proposal, proposal.id)
    assert stored.status == "pending"
    assert (stored.item_type, stored.item_id) == ("hypothesis", hypothesis_of(session).id)
    assert stored.participant_id == ana.id and stored.supporters == 1
    queue = amendments.queue(session)
    assert [p["id"] for p in queue] == [proposal.id]
    assert "<strong>part</strong>" in queue[0]["text_html"]
    assert queue[0]["author"] == "Ana"
    assert "<ins>" in queue[0]["diff_html"]


@BOTH_DATABASES
def test_resend_with_same_client_id_is_stored_once(room):
    _, ana, _ = room
    first, _dup = amendments.propose(ana, "comment", "Un commentaire.", client_id="same")
    again, duplicate = amendments.propose(ana, "comment", "Un commentaire.", client_id="same")
    assert duplicate and again.id == first.id
    assert db.session.query(Proposal).count() == 1


def test_new_action_path_attaches_to_the_finding_on_screen(room):
    session, ana, _ = room
    show(session, 1)
    proposal, _dup = amendments.propose(ana, "action_path", "Créer un observatoire.")
    assert proposal.item_type == "finding"
    assert proposal.item_id == session.agenda[1].item_id


def test_on_a_dot_vote_of_action_paths_only_new_paths_are_proposed(room):
    session, ana, _ = room
    finding_id = session.agenda[1].item_id
    session.agenda.append(AgendaItem(item_type="action_paths", item_id=finding_id, position=2))
    db.session.commit()
    show(session, 2)
    proposal, _dup = amendments.propose(ana, "action_path", "Une piste de plus.")
    assert (proposal.item_type, proposal.item_id) == ("finding", finding_id)
    with pytest.raises(ProposalError) as error:
        amendments.propose(ana, "amendment", "Tout réécrire.")
    assert error.value.code == "no_item"


def test_new_action_path_needs_a_finding(room):
    _, ana, _ = room
    with pytest.raises(ProposalError) as error:
        amendments.propose(ana, "action_path", "Une piste.")
    assert error.value.code == "no_finding"


BAD_PROPOSALS = [
    ("amendment", "", "empty"),
    ("amendment", "   \n\t ", "empty"),
    ("amendment", "x" * (PROPOSAL_TEXT_MAX + 1), "too_long"),
    ("amendment", None, "bad_request"),
    ("amendment", {"text": "no"}, "bad_request"),
    ("petition", "Un texte.", "invalid_kind"),
    ("amendment", HYPOTHESIS, "unchanged"),
]


@BOTH_DATABASES
def test_bad_proposals_are_refused_and_nothing_stored(room):
    _, ana, _ = room
    for kind, text, code in BAD_PROPOSALS:
        with pytest.raises(ProposalError) as error:
            amendments.propose(ana, kind, text)
        assert (kind, error.value.code) == (kind, code)
        assert error.value.message
    assert db.session.query(Proposal).count() == 0


def test_a_proposal_may_be_as_long_as_the_limit_the_phone_shows(room):
    _, ana, _ = room
    longest, _dup = amendments.propose(ana, "comment", "y" * PROPOSAL_TEXT_MAX)
    assert len(db.session.get(Proposal, longest.id).text) == PROPOSAL_TEXT_MAX
    seat = phone_seats.seat_of(amendments.session_of(longest), ana)
    form = render_template("live/_propose.html", seat=seat)
    assert f'maxlength="{PROPOSAL_TEXT_MAX}"' in form
    assert f'"maxLength": {PROPOSAL_TEXT_MAX}' in form


def test_longest_allowed_text_is_kept_whole(room):
    _, ana, _ = room
    text = "mot " * 499 + "fin"  # 1999 characters
    proposal, _dup = amendments.propose(ana, "comment", text)
    assert db.session.get(Proposal, proposal.id).text == text


def test_unknown_or_foreign_item_is_refused(room):
    session, ana, _ = room
    other = build_session("HJKMNP")
    foreign = hypothesis_of(other)
    for item_type, item_id in (("hypothesis", foreign.id), ("hypothesis", 9999), ("poll", 1)):
        with pytest.raises(ProposalError) as error:
            amendments.propose(ana, "amendment", "Autre texte.", item_type, item_id)
        assert error.value.code == "unknown_item"


def only_safe_markup(html: str, allowed: set[str]) -> bool:
    """Every tag in ``html`` is an allowed one and none carries an event handler or a
    javascript: URL (escaped text such as ``&lt;script&gt;`` is harmless and allowed)."""
    tags = re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html)
    inside = re.findall(r"<[^>]*>", html)
    return (
        set(tags) <= allowed
        and not any(re.search(r"\son\w+\s*=", tag, re.I) for tag in inside)
        and not any("javascript:" in tag.lower() for tag in inside)
    )


def test_script_injection_is_stored_but_never_rendered(room):
    session, ana, _ = room
    text = (
        'Texte <script>alert("x")</script> <img src=x onerror=alert(1)> [lien](javascript:alert(1))'
    )
    proposal, _dup = amendments.propose(ana, "amendment", text)
    assert db.session.get(Proposal, proposal.id).text == text  # nothing lost
    described = amendments.queue(session)[0]
    assert only_safe_markup(described["text_html"], {"p", "a"})
    assert "alert" not in described["text_html"].split("lien")[0]  # script body dropped
    assert only_safe_markup(described["diff_html"], {"del", "ins"})
    assert "alert" not in described["diff_html"]  # compared as plain text: markup dropped
    agenda_item = amendments.accept_for_vote(proposal)
    shown = amendments.present(db.session.get(AgendaItem, agenda_item.id))["amendment"]
    allowed = {"section", "div", "figure", "figcaption", "p", "span", "del", "ins"}
    assert only_safe_markup(screens.comparison_html(shown), allowed)


@BOTH_DATABASES
def test_flooding_is_rate_limited_per_participant(room):
    _, ana, other = room
    limit = current_app.config["PROPOSAL_RATE_PER_MINUTE"]
    for n in range(limit):
        amendments.propose(ana, "comment", f"Commentaire {n}.")
    with pytest.raises(ProposalError) as error:
        amendments.propose(ana, "comment", "Un de trop.")
    assert error.value.code == "rate_limited"
    assert str(limit) in error.value.message
    # A resend of an accepted one is still acknowledged, and others may still speak.
    amendments.propose(other, "comment", "Moi aussi.")
    assert db.session.query(Proposal).filter_by(participant_id=ana.id).count() == limit


def test_rate_limit_counts_only_the_last_minute(room):
    _, ana, _ = room
    for n in range(current_app.config["PROPOSAL_RATE_PER_MINUTE"]):
        amendments.propose(ana, "comment", f"Commentaire {n}.")
    for proposal in db.session.query(Proposal).all():
        proposal.created_at -= timedelta(seconds=61)
    db.session.commit()
    amendments.propose(ana, "comment", "Une minute plus tard.")


def test_accept_for_vote_adds_an_amendment_item_after_the_current_one(room):
    session, ana, _ = room
    proposal, _dup = amendments.propose(ana, "amendment", "Partir des besoins exprimés.")
    agenda_item = amendments.accept_for_vote(proposal)
    db.session.expire_all()
    order = [(i.item_type, i.item_id) for i in session.agenda]
    assert order == [
        ("hypothesis", hypothesis_of(session).id),
        ("amendment", proposal.id),
        ("finding", session.process.fields[0].findings[0].id),
    ]
    assert [i.position for i in session.agenda] == [0, 1, 2]
    assert db.session.get(Proposal, proposal.id).status == "accepted"
    shown = amendments.present(db.session.get(AgendaItem, agenda_item.id))
    assert shown["amendment"]["original"] == HYPOTHESIS
    compared = screens.comparison_html(shown["amendment"])
    assert "<del>" in compared and "<ins>" in compared
    assert "exprimés" in shown["amendment"]["proposed_html"]
    assert shown["title"] == "Amendment to Hypothesis 1.1"
    with pytest.raises(ProposalError) as error:
        amendments.accept_for_vote(proposal)
    assert error.value.code == "invalid_transition"


def test_comment_cannot_be_voted_but_is_kept(room):
    session, ana, _ = room
    proposal, _dup = amendments.propose(ana, "comment", "Penser aux transports.")
    with pytest.raises(ProposalError):
        amendments.accept_for_vote(proposal)
    amendments.keep_as_comment(proposal)
    assert db.session.get(Proposal, proposal.id).status == "kept_as_comment"
    assert amendments.queue(session)[0]["status"] == "kept_as_comment"


def test_send_back_needs_a_reason_and_tells_the_author(room):
    _, ana, _ = room
    proposal, _dup = amendments.propose(ana, "amendment", "Autre chose.")
    with pytest.raises(ProposalError) as error:
        amendments.send_back(proposal, "  ")
    assert error.value.code == "reason_required"
    amendments.send_back(proposal, "Hors sujet   pour cet item")
    stored = db.session.get(Proposal, proposal.id)
    assert (stored.status, stored.reason) == ("returned", "Hors sujet pour cet item")
    assert amendments.status_message(stored) == {
        "proposal_id": proposal.id,
        "status": "returned",
        "reason": "Hors sujet pour cet item",
    }
    mine = amendments.own_proposals(ana)
    assert [p["status"] for p in mine] == ["returned"] and "author" not in mine[0]


@BOTH_DATABASES
def test_merge_sums_supporters_and_keeps_the_merged(room):
    session, ana, bob = room
    carla = add_participant(session, "Carla")
    first, _d = amendments.propose(ana, "amendment", "Partir des besoins exprimés.")
    second, _d = amendments.propose(bob, "amendment", "Partir des besoins qu'elle exprime.")
    third, _d = amendments.propose(carla, "amendment", "Partir de ses besoins.")
    comment, _d = amendments.propose(carla, "comment", "Un avis.")
    amendments.merge([second], first)
    amendments.merge([third], first)
    db.session.expire_all()
    kept = db.session.get(Proposal, first.id)
    assert kept.supporters == 3
    for merged in (second, third):
        stored = db.session.get(Proposal, merged.id)
        assert (stored.status, stored.merged_into_id) == ("merged", first.id)
    assert {p.id for p in amendments.authors(kept)} == {ana.id, bob.id, carla.id}
    assert "Ana" in amendments.authors_label(kept) and "Carla" in amendments.authors_label(kept)
    with pytest.raises(ProposalError) as error:
        amendments.merge([comment], first)
    assert error.value.code == "not_mergeable"
    with pytest.raises(ProposalError) as error:
        amendments.merge([second], first)
    assert error.value.code == "invalid_transition"


def test_moderate_dispatches_console_payloads(room):
    session, ana, bob = room
    a, _d = amendments.propose(ana, "amendment", "Version A.")
    b, _d = amendments.propose(bob, "amendment", "Version B.")
    changed = amendments.moderate(session, {"action": "merge", "proposal_id": b.id, "into": a.id})
    assert {p.id for p in changed} == {a.id, b.id}
    amendments.moderate(session, {"action": "accept", "proposal_id": a.id})
    assert db.session.get(Proposal, a.id).status == "accepted"
    for payload, code in (
        ("nope", "bad_request"),
        ({"action": "delete", "proposal_id": a.id}, "bad_request"),
        ({"action": "accept", "proposal_id": "x"}, "bad_request"),
        ({"action": "accept", "proposal_id": 999}, "unknown_proposal"),
        ({"action": "accept", "proposal_id": a.id}, "invalid_transition"),
    ):
        with pytest.raises(ProposalError) as error:
            amendments.moderate(session, payload)
        assert error.value.code == code


def test_proposal_of_another_session_cannot_be_moderated(room):
    session, ana, _ = room
    other = build_session("HJKMNP")
    proposal, _d = amendments.propose(ana, "comment", "Ici.")
    with pytest.raises(ProposalError) as error:
        amendments.moderate(other, {"action": "keep_as_comment", "proposal_id": proposal.id})
    assert error.value.code == "not_in_session"


def test_versions_are_untouched_until_adoption(room):
    _, ana, _ = room
    proposal, _d = amendments.propose(ana, "amendment", "Nouveau texte.")
    amendments.accept_for_vote(proposal)
    assert db.session.query(TextVersion).count() == 0


# -- voting and adoption (through the real vote services) --------------------------------


def put_to_vote(session, agenda_item, voters, choice, method="consensus"):
    poll = voting.open_poll(session, db.session.get(AgendaItem, agenda_item.id), method)
    for voter in voters:
        ballots.cast(voter.id, poll.id, uuid.uuid4().hex, choice)
    voting.close_poll(db.session.get(Poll, poll.id))
    voting.publish_poll(db.session.get(Poll, poll.id))
    return db.session.get(Poll, poll.id)


@BOTH_DATABASES
def test_adopted_amendment_becomes_a_new_version(room):
    session, ana, bob = room
    new_text = "L'accompagnement part des besoins exprimés par la personne."
    proposal, _d = amendments.propose(ana, "amendment", new_text)
    agenda_item = amendments.accept_for_vote(proposal)
    poll = put_to_vote(session, agenda_item, [ana, bob], {"answer": "full"})
    db.session.expire_all()
    hypothesis = hypothesis_of(session)
    assert hypothesis.text == new_text
    assert db.session.get(Proposal, proposal.id).status == "adopted"
    versions = authoring.history(hypothesis)
    assert [v.kind for v in versions] == ["created", "amendment"]
    assert versions[0].text == HYPOTHESIS
    adopted = versions[-1]
    assert (adopted.text, adopted.session_id, adopted.poll_id) == (new_text, session.id, poll.id)
    assert "Ana" in adopted.author
    # The room still sees what it voted on: the wording replaced, not today's text.
    shown = amendments.present(db.session.get(AgendaItem, agenda_item.id))
    assert shown["amendment"]["original"] == HYPOTHESIS
    compared = screens.comparison_html(shown["amendment"])
    assert "<del>" in compared and "<ins>" in compared
    # A reset and a second publication never adopt it twice.
    voting.reset_poll(poll)
    put_to_vote(session, agenda_item, [ana, bob], {"answer": "full"})
    assert len(authoring.history(hypothesis_of(session))) == 2


def test_rejected_amendment_is_kept_and_changes_nothing(room):
    session, ana, bob = room
    proposal, _d = amendments.propose(ana, "amendment", "Tout autre chose.")
    agenda_item = amendments.accept_for_vote(proposal)
    put_to_vote(session, agenda_item, [ana, bob], {"answer": "disagree"})
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal.id)
    assert stored.status == "rejected" and stored.text == "Tout autre chose."
    # Why, in the room's words (the phone shows it): the verdict's reason, no code, no number.
    assert stored.reason == (
        "0\u00a0% de soutien, 0\u00a0% de blocages : soutien sous 50\u00a0% → rejeté"
    )
    assert hypothesis_of(session).text == HYPOTHESIS
    assert authoring.history(hypothesis_of(session)) == []


def test_a_vote_without_ballots_decides_nothing(room):
    session, ana, _bob = room
    proposal, _d = amendments.propose(ana, "amendment", "Une autre formulation.")
    agenda_item = amendments.accept_for_vote(proposal)
    put_to_vote(session, agenda_item, [], {"answer": "full"})
    assert db.session.get(Proposal, proposal.id).status == "accepted"
    assert hypothesis_of(session).text == HYPOTHESIS


def test_adopting_an_amendment_of_a_deleted_item_still_publishes(room):
    session, ana, bob = room
    proposal, _d = amendments.propose(ana, "amendment", "Une nouvelle formulation.")
    agenda_item = amendments.accept_for_vote(proposal)
    db.session.delete(hypothesis_of(session))
    db.session.commit()
    poll = put_to_vote(session, agenda_item, [ana, bob], {"answer": "full"})
    assert poll.state == "published"
    stored = db.session.get(Proposal, proposal.id)
    assert stored.status == "rejected" and stored.reason


@BOTH_DATABASES
def test_yes_no_vote_adopts_a_new_action_path_under_the_finding(room):
    session, ana, bob = room
    show(session, 1)
    proposal, _d = amendments.propose(ana, "action_path", "Créer un observatoire de l'insertion.")
    agenda_item = amendments.accept_for_vote(proposal)
    poll = put_to_vote(session, agenda_item, [ana, bob], {"answer": "yes"}, method="yes_no")
    db.session.expire_all()
    finding = session.process.fields[0].findings[0]
    assert [p.text for p in finding.action_paths] == [
        "Évaluer les dispositifs.",
        "Créer un observatoire de l'insertion.",
    ]
    created = finding.action_paths[-1]
    [version] = authoring.history(created)
    assert (version.kind, version.poll_id, version.session_id) == ("amendment", poll.id, session.id)
    assert db.session.get(Proposal, proposal.id).status == "adopted"


@BOTH_DATABASES
def test_rollback_of_an_adopted_amendment_is_itself_a_version(room):
    session, ana, bob = room
    proposal, _d = amendments.propose(ana, "amendment", "Texte amendé en séance.")
    agenda_item = amendments.accept_for_vote(proposal)
    put_to_vote(session, agenda_item, [ana, bob], {"answer": "reservations"})
    db.session.expire_all()
    hypothesis = hypothesis_of(session)
    assert hypothesis.text == "Texte amendé en séance."
    authoring.rollback(hypothesis, 1, "organisateur@example.org")
    db.session.expire_all()
    hypothesis = hypothesis_of(session)
    assert hypothesis.text == HYPOTHESIS
    assert [v.kind for v in authoring.history(hypothesis)] == ["created", "amendment", "rollback"]
    # The proposal keeps its story: it was adopted, then the organisers rolled the text back.
    assert db.session.get(Proposal, proposal.id).status == "adopted"


def test_vote_on_an_ordinary_item_touches_no_proposal(room):
    session, ana, bob = room
    proposal, _d = amendments.propose(ana, "comment", "Un commentaire.")
    put_to_vote(session, session.agenda[0], [ana, bob], {"answer": "full"})
    assert db.session.get(Proposal, proposal.id).status == "pending"
    assert authoring.history(hypothesis_of(session)) == []


def test_rate_limit_holds_across_server_processes(app):
    """Two app instances (two engines, as two server processes) on one database."""
    from deliberation import create_app

    other_app = create_app({**app.config})
    with app.test_request_context():
        session = build_session()
        ana = add_participant(session, "Ana")
        ana_id, session_id = ana.id, session.id
    limit = app.config["PROPOSAL_RATE_PER_MINUTE"]
    refusals = []
    for n in range(limit + 2):
        serving = app if n % 2 else other_app
        with serving.test_request_context():
            participant = db.session.get(Participant, ana_id)
            try:
                amendments.propose(participant, "comment", f"Remarque {n}.")
            except ProposalError as error:
                refusals.append(error.code)
    assert refusals == ["rate_limited", "rate_limited"]
    with app.app_context():
        stored = db.session.query(Proposal).filter_by(session_id=session_id).count()
        assert stored == limit
    with other_app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_page_partials_render_with_their_strings(app, lang):
    """The phone form and the console queue render, with their strings for the scripts."""
    import json

    from flask import render_template
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(lang):
        session = build_session()
        seat = phone_seats.seat_of(session, add_participant(session, "Ana"))
        for template, config_id in (
            ("live/_propose.html", "propose-config"),
            ("live/_moderation.html", "moderation-config"),
        ):
            # The phone's form is drawn for a participant's seat, the console's for a session.
            html = render_template(template, live_session=session, seat=seat)
            match = re.search(
                rf'<script type="application/json" id="{config_id}"[^>]*>(.*?)</script>', html, re.S
            )
            strings = json.loads(match.group(1))["strings"]
            assert strings["statuses"]["pending"]
            assert all("%(" not in value for value in strings.values() if isinstance(value, str))
        assert f'data-session-id="{session.id}"' in render_template(
            "live/_moderation.html", live_session=session
        )


@BOTH_DATABASES
def test_racing_resends_store_one_proposal(room):
    """Four copies of one proposal sent at the same moment (a phone resending on a flaky
    connection, over several sockets): one is stored, every sender gets its id."""
    import threading

    session, ana, _ = room
    ana_id, session_id = ana.id, session.id  # read here: ORM objects stay in this thread
    app = current_app._get_current_object()
    barrier = threading.Barrier(4)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def send() -> None:
        with app.test_request_context():
            participant = db.session.get(Participant, ana_id)
            barrier.wait(timeout=30)
            try:
                proposal, duplicate = amendments.propose(
                    participant, "comment", "En même temps.", client_id="race-1"
                )
                results.append((proposal.id, duplicate))
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({proposal_id for proposal_id, _ in results}) == 1
    assert sorted(duplicate for _, duplicate in results) == [False, True, True, True]
    db.session.rollback()  # end this thread's read snapshot before counting
    assert db.session.query(Proposal).filter_by(session_id=session_id).count() == 1


def test_refusal_names_the_status_in_the_users_language(room):
    """Moderating a proposal already handled names its status in words, translated, never the
    status code (a French facilitator read « (merged) » before)."""
    from flask_babel import force_locale

    session, ana, bob = room
    kept, _d = amendments.propose(ana, "amendment", "Partir des besoins exprimés.")
    folded, _d = amendments.propose(bob, "amendment", "Partir des besoins qu'elle exprime.")
    amendments.merge([folded], kept)
    with force_locale("fr"), pytest.raises(ProposalError) as error:
        amendments.accept_for_vote(folded)
    assert error.value.code == "invalid_transition"
    assert error.value.message == "Cette proposition a déjà été traitée (fusionnée)."
    assert "merged" not in error.value.message
    amendments.keep_as_comment(kept)
    with pytest.raises(ProposalError) as error:  # in English too, words rather than the code
        amendments.send_back(kept, "Trop proche d'une autre.")
    assert error.value.message == "This proposal has already been handled (kept as a comment)."
