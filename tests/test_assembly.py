"""Building the general assembly from the consolidation, and the final status it gives."""

from __future__ import annotations

import pytest
from consolidation_data import build_tree, log_in, make_organizer

from deliberation.extensions import db
from deliberation.models import LiveSession, Participant, Proposal
from deliberation.services.consolidation import assembly
from deliberation.services.consolidation.consolidation import consolidate
from deliberation.services.demo.demo_sessions import Vote, record_session
from deliberation.services.live import ballots as ballot_service
from deliberation.services.live import voting


def ballots(**answers: int) -> list[tuple[str, dict]]:
    return [("", {"answer": a}) for a, n in answers.items() for _ in range(n)]


def workshops(tree):
    """rec2 validated in Liège; rec3 rejected; path1 rework but amended in Namur."""
    rec1, rec2, rec3 = tree.recommendations
    path1 = tree.action_paths[0]
    record_session(
        tree.process,
        "Liège",
        [
            Vote("recommendation", rec3.id, ballots(disagree=4)),
            Vote("recommendation", rec2.id, ballots(full=4)),
            Vote("action_path", path1.id, ballots(full=1, mixed=1)),
        ],
        territory=tree.territories[0],
    )
    namur = record_session(
        tree.process,
        "Namur",
        [Vote("action_path", path1.id, ballots(mixed=3)), Vote("recommendation", rec1.id, None)],
        territory=tree.territories[1],
    )
    db.session.add(
        Proposal(
            session_id=namur.id,
            kind="amendment",
            item_type="action_path",
            item_id=path1.id,
            text="Better wording",
            status="adopted",
        )
    )
    # A returned amendment does not make rec1 "amended".
    db.session.add(
        Proposal(
            session_id=namur.id,
            kind="amendment",
            item_type="recommendation",
            item_id=rec1.id,
            text="Off topic",
            status="returned",
        )
    )
    db.session.commit()


def agenda_keys(session: LiveSession) -> list[tuple[str, int]]:
    return [(a.item_type, a.item_id) for a in session.agenda]


def test_validated_or_amended_in_field_order(app):
    with app.app_context():
        tree = build_tree()
        workshops(tree)
        session = assembly.build_assembly(tree.process, "validated_or_amended", title="AG")
        assert session.kind == "assembly" and session.title == "AG"
        # Field order (finding 1's action path before finding 2's recommendation), not the
        # order in which the workshops voted.
        assert agenda_keys(session) == [
            ("action_path", tree.action_paths[0].id),
            ("recommendation", tree.recommendations[1].id),
        ]


def test_voted_all_and_selected_rules(app):
    with app.app_context():
        tree = build_tree()
        workshops(tree)
        rec1, rec2, rec3 = tree.recommendations
        voted = assembly.build_assembly(tree.process, "voted")
        assert agenda_keys(voted) == [
            ("action_path", tree.action_paths[0].id),
            ("recommendation", rec2.id),
            ("recommendation", rec3.id),
        ]
        everything = assembly.build_assembly(tree.process, "all")
        # 2 hypotheses, 3 findings, 3 recommendations, 2 action paths, 1 condition.
        assert len(everything.agenda) == 11
        assert agenda_keys(everything)[:3] == [
            ("hypothesis", tree.hypotheses[0].id),
            ("hypothesis", tree.hypotheses[1].id),
            ("finding", tree.findings[0].id),
        ]
        picked = assembly.build_assembly(
            tree.process, "selected", [("recommendation", rec3.id), ("recommendation", rec1.id)]
        )
        assert agenda_keys(picked) == [("recommendation", rec1.id), ("recommendation", rec3.id)]


def test_bad_choices_write_nothing(app):
    with app.app_context():
        tree = build_tree()
        other = build_tree(slug="other", territories=())
        with pytest.raises(assembly.AssemblyError):
            assembly.build_assembly(tree.process, "validated_or_amended")  # nothing voted yet
        with pytest.raises(assembly.AssemblyError):
            assembly.build_assembly(
                tree.process, "selected", [("recommendation", other.recommendations[0].id)]
            )
        with pytest.raises(assembly.AssemblyError):
            assembly.build_assembly(tree.process, "selected", [])
        with pytest.raises(assembly.AssemblyError):
            assembly.build_assembly(tree.process, "everything please")
        assert db.session.scalar(db.select(db.func.count(LiveSession.id))) == 0


def test_parse_keys():
    assert assembly.parse_keys(["recommendation:4", "action_path:12"]) == [
        ("recommendation", 4),
        ("action_path", 12),
    ]
    for bad in (["recommendation:x"], ["free:1"], ["nonsense"]):
        with pytest.raises(assembly.AssemblyError):
            assembly.parse_keys(bad)


def test_final_status_comes_from_the_published_assembly_vote(app):
    with app.app_context():
        tree = build_tree()
        rec1, rec2, rec3 = tree.recommendations
        path1 = tree.action_paths[0]
        # Workshops alone give no final status.
        record_session(
            tree.process, "W", [Vote("recommendation", rec1.id, ballots(full=5))],
            territory=tree.territories[0],
        )  # fmt: skip
        assert assembly.final_status(tree.process) == {}
        plenary = record_session(
            tree.process,
            "AG",
            [
                Vote("recommendation", rec1.id, ballots(full=8, reservations=1, disagree=1)),
                Vote("recommendation", rec2.id, ballots(full=6, disagree=4)),
                Vote("recommendation", rec3.id, ballots(disagree=7, full=3)),
                # Closed but never shown to the room: no status yet.
                Vote("action_path", path1.id, ballots(full=9), publish=False),
            ],
            session_kind="assembly",
        )
        statuses = assembly.final_status(tree.process)
        assert {key: s.status for key, s in statuses.items()} == {
            ("recommendation", rec1.id): "validated",
            ("recommendation", rec2.id): "rework",
            ("recommendation", rec3.id): "rejected",
        }
        first = statuses[("recommendation", rec1.id)]
        assert (first.ballots, first.support_percent, first.session_id) == (10, 90.0, plenary.id)

        # The assembly votes rec2 again after rework: the later published vote decides.
        agenda_item = next(a for a in plenary.agenda if a.item_id == rec2.id)
        poll = voting.open_poll(plenary, agenda_item, "yes_no")
        people = plenary_participants(plenary)
        for index, participant in enumerate(people[:4]):
            ballot_service.cast(participant.id, poll.id, f"second-vote-{index}", {"answer": "yes"})
        voting.close_poll(poll)
        voting.publish_poll(poll)
        again = assembly.final_status(tree.process)[("recommendation", rec2.id)]
        assert (again.status, again.method, again.poll_id) == ("validated", "yes_no", poll.id)


def plenary_participants(session: LiveSession):
    return list(db.session.scalars(db.select(Participant).filter_by(session_id=session.id)))


# -- the page ----------------------------------------------------------------------------


def test_assembly_page_builds_the_session_and_refuses_bad_input(app, client):
    with app.app_context():
        tree = build_tree()
        workshops(tree)
        organizer = make_organizer(tree.process)
        slug, organizer_id = tree.process.slug, organizer.id
        rec3_id = tree.recommendations[2].id
    url = f"/organize/{slug}/assembly/new"
    assert client.get(url).status_code == 302
    log_in(client, organizer_id)
    client.post("/lang/en")
    page = client.get(url)
    assert page.status_code == 200
    # The items validated or amended somewhere start ticked.
    assert page.text.count("checked>") >= 2

    bad_date = client.post(url, data={"rule": "all", "title": "AG", "held_on": "31/12/2014"})
    assert bad_date.status_code == 400
    assert "YYYY-MM-DD" in bad_date.text
    assert 'value="AG"' in bad_date.text  # nothing typed is lost
    bad_item = client.post(url, data={"rule": "selected", "items": ["recommendation:x"]})
    assert bad_item.status_code == 400
    nothing = client.post(url, data={"rule": "selected"})
    assert nothing.status_code == 400
    with app.app_context():
        assert (
            db.session.scalar(db.select(db.func.count(LiveSession.id)).filter_by(kind="assembly"))
            == 0
        )

    created = client.post(
        url,
        data={"rule": "selected", "items": [f"recommendation:{rec3_id}"], "title": "AG 2015",
              "held_on": "2015-03-20", "place": "Namur"},
    )  # fmt: skip
    assert created.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(LiveSession).filter_by(kind="assembly"))
        assert (session.title, session.place, str(session.held_on)) == (
            "AG 2015",
            "Namur",
            "2015-03-20",
        )
        assert agenda_keys(session) == [("recommendation", rec3_id)]


def test_consolidation_and_final_status_on_every_database(any_db_app):
    """The same queries on SQLite and PostgreSQL (skipped with the reason when absent)."""

    with any_db_app.app_context():
        tree = build_tree()
        workshops(tree)
        rec2 = tree.recommendations[1]
        record_session(
            tree.process, "AG", [Vote("recommendation", rec2.id, ballots(full=3))],
            session_kind="assembly",
        )  # fmt: skip
        by_key = {c.key: c for c in consolidate(tree.process)}
        assert by_key[("recommendation", rec2.id)].overall["outcome"] == "validated"
        path = by_key[("action_path", tree.action_paths[0].id)]
        assert [t.ballots for t in path.territories] == [2, 3]
        assert assembly.amended_items(tree.process) == {("action_path", tree.action_paths[0].id)}
        assert assembly.final_status(tree.process)[("recommendation", rec2.id)].status == (
            "validated"
        )
