"""Small process trees for the consolidation, assembly, traceability and grid tests."""

from __future__ import annotations

from dataclasses import dataclass

from deliberation.extensions import db
from deliberation.models import (
    ActionPath,
    ExpertInput,
    ExpertStance,
    Field,
    Finding,
    Hypothesis,
    ImplementationCondition,
    Organizer,
    Process,
    Question,
    Recommendation,
    Territory,
)
from deliberation.services.people import membership


@dataclass
class Tree:
    process: Process
    fields: list[Field]
    questions: list[Question]
    hypotheses: list[Hypothesis]
    findings: list[Finding]
    recommendations: list[Recommendation]
    action_paths: list[ActionPath]
    conditions: list[ImplementationCondition]
    expert: ExpertInput
    territories: list[Territory]


def build_tree(slug: str = "assises", territories: tuple[str, ...] = ("Liège", "Namur", "Mons")):
    """Two fields; field 1 with one question (2 hypotheses) and two findings; field 2 one finding.

    Fields are created in reverse so that ``position``, not id, has to give the order.
    """
    process = Process(slug=slug, title="Assises de test", language="en")
    db.session.add(process)
    field2 = Field(process=process, position=1, title="Second field")
    field1 = Field(process=process, position=0, title="First field")
    db.session.add_all([field2, field1])
    question = Question(field=field1, position=0, text="How to accompany?")
    hyp1 = Hypothesis(question=question, position=0, text="Hypothesis one")
    hyp2 = Hypothesis(question=question, position=1, text="Hypothesis two")
    finding1 = Finding(field=field1, position=0, text="Finding one", question=question)
    finding2 = Finding(field=field1, position=1, text="Finding two")
    finding3 = Finding(field=field2, position=0, text="Finding three")
    rec1 = Recommendation(finding=finding1, position=0, text="Recommendation one")
    path1 = ActionPath(finding=finding1, position=0, text="Action path one")
    path2 = ActionPath(finding=finding1, position=1, text="Action path two")
    cond1 = ImplementationCondition(finding=finding1, position=0, text="Condition one")
    rec2 = Recommendation(finding=finding2, position=0, text="Recommendation two")
    rec3 = Recommendation(finding=finding3, position=0, text="Recommendation three")
    expert = ExpertInput(field=field1, position=0, author="Dr Expert", title="An input")
    db.session.add_all(
        [question, hyp1, hyp2, finding1, finding2, finding3, rec1, path1, path2, cond1, rec2]
    )
    db.session.add_all([rec3, expert])
    db.session.add(ExpertStance(expert_input=expert, hypothesis=hyp1, stance="supports"))
    db.session.add(ExpertStance(expert_input=expert, hypothesis=hyp2, stance="contradicts"))
    places = [Territory(process=process, name=name) for name in territories]
    db.session.add_all(places)
    db.session.commit()
    return Tree(
        process=process,
        fields=[field1, field2],
        questions=[question],
        hypotheses=[hyp1, hyp2],
        findings=[finding1, finding2, finding3],
        recommendations=[rec1, rec2, rec3],
        action_paths=[path1, path2],
        conditions=[cond1],
        expert=expert,
        territories=places,
    )


def make_organizer(owner_of: Process | None = None, email: str = "org@example.org") -> Organizer:
    """An organiser account; with ``owner_of``, the owner of that process."""
    organizer = Organizer(email=email, name="Org")
    organizer.set_password("a-long-password")
    db.session.add(organizer)
    db.session.commit()
    if owner_of is not None:
        membership.add_member(owner_of, organizer, "owner")
    return organizer


def log_in(client, organizer_id: int) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = f"{organizer_id}:0"  # Organizer.get_id(): id:epoch
        session["_fresh"] = True
