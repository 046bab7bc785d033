"""Load a whole process tree in a handful of queries (one per level), not one per item."""

from __future__ import annotations

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ExpertInput, ExpertStance, Field, Finding, Process, Question


def load_process_tree(process: Process) -> Process:
    """The same process with fields, questions, hypotheses, expert inputs, stances and
    findings with all their children loaded eagerly."""
    fields = selectinload(Process.fields)
    options = [
        selectinload(Process.territories),
        fields.selectinload(Field.questions).selectinload(Question.hypotheses),
        fields.selectinload(Field.expert_inputs)
        .selectinload(ExpertInput.stances)
        .selectinload(ExpertStance.hypothesis),
        fields.selectinload(Field.findings).selectinload(Finding.recommendations),
        fields.selectinload(Field.findings).selectinload(Finding.action_paths),
        fields.selectinload(Field.findings).selectinload(Finding.conditions),
        fields.selectinload(Field.findings).selectinload(Finding.notes),
    ]
    loaded = db.session.scalars(
        db.select(Process).where(Process.id == process.id).options(*options)
    ).one()
    return loaded
