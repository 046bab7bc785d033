"""One rule for an item's final outcome: the Synthèse, the open data, the consolidation and the
traceability pages all read it from the same place."""

from __future__ import annotations

import re

import docx
from consolidation_data import build_tree, log_in, make_organizer

from deliberation.documents.synthesis import build_synthesis
from deliberation.extensions import db
from deliberation.models import Poll
from deliberation.services.consolidation import assembly
from deliberation.services.consolidation.consolidation import consolidate
from deliberation.services.consolidation.outcomes import item_outcomes, outcome_line
from deliberation.services.demo.demo_sessions import Vote, record_session
from deliberation.services.live import voting
from deliberation.services.publishing import opendata


def ballots(**answers: int) -> list[tuple[str, dict]]:
    return [("", {"answer": a}) for a, n in answers.items() for _ in range(n)]


def record(tree):
    """Workshops in Liège and Namur on three items, then an assembly that publishes its vote
    on rec2 and only closes its vote on path1."""
    rec1, rec2, _rec3 = tree.recommendations
    path1 = tree.action_paths[0]
    record_session(
        tree.process,
        "Workshop Liège",
        [
            Vote("recommendation", rec1.id, ballots(full=4, disagree=1)),
            Vote("recommendation", rec2.id, ballots(full=1, disagree=4)),
            Vote("action_path", path1.id, ballots(full=5)),
        ],
        territory=tree.territories[0],
    )
    record_session(
        tree.process,
        "Workshop Namur",
        [
            # Voted twice in this session: only the later vote counts.
            Vote("recommendation", rec1.id, ballots(full=5)),
            Vote("recommendation", rec1.id, ballots(full=1, reservations=1, disagree=3)),
            Vote("recommendation", rec2.id, ballots(mixed=2, disagree=3)),
            Vote("action_path", path1.id, ballots(full=4, mixed=1)),
        ],
        territory=tree.territories[1],
    )
    record_session(
        tree.process,
        "General assembly",
        [
            Vote("recommendation", rec2.id, ballots(full=8, reservations=1, disagree=1)),
            Vote("action_path", path1.id, ballots(disagree=6), publish=False),
        ],
        session_kind="assembly",
    )
    return rec1, rec2, path1


def outcome_paragraphs(process, tmp_path) -> list[str]:
    path = tmp_path / "synthesis.docx"
    build_synthesis(process).save(str(path))
    return [
        p.text for p in docx.Document(str(path)).paragraphs if p.style.name.startswith("Outcome")
    ]


def summary_row(html: str, item_type: str, item_id: int) -> str:
    """The consolidation summary table's row of one item."""
    match = re.search(
        rf'<tr>\s*<th scope="row"><a href="#{item_type}-{item_id}">.*?</tr>', html, re.S
    )
    assert match, f"no summary row for {item_type} {item_id}"
    return match.group(0)


def trace_entry(html: str, item_type: str, item_id: int) -> str:
    match = re.search(
        rf'<li class="traced"><a href="[^"]*/trace/{item_type}/{item_id}".*?</li>', html, re.S
    )
    assert match, f"no traceability entry for {item_type} {item_id}"
    return match.group(0)


def test_synthesis_consolidation_and_final_status_agree(app, client, tmp_path):
    with app.app_context():
        tree = build_tree()
        organizer = make_organizer(tree.process)
        rec1, rec2, path1 = record(tree)
        process = tree.process
        outcomes = item_outcomes(process)
        statuses = assembly.final_status(process)
        consolidated = {c.key: c for c in consolidate(process)}
        lines = outcome_paragraphs(process, tmp_path)
        published = {
            (i["item_type"], i["item_id"]): i for i in opendata.aggregates(process)["items"]
        }
        slug, organizer_id = process.slug, organizer.id

        # The published assembly vote decides rec2, whatever the workshops said.
        assert set(statuses) == {("recommendation", rec2.id)}
        final = statuses[("recommendation", rec2.id)]
        decided = outcomes[("recommendation", rec2.id)]
        assert (decided.where, decided.outcome, decided.ballots) == ("assembly", "validated", 10)
        assert (final.status, final.ballots) == ("validated", 10)
        assert decided.summary == final.summary
        assert consolidated[("recommendation", rec2.id)].overall["outcome"] == "rejected"
        assert (
            "Validated in the general assembly, 10 votes — 90% support, 0% blocks: support "
            "reaches 70% and blocks stay under 5% → validated" in lines
        )

        # path1: the assembly only closed its vote (6 against): the workshops' figure stands.
        path_outcome = outcomes[("action_path", path1.id)]
        assert path_outcome.where == "workshops"
        assert (path_outcome.outcome, path_outcome.ballots) == ("validated", 10)
        assert (
            "Validated in workshops (2), 10 votes — 90% support, 0% blocks: support reaches 70% "
            "and blocks stay under 5% → validated" in lines
        )
        assert not any("Rejected" in line for line in lines)

        # rec1: Liège 4 of 5, Namur's later vote 2 of 5 (its first vote is not counted):
        # 6 of 10 over both territories, to rework under the 70 % threshold.
        rec1_outcome = outcomes[("recommendation", rec1.id)]
        assert (rec1_outcome.workshops, rec1_outcome.territories) == (2, 2)
        assert (rec1_outcome.outcome, rec1_outcome.ballots) == ("rework", 10)
        assert (
            "To rework in workshops (2), 10 votes — 60% support, 0% blocks: support under the "
            "validation threshold of 70%, at least 50% → to rework" in lines
        )

        # Workshop-decided items carry exactly the consolidation's overall figure, and every
        # outcome line of the Synthèse is the one item_outcomes gives; so does the open data.
        for key in (("recommendation", rec1.id), ("action_path", path1.id)):
            assert outcomes[key].summary == consolidated[key].overall
        assert sorted(lines) == sorted(outcome_line(o, "en") for o in outcomes.values())
        for key, found in outcomes.items():
            assert (published[key]["where"], published[key]["outcome"]) == (
                found.where,
                found.outcome,
            )

    log_in(client, organizer_id)
    page = client.get(f"/organize/{slug}/consolidation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key in (("recommendation", rec1.id), ("action_path", path1.id)):
        row = summary_row(html, *key)
        assert f"outcome-{outcomes[key].outcome}" in row
        assert f"<td>{outcomes[key].ballots}</td>" in row
        # The page writes numbers in its language (French here: a decimal comma).
        assert f"{outcomes[key].support_percent:.1f}&nbsp;%".replace(".", ",") in row
    traces = client.get(f"/organize/{slug}/traceability").get_data(as_text=True)
    assert "outcome-validated" in trace_entry(traces, "recommendation", rec2.id)
    assert "outcome-" not in trace_entry(traces, "action_path", path1.id)

    # Once the room sees the assembly's vote on path1, it decides, everywhere at once.
    with app.app_context():
        process = db.session.merge(process)
        poll = db.session.scalar(
            db.select(Poll).filter(Poll.state == "closed").order_by(Poll.id.desc()).limit(1)
        )
        voting.publish_poll(poll, actor="test")
        outcomes = item_outcomes(process)
        key = ("action_path", path1.id)
        assert outcomes[key].where == "assembly"
        assert assembly.final_status(process)[key].status == outcomes[key].outcome == "rejected"
        lines = outcome_paragraphs(process, tmp_path)
        assert (
            "Rejected in the general assembly, 6 votes — 0% support, 0% blocks: support under 50%"
            " → rejected" in lines
        )
        assert (
            "Validated in workshops (2), 10 votes — 90% support, 0% blocks: support reaches 70% "
            "and blocks stay under 5% → validated" not in lines
        )
