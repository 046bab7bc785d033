"""Small builders for the live-session tests: a process tree, a session, participants."""

from __future__ import annotations

import uuid

from deliberation.extensions import db
from deliberation.models import (
    ActionPath,
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
from deliberation.services.live import sessions
from deliberation.services.people import membership


def make_process(slug: str = "assises", language: str = "en") -> Process:
    """Two fields; field 1 has 2 questions × 2 hypotheses and 2 findings, each with
    2 recommendations, 2 action paths and 1 condition; field 2 has one finding."""
    process = Process(slug=slug, title="Assises", language=language)
    db.session.add(process)
    db.session.flush()
    db.session.add(Territory(process_id=process.id, name="Liège"))
    for field_number in (1, 2):
        field = Field(
            process_id=process.id, position=field_number - 1, title=f"Field {field_number}"
        )
        db.session.add(field)
        db.session.flush()
        if field_number == 2:
            db.session.add(Finding(field_id=field.id, position=0, text="Field two finding"))
            continue
        for q in range(2):
            question = Question(field_id=field.id, position=q, text=f"Question {q + 1}?")
            db.session.add(question)
            db.session.flush()
            for h in range(2):
                db.session.add(
                    Hypothesis(question_id=question.id, position=h, text=f"Hypothesis {q}.{h}")
                )
        for f in range(2):
            finding = Finding(field_id=field.id, position=f, text=f"Finding text {f + 1}")
            db.session.add(finding)
            db.session.flush()
            for k in range(2):
                db.session.add(Recommendation(finding_id=finding.id, position=k, text=f"Rec {k}"))
                db.session.add(ActionPath(finding_id=finding.id, position=k, text=f"Path {k}"))
            db.session.add(
                ImplementationCondition(finding_id=finding.id, position=0, text="Condition")
            )
    db.session.commit()
    return process


def first_field(process: Process) -> Field:
    return db.session.scalar(db.select(Field).filter_by(process_id=process.id, position=0))


def workshop(process: Process, title: str = "Workshop"):
    return sessions.create_session(process, "workshop", title, field_id=first_field(process).id)


def free_item(session, text: str = "Shall we?"):
    return sessions.add_agenda_item(session, "free", text=text)


def ballot_id() -> str:
    return uuid.uuid4().hex


def voters(session, groups: list[str]) -> list:
    """One participant per group name given ('' for none)."""
    return [sessions.join(session.join_code, f"P{i}", group)[0] for i, group in enumerate(groups)]


def make_member(process_id: int, organizer_id: int, role: str = "owner", territory_id=None):
    """Give an organiser a role in a process: nobody but a member may touch it."""
    process = db.session.get(Process, process_id)
    organizer = db.session.get(Organizer, organizer_id)
    return membership.add_member(process, organizer, role, territory_id)


def announce(session_id: int) -> None:
    """What the facilitator's action table does after every change (live/actions.py): the
    new state to the session's screens — and to the phones' kept state (live/phone_states)."""
    from deliberation.live import broadcast

    broadcast.session_changed(session_id)
