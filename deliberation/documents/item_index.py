"""The labels the Actes give the items a poll, a version or a proposal is about."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask_babel import force_locale, gettext

from .. import methods
from ..extensions import db
from ..models import LiveSession, Process, Proposal
from ..models.item_types import ITEM_TYPES
from ..services.authoring.numbering import numbered_label
from ..wording import code_label
from .docxkit import excerpt

# Every type of item hung under a finding, in the order of the outline.
FINDING_CHILD_TYPES = tuple(key for key, entry in ITEM_TYPES.items() if entry.parent == "finding")


# A label quotes its item's whole text (Markdown marks dropped) up to this length.
FULL_TEXT = 2000


class ItemIndex:
    """Labels of every authored item, to name what a poll or a version is about: its type
    and number as the room saw them ("Recommandation 3.1 — text"), then its text; and the
    grades of the vote methods, in the process's language."""

    def __init__(self, process: Process, numbers: dict[int, int], w: dict[str, str]) -> None:
        self.labels: dict[tuple[str, int], str] = {}
        self.ids: dict[str, list[int]] = defaultdict(list)
        lang = process.language
        with force_locale(lang or "fr"):

            def named(item_type: str, item: Any, text: str) -> str:
                prefix = numbered_label(item_type, item, numbers, gettext)
                return f"{prefix} — {text}" if prefix else text

            for field_ in process.fields:
                self._add("field", field_.id, field_.title)
                for question in field_.questions:
                    self._add("question", question.id, question.text)
                    for hypothesis in question.hypotheses:
                        text = excerpt(hypothesis.text, FULL_TEXT)
                        self._add(
                            "hypothesis", hypothesis.id, named("hypothesis", hypothesis, text)
                        )
                for expert in field_.expert_inputs:
                    self._add("expert_input", expert.id, expert.title or expert.author)
                for finding in field_.findings:
                    prefix = w["finding"].format(n=numbers.get(finding.id, 0))
                    text = excerpt(finding.text, FULL_TEXT)
                    self._add("finding", finding.id, f"{prefix} — {text}")
                    for item_type in FINDING_CHILD_TYPES:
                        for child in getattr(finding, ITEM_TYPES[item_type].siblings):
                            text = excerpt(child.text, FULL_TEXT)
                            self._add(item_type, child.id, named(item_type, child, text))
            # Grade keys ("good") never reach a document: their words in its language.
            self.grades: dict[str, str] = {}
            for method in methods.METHODS:
                if method.grade_keys:
                    self.grades.update(method.answer_labels(process))
        # Amendments put to the vote are agenda items too (not authored items).
        self.proposals: dict[tuple[str, int], str] = {}
        amendment = code_label("amendment", process.language).capitalize()
        for proposal_id, text in db.session.execute(
            db.select(Proposal.id, Proposal.text)
            .join(LiveSession, Proposal.session_id == LiveSession.id)
            .where(LiveSession.process_id == process.id, Proposal.kind == "amendment")
        ):
            self.proposals[("amendment", proposal_id)] = f"{amendment} — {excerpt(text, FULL_TEXT)}"

    def _add(self, item_type: str, item_id: int, label: str) -> None:
        self.labels[(item_type, item_id)] = label
        self.ids[item_type].append(item_id)

    def label(self, item_type: str, item_id: int | None, fallback: str = "") -> str:
        if item_id is not None and (item_type, item_id) in self.labels:
            return self.labels[(item_type, item_id)]
        if item_id is not None and (item_type, item_id) in self.proposals:
            return self.proposals[(item_type, item_id)]
        return excerpt(fallback, 100) or item_type
