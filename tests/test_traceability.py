"""Traceability: one page (and one data structure for the Actes) per recommendation."""

from __future__ import annotations

import pytest
from consolidation_data import build_tree, log_in, make_organizer

from deliberation.extensions import db
from deliberation.models import Proposal
from deliberation.services.authoring import versions
from deliberation.services.consolidation import traceability
from deliberation.services.demo.demo_sessions import Vote, record_session


def ballots(**answers: int) -> list[tuple[str, dict]]:
    return [("", {"answer": a}) for a, n in answers.items() for _ in range(n)]


def test_trace_gathers_question_experts_votes_amendments_versions_and_assembly(app):
    with app.app_context():
        tree = build_tree()
        rec1 = tree.recommendations[0]
        versions.record_version(rec1, "created", "org")
        liege = record_session(
            tree.process,
            "Atelier Liège",
            [Vote("recommendation", rec1.id, ballots(full=6, mixed=1))],
            territory=tree.territories[0],
        )
        record_session(
            tree.process,
            "Atelier Namur",
            [Vote("recommendation", rec1.id, ballots(disagree=3))],
            territory=tree.territories[1],
        )
        proposal = Proposal(
            session_id=liege.id,
            kind="amendment",
            item_type="recommendation",
            item_id=rec1.id,
            text="Add the word 'together'",
            status="adopted",
        )
        db.session.add(proposal)
        rec1.text = "Recommendation one, together"
        versions.record_version(rec1, "amendment", "floor", session_id=liege.id)
        db.session.commit()
        plenary = record_session(
            tree.process,
            "AG",
            [Vote("recommendation", rec1.id, ballots(full=9, disagree=1))],
            session_kind="assembly",
        )

        trace = traceability.trace(tree.process, "recommendation", rec1.id)
        assert trace.question.text == "How to accompany?"
        assert (trace.finding_number, trace.number, trace.question_number) == ("1", "1.1", "1")
        assert [h.number for h in trace.hypotheses] == ["1.1", "1.2"]
        assert [(v.expert_input.author, v.stance) for v in trace.hypotheses[0].experts] == [
            ("Dr Expert", "supports")
        ]
        assert trace.hypotheses[1].experts[0].stance == "contradicts"
        assert [e.author for e in trace.expert_inputs] == ["Dr Expert"]
        by_name = {t.name: t for t in trace.consolidation.territories}
        assert by_name["Liège"].outcome == "validated"
        assert by_name["Namur"].outcome == "rejected"
        assert [(p.proposal.text, p.territory) for p in trace.proposals] == [
            ("Add the word 'together'", "Liège")
        ]
        assert [(v.version.number, v.version.kind, v.session_title) for v in trace.versions] == [
            (1, "created", ""),
            (2, "amendment", "Atelier Liège"),
        ]
        assert trace.final.status == "validated"
        assert trace.final.session_id == plenary.id


def test_trace_without_question_or_votes_is_still_a_trace(app):
    with app.app_context():
        tree = build_tree()
        rec2 = tree.recommendations[1]  # finding two answers no question
        trace = traceability.trace(tree.process, "recommendation", rec2.id)
        assert trace.question is None and trace.hypotheses == []
        assert trace.consolidation is None and trace.final is None
        assert trace.proposals == [] and trace.versions == []


def test_action_path_trace_carries_the_dot_vote_ranking(app):
    with app.app_context():
        tree = build_tree()
        path1, path2 = tree.action_paths
        finding = tree.findings[0]
        options = [{"key": f"ap{p.id}", "label": p.text} for p in (path1, path2)]
        dots = [("", {"dots": {f"ap{path1.id}": 2, f"ap{path2.id}": 1}})] * 3
        record_session(
            tree.process,
            "Dots",
            [Vote("action_paths", finding.id, dots, method="dot", options=options)],
            territory=tree.territories[0],
        )
        trace = traceability.trace(tree.process, "action_path", path1.id)
        assert trace.priority_key == f"ap{path1.id}"
        answers = {a["key"]: a["count"] for a in trace.priorities.overall["answers"]}
        assert answers == {f"ap{path1.id}": 6, f"ap{path2.id}": 3}


def test_traces_in_field_order_and_refusals(app):
    with app.app_context():
        tree = build_tree()
        other = build_tree(slug="other", territories=())
        found = traceability.traces(tree.process)
        assert [(t.item_type, t.number) for t in found] == [
            ("recommendation", "1.1"),
            ("action_path", "1.1"),
            ("action_path", "1.2"),
            ("recommendation", "2.1"),
            ("recommendation", "3.1"),
        ]
        with pytest.raises(traceability.TraceError):
            traceability.trace(tree.process, "recommendation", other.recommendations[0].id)
        with pytest.raises(traceability.TraceError):
            traceability.trace(tree.process, "finding", tree.findings[0].id)
        with pytest.raises(traceability.TraceError):
            traceability.trace(tree.process, "recommendation", 99999)


# -- the pages ---------------------------------------------------------------------------


def test_trace_pages(app, client):
    with app.app_context():
        tree = build_tree()
        organizer = make_organizer(tree.process)
        rec1 = tree.recommendations[0]
        record_session(
            tree.process,
            "Atelier Liège",
            [Vote("recommendation", rec1.id, ballots(full=3))],
            territory=tree.territories[0],
        )
        record_session(
            tree.process,
            "AG",
            [Vote("recommendation", rec1.id, ballots(full=5))],
            session_kind="assembly",
        )
        slug, organizer_id, finding_id = tree.process.slug, organizer.id, tree.findings[0].id
        rec1_id = rec1.id
    assert client.get(f"/organize/{slug}/traceability").status_code == 302
    log_in(client, organizer_id)
    client.post("/lang/en")
    listing = client.get(f"/organize/{slug}/traceability")
    assert listing.status_code == 200
    assert f"/trace/recommendation/{rec1_id}" in listing.text
    page = client.get(f"/organize/{slug}/trace/recommendation/{rec1_id}")
    assert page.status_code == 200
    for expected in ("How to accompany?", "Hypothesis one", "Dr Expert", "contradicts",
                     "Atelier Liège", "AG", "Validated"):  # fmt: skip
        assert expected in page.text
    assert client.get(f"/organize/{slug}/trace/finding/{finding_id}").status_code == 404
    assert client.get(f"/organize/{slug}/trace/recommendation/999999").status_code == 404
