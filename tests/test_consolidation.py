"""Consolidation across territories: pure arithmetic over counters, then real sessions."""

from __future__ import annotations

from consolidation_data import build_tree, log_in, make_organizer

from deliberation.extensions import db
from deliberation.models import Ballot, LiveSession, Poll, PollCount, Proposal
from deliberation.services.consolidation.consolidation import (
    consolidate,
    consolidate_counts,
    outline_items,
    territory_divergence,
)
from deliberation.services.demo.demo_sessions import (
    DEMO_PREFIX,
    Vote,
    ensure_demo_sessions,
    record_session,
)
from deliberation.services.live import ballots as ballot_service
from deliberation.services.live import sessions, voting
from deliberation.tally import OutcomeRule

RULE = OutcomeRule(validated=70, rework=50, block=5, divergence=25)


def consensus(**answers: int) -> dict[str, int]:
    return {"#ballots": sum(answers.values()), **answers}


def ballots(group: str, **answers: int) -> list[tuple[str, dict]]:
    return [(group, {"answer": a}) for a, n in answers.items() for _ in range(n)]


# -- pure ---------------------------------------------------------------------------------


def test_overall_adds_every_ballot_then_applies_the_same_rule():
    figures = consolidate_counts(
        "consensus",
        {
            "Liège": {"": consensus(full=7, disagree=3)},  # 70 %: validated, exactly
            "Namur": {"": consensus(full=5, reservations=5, disagree=10)},  # 50 %: rework
            "Mons": {},  # on the agenda, nobody voted
        },
        RULE,
    )
    liege, namur, mons = (figures["territories"][n] for n in ("Liège", "Namur", "Mons"))
    assert (liege["outcome"], liege["support_percent"]) == ("validated", 70.0)
    assert (namur["outcome"], namur["support_percent"]) == ("rework", 50.0)
    assert (mons["outcome"], mons["ballots"]) == ("no_votes", 0)
    overall = figures["overall"]
    # (7 + 10) supporters of 30 ballots: 56.6 % (truncated), to rework.
    assert overall["ballots"] == 30
    assert overall["support_percent"] == 56.6
    assert overall["outcome"] == "rework"
    divergence = figures["divergence"]
    assert divergence["outcomes_differ"] is True
    assert divergence["outcomes"] == {"Liège": "validated", "Namur": "rework"}  # no Mons
    assert divergence["gap_points"] == 20.0 and divergence["wide_gap"] is False
    assert (divergence["highest"], divergence["lowest"]) == ("Liège", "Namur")


def test_bigger_territories_weigh_more_than_in_an_average_of_percentages():
    figures = consolidate_counts(
        "consensus",
        {"Big": {"": consensus(full=90, disagree=10)}, "Small": {"": consensus(disagree=10)}},
        RULE,
    )
    # An average of percentages would say 45 %; the ballots say 90 of 110 (81.8 %).
    assert figures["overall"]["support_percent"] == 81.8
    assert figures["overall"]["outcome"] == "validated"


def test_tied_territories_do_not_diverge_and_a_gap_at_the_threshold_does():
    same = consolidate_counts(
        "consensus",
        {"A": {"": consensus(full=3, mixed=1)}, "B": {"": consensus(reservations=6, mixed=2)}},
        RULE,
    )
    assert same["territories"]["A"]["support_percent"] == 75.0
    assert same["territories"]["B"]["support_percent"] == 75.0
    assert same["divergence"] is None
    # 75 % against exactly 50 %: a 25-point gap reaches the 25-point threshold.
    gap = consolidate_counts(
        "consensus",
        {"A": {"": consensus(full=3, mixed=1)}, "B": {"": consensus(full=2, disagree=2)}},
        RULE,
    )
    assert gap["divergence"]["wide_gap"] is True
    assert gap["divergence"]["gap_points"] == 25.0


def test_blocks_keep_a_well_supported_item_from_being_validated():
    figures = consolidate_counts(
        "consensus", {"A": {"": consensus(full=9, block=1)}, "B": {"": consensus(full=10)}}, RULE
    )
    assert figures["territories"]["A"]["outcome"] == "rework"  # 10 % blocks
    assert figures["territories"]["B"]["outcome"] == "validated"
    # 1 block in 20 ballots is 5 %: not strictly under the 5 % threshold.
    assert figures["overall"]["block_percent"] == 5.0
    assert figures["overall"]["outcome"] == "rework"
    # One more supporter somewhere and the single block weighs 1/21, under 5 %.
    more = consolidate_counts(
        "consensus", {"A": {"": consensus(full=9, block=1)}, "B": {"": consensus(full=11)}}, RULE
    )
    assert more["overall"]["outcome"] == "validated"


def test_groups_diverging_inside_a_territory_stay_visible_in_the_overall_figure():
    figures = consolidate_counts(
        "consensus",
        {
            "A": {"service_user": consensus(full=4), "social_worker": consensus(disagree=4)},
            "B": {"service_user": consensus(full=3), "social_worker": consensus(disagree=3)},
        },
        RULE,
    )
    territory = figures["territories"]["A"]
    assert territory["divergence"]["groups"] == ["service_user", "social_worker"]
    assert territory["divergence"]["gap_points"] == 100.0
    overall_groups = {g["group"]: g for g in figures["overall"]["groups"]}
    assert overall_groups["service_user"]["ballots"] == 7
    assert overall_groups["social_worker"]["support_percent"] == 0.0
    assert figures["overall"]["divergence"]["gap_points"] == 100.0
    # The territories agree with each other (both 50 %): no territorial divergence.
    assert figures["divergence"] is None


def test_territory_divergence_ignores_territories_without_ballots():
    assert territory_divergence({"A": "validated", "B": "no_votes"}, {"A": None}, 25) is None


# -- with real sessions -------------------------------------------------------------------


def test_items_in_field_order_with_numbers(app):
    with app.app_context():
        tree = build_tree()
        items = outline_items(tree.process)
        assert [(i.item_type, i.number) for i in items] == [
            ("hypothesis", "1.1"),
            ("hypothesis", "1.2"),
            ("finding", "1"),
            ("recommendation", "1.1"),
            ("action_path", "1.1"),
            ("action_path", "1.2"),
            ("action_paths", "1"),
            ("implementation_condition", "1.1"),
            ("finding", "2"),
            ("recommendation", "2.1"),
            ("finding", "3"),
            ("recommendation", "3.1"),
        ]
        assert items[-1].field_title == "Second field"


def test_consolidation_of_real_workshops(app):
    with app.app_context():
        tree = build_tree()
        liege, namur, mons = tree.territories
        rec1, rec2, _rec3 = tree.recommendations
        record_session(
            tree.process,
            "Liège workshop",
            [
                Vote("recommendation", rec1.id, ballots("service_user", full=4, reservations=4)
                     + ballots("social_worker", full=3, disagree=1)),
                Vote("recommendation", rec2.id, ballots("", full=2, disagree=2)),
            ],
            territory=liege,
        )  # fmt: skip
        namur_session = record_session(
            tree.process,
            "Namur workshop",
            [
                Vote("recommendation", rec1.id, ballots("service_user", full=5)
                     + ballots("social_worker", disagree=4, block=1)),
            ],
            territory=namur,
        )  # fmt: skip
        # Mons had the item on its agenda but never voted on it.
        record_session(
            tree.process, "Mons workshop", [Vote("recommendation", rec1.id, None)], territory=mons
        )
        db.session.add(
            Proposal(
                session_id=namur_session.id,
                kind="amendment",
                item_type="recommendation",
                item_id=rec1.id,
                text="Say it more plainly",
            )
        )
        db.session.commit()

        results = consolidate(tree.process)
        assert [c.key for c in results] == [
            ("recommendation", rec1.id),
            ("recommendation", rec2.id),
        ]
        first = results[0]
        assert first.method == "consensus"
        # In the order the process lists them (build_tree: Liège, Namur, Mons), not by name.
        assert [t.name for t in first.territories] == ["Liège", "Namur", "Mons"]
        by_name = {t.name: t for t in first.territories}
        assert by_name["Liège"].ballots == 12 and by_name["Liège"].outcome == "validated"
        assert by_name["Namur"].ballots == 10 and by_name["Namur"].outcome == "rework"
        assert by_name["Namur"].result["divergence"]["groups"] == ["service_user", "social_worker"]
        assert by_name["Mons"].ballots == 0 and by_name["Mons"].outcome == "no_votes"
        # 11 + 5 supporters of 22 ballots.
        assert first.overall["ballots"] == 22
        assert first.overall["support_percent"] == 72.7
        assert first.divergence["outcomes_differ"] is True
        assert first.divergence["wide_gap"] is True  # 91.6 % against 50 %
        assert [p.text for p in by_name["Namur"].proposals] == ["Say it more plainly"]
        assert [p.text for p in first.proposals] == ["Say it more plainly"]
        assert first.outcome_counts == {"validated": 1, "rework": 1}
        second = results[1]
        assert second.not_discussed == ["Namur", "Mons"]
        assert second.divergence is None


def test_only_the_latest_final_poll_of_a_session_counts(app):
    with app.app_context():
        tree = build_tree()
        rec1 = tree.recommendations[0]
        session = record_session(
            tree.process,
            "Twice",
            [Vote("recommendation", rec1.id, ballots("", disagree=5))],
            territory=tree.territories[0],
        )
        agenda_item = session.agenda[0]
        # A second vote on the same item after an amendment: closed, not published.
        poll = voting.open_poll(session, agenda_item, "consensus")
        for index in range(4):
            participant, _ = sessions.join(session.join_code)
            ballot_service.cast(
                participant.id, poll.id, f"again-ballot-{index}", {"answer": "full"}
            )
        voting.close_poll(poll)
        # A third one still open is not a result yet.
        voting.open_poll(session, agenda_item, "consensus")
        item = consolidate(tree.process, only=[("recommendation", rec1.id)])[0]
        territory = item.territories[0]
        assert territory.sessions[0].poll_id == poll.id
        assert (territory.ballots, territory.outcome) == (4, "validated")
        assert db.session.scalar(db.select(db.func.count(Poll.id))) == 3


def test_assemblies_and_other_methods_stay_out_of_the_workshop_figure(app):
    with app.app_context():
        tree = build_tree()
        rec1 = tree.recommendations[0]
        liege, namur, _mons = tree.territories
        record_session(
            tree.process, "A", [Vote("recommendation", rec1.id, ballots("", full=3))],
            territory=liege,
        )  # fmt: skip
        record_session(
            tree.process, "B", [Vote("recommendation", rec1.id, ballots("", full=1, mixed=1))],
            territory=namur,
        )  # fmt: skip
        yes_no = [("", {"answer": "no"})] * 3
        record_session(
            tree.process, "C", [Vote("recommendation", rec1.id, yes_no, method="yes_no")],
            territory=namur,
        )  # fmt: skip
        record_session(
            tree.process, "Plenary", [Vote("recommendation", rec1.id, ballots("", disagree=9))],
            session_kind="assembly",
        )  # fmt: skip
        item = consolidate(tree.process, only=[("recommendation", rec1.id)])[0]
        assert item.method == "consensus"
        assert item.overall["ballots"] == 5
        namur_result = next(t for t in item.territories if t.name == "Namur")
        assert [s.title for s in namur_result.other_method] == ["C"]
        assert namur_result.ballots == 2
        assert [s.title for s in namur_result.counted_sessions] == ["B"]


def test_sessions_without_territory_are_grouped_apart(app):
    with app.app_context():
        tree = build_tree()
        rec1 = tree.recommendations[0]
        record_session(
            tree.process, "Nowhere", [Vote("recommendation", rec1.id, ballots("", full=2))]
        )
        item = consolidate(tree.process, only=[("recommendation", rec1.id)])[0]
        assert [(t.territory_id, t.name, t.ballots) for t in item.territories] == [(None, "", 2)]
        assert item.not_discussed == ["Liège", "Namur", "Mons"]


# -- the page ----------------------------------------------------------------------------


def test_consolidation_page_needs_login_and_shows_table_chart_and_divergence(app, client):
    with app.app_context():
        tree = build_tree()
        organizer = make_organizer(tree.process)
        rec1 = tree.recommendations[0]
        record_session(
            tree.process,
            "Liège workshop",
            [Vote("recommendation", rec1.id, ballots("service_user", full=4)
                  + ballots("social_worker", disagree=4))],
            territory=tree.territories[0],
        )  # fmt: skip
        record_session(
            tree.process,
            "Namur workshop",
            [Vote("recommendation", rec1.id, ballots("", full=5))],
            territory=tree.territories[1],
        )
        slug, organizer_id, field_id = tree.process.slug, organizer.id, tree.fields[1].id
        rec1_id = rec1.id
    url = f"/organize/{slug}/consolidation"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    log_in(client, organizer_id)
    client.post("/lang/en")
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Liège workshop" in html and "Namur workshop" in html
    assert 'class="bar"' in html  # the chart: answers per territory
    # ... and every territory's support on one line, described for screen readers.
    assert 'aria-label="Liège 50.0 %, Namur 100.0 %"' in html
    assert "Territories disagree." in html  # rework (50 %) against validated (100 %)
    assert "Groups diverge" in html
    assert "70 %" in html  # the rule is stated with the process thresholds
    assert f"/trace/recommendation/{rec1_id}" in html
    # Another field: nothing voted there; a bad field id falls back with a message.
    assert "No item has been put to the vote" in client.get(f"{url}?field={field_id}").text
    assert client.get(f"{url}?field=99999").status_code == 200
    assert client.get("/organize/nope/consolidation").status_code == 404


# -- demonstration data ------------------------------------------------------------------


def test_demo_workshops_are_marked_idempotent_and_show_every_case(app):
    with app.app_context():
        tree = build_tree()
        lines = ensure_demo_sessions(tree.process)
        assert len(lines) == 3
        demo = list(db.session.scalars(db.select(LiveSession).order_by(LiveSession.id)))
        assert len(demo) == 3
        assert all(s.demo and s.title.startswith(DEMO_PREFIX) for s in demo)
        assert len({s.territory_id for s in demo}) == 3
        # Every ballot went through the voting service: counters match the ballots.

        ballots_cast = db.session.scalar(db.select(db.func.count(Ballot.id)))
        counted = db.session.scalar(
            db.select(db.func.sum(PollCount.count)).filter_by(key="#ballots")
        )
        assert ballots_cast == counted > 0

        results = consolidate(tree.process)
        assert len(results) == 4  # field 1's recommendations and action paths
        last = results[-1]
        assert [t.outcome for t in last.territories].count("no_votes") == 1
        assert any(
            t.result and t.result["divergence"] for c in results for t in c.territories
        )  # groups diverge somewhere
        assert all(c.overall["ballots"] > 0 for c in results)

        # Loading again changes nothing.
        assert ensure_demo_sessions(tree.process) == ["Demo workshops already there."]
        assert db.session.scalar(db.select(db.func.count(LiveSession.id))) == 3


def test_no_demo_workshops_into_a_process_with_sessions_of_its_own(app):
    with app.app_context():
        tree = build_tree()
        record_session(tree.process, "Ours", [], territory=tree.territories[0])
        assert "of its own" in ensure_demo_sessions(tree.process)[0]
        assert consolidate(tree.process) == []
