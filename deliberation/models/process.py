"""The authored tree of a process: fields, questions, hypotheses, expert inputs, findings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TITLE_MAX, Timestamped

DEFAULT_CONSENSUS_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "full": "Tout à fait d’accord",
        "reservations": "D’accord avec réserves",
        "mixed": "Partagé",
        "disagree": "Pas d’accord",
        "block": "Opposition ferme (blocage)",
    },
    "en": {
        "full": "Fully agree",
        "reservations": "Agree with reservations",
        "mixed": "Mixed",
        "disagree": "Disagree",
        "block": "Block",
    },
}

DEFAULT_GROUPS: list[str] = [
    "service_user",
    "social_worker",
    "employer",
    "public_official",
    "expert",
    "other",
]

STANCES = ("supports", "nuances", "contradicts")
# A plain-language summary is a few short sentences (easy-to-read mode on the phones).
PLAIN_SUMMARY_MAX = 1_000
EXPERT_ROLES = ("academic", "field_worker", "service_user", "institution", "other")


class PlainSummary:
    """An item put to the vote: the organisers may add a short plain-language summary, shown
    on the phones in the easy-to-read mode (« Facile à lire et à comprendre », docs/phones.md)
    above the full text, never instead of it."""

    plain_summary: Mapped[str] = mapped_column(Text, default="")


class Process(Timestamped, db.Model):
    __tablename__ = "process"
    __table_args__ = (
        CheckConstraint("length(title) > 0", name="process_title_not_empty"),
        CheckConstraint("length(slug) > 0", name="process_slug_not_empty"),
        CheckConstraint(
            "threshold_rework <= threshold_validated", name="process_thresholds_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    subtitle: Mapped[str] = mapped_column(Text, default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    steering_committee: Mapped[str] = mapped_column(Text, default="")
    # Outcome rule, in percent of ballots cast: support = fully agree + with reservations.
    threshold_validated: Mapped[int] = mapped_column(Integer, default=70)
    threshold_rework: Mapped[int] = mapped_column(Integer, default=50)
    threshold_block: Mapped[int] = mapped_column(Integer, default=5)
    divergence_points: Mapped[int] = mapped_column(Integer, default=25)
    # Labels of the consensus scale keyed by option (full, reservations, mixed, disagree, block);
    # empty means the defaults for the process language.
    consensus_labels: Mapped[dict] = mapped_column(JSON, default=dict)
    # How the console suggests prioritising a finding's action paths: one of the methods that
    # rank options (methods.PRIORITY_METHODS); None: the registry's default.
    priority_method: Mapped[str | None] = mapped_column(String(30), default=None)
    # Participant groups offered on the phone, as keys (labels are translated) or free labels.
    groups: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_GROUPS))
    # Second grid (États généraux): the two axes' names and values.
    grid: Mapped[dict] = mapped_column(JSON, default=dict)
    # The synthesis is readable by anyone at /p/<slug> only once an organiser publishes it.
    synthesis_published: Mapped[bool] = mapped_column(Boolean, default=False)
    # When it was last published (UTC), shown on the public home page; None while unpublished.
    synthesis_published_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    fields: Mapped[list[Field]] = relationship(
        back_populates="process", order_by="Field.position", cascade="all, delete-orphan"
    )
    # In the order the organisers listed them (as entered or imported): the consolidation
    # and the process file give them back in that order.
    territories: Mapped[list[Territory]] = relationship(
        back_populates="process", order_by="Territory.id", cascade="all, delete-orphan"
    )

    def labels(self) -> dict[str, str]:
        base = dict(DEFAULT_CONSENSUS_LABELS.get(self.language, DEFAULT_CONSENSUS_LABELS["en"]))
        base.update({k: v for k, v in (self.consensus_labels or {}).items() if v})
        return base


class Territory(db.Model):
    __tablename__ = "territory"
    __table_args__ = (UniqueConstraint("process_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(TITLE_MAX))
    process: Mapped[Process] = relationship(back_populates="territories")


class Field(Timestamped, db.Model):
    __tablename__ = "field"
    __table_args__ = (CheckConstraint("length(title) > 0", name="field_title_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the organisers last published its handouts (Recommandations, Éclairages) on the
    # process's public page; None: not published (docs/handouts-and-experts.md).
    handouts_published_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    process: Mapped[Process] = relationship(back_populates="fields")
    questions: Mapped[list[Question]] = relationship(
        back_populates="field", order_by="Question.position", cascade="all, delete-orphan"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="field", order_by="Finding.position", cascade="all, delete-orphan"
    )
    expert_inputs: Mapped[list[ExpertInput]] = relationship(
        back_populates="field", order_by="ExpertInput.position", cascade="all, delete-orphan"
    )


class Question(Timestamped, db.Model):
    __tablename__ = "question"
    __table_args__ = (CheckConstraint("length(text) > 0", name="question_text_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("field.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    field: Mapped[Field] = relationship(back_populates="questions")
    hypotheses: Mapped[list[Hypothesis]] = relationship(
        back_populates="question", order_by="Hypothesis.position", cascade="all, delete-orphan"
    )


class Hypothesis(PlainSummary, Timestamped, db.Model):
    __tablename__ = "hypothesis"
    __table_args__ = (CheckConstraint("length(text) > 0", name="hypothesis_text_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    # Second-grid tags (axis value names), optional.
    grid_row: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    grid_col: Mapped[str] = mapped_column(String(TITLE_MAX), default="")

    question: Mapped[Question] = relationship(back_populates="hypotheses")
    stances: Mapped[list[ExpertStance]] = relationship(
        back_populates="hypothesis", cascade="all, delete-orphan"
    )


class ExpertInput(Timestamped, db.Model):
    __tablename__ = "expert_input"
    __table_args__ = (CheckConstraint("length(author) > 0", name="expert_author_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("field.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    author: Mapped[str] = mapped_column(String(TITLE_MAX))
    role: Mapped[str] = mapped_column(String(40), default="other")
    affiliation: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    field: Mapped[Field] = relationship(back_populates="expert_inputs")
    stances: Mapped[list[ExpertStance]] = relationship(
        back_populates="expert_input", cascade="all, delete-orphan"
    )


class ExpertStance(db.Model):
    """How one expert input stands towards one hypothesis."""

    __tablename__ = "expert_stance"
    __table_args__ = (
        UniqueConstraint("expert_input_id", "hypothesis_id"),
        CheckConstraint(
            "stance IN ('supports', 'nuances', 'contradicts')", name="expert_stance_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_input_id: Mapped[int] = mapped_column(ForeignKey("expert_input.id", ondelete="CASCADE"))
    hypothesis_id: Mapped[int] = mapped_column(ForeignKey("hypothesis.id", ondelete="CASCADE"))
    stance: Mapped[str] = mapped_column(String(20))
    # The expert's sentence saying why (optional when an organiser types the input).
    justification: Mapped[str] = mapped_column(Text, default="")

    expert_input: Mapped[ExpertInput] = relationship(back_populates="stances")
    hypothesis: Mapped[Hypothesis] = relationship(back_populates="stances")


class Finding(PlainSummary, Timestamped, db.Model):
    """A numbered statement ("constat"); its number runs across the process in field order."""

    __tablename__ = "finding"
    __table_args__ = (CheckConstraint("length(text) > 0", name="finding_text_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("field.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    # Question this finding answers, for traceability (optional).
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("question.id", ondelete="SET NULL"), nullable=True
    )

    field: Mapped[Field] = relationship(back_populates="findings")
    question: Mapped[Question | None] = relationship()
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="finding", order_by="Recommendation.position", cascade="all, delete-orphan"
    )
    action_paths: Mapped[list[ActionPath]] = relationship(
        back_populates="finding", order_by="ActionPath.position", cascade="all, delete-orphan"
    )
    conditions: Mapped[list[ImplementationCondition]] = relationship(
        back_populates="finding",
        order_by="ImplementationCondition.position",
        cascade="all, delete-orphan",
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="finding", order_by="Note.position", cascade="all, delete-orphan"
    )


class _FindingChild:
    """Columns shared by the ordered text items under a finding."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    grid_row: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    grid_col: Mapped[str] = mapped_column(String(TITLE_MAX), default="")


class Recommendation(PlainSummary, _FindingChild, Timestamped, db.Model):
    __tablename__ = "recommendation"
    __table_args__ = (CheckConstraint("length(text) > 0", name="recommendation_text_not_empty"),)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    finding: Mapped[Finding] = relationship(back_populates="recommendations")


class ActionPath(PlainSummary, _FindingChild, Timestamped, db.Model):
    __tablename__ = "action_path"
    __table_args__ = (CheckConstraint("length(text) > 0", name="action_path_text_not_empty"),)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    finding: Mapped[Finding] = relationship(back_populates="action_paths")


class ImplementationCondition(PlainSummary, _FindingChild, Timestamped, db.Model):
    __tablename__ = "implementation_condition"
    __table_args__ = (CheckConstraint("length(text) > 0", name="condition_text_not_empty"),)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    finding: Mapped[Finding] = relationship(back_populates="conditions")


class Note(_FindingChild, Timestamped, db.Model):
    """A footnote of a finding. Item texts refer to it with a ``[^n]`` marker (n = position+1)."""

    __tablename__ = "note"
    __table_args__ = (CheckConstraint("length(text) > 0", name="note_text_not_empty"),)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    finding: Mapped[Finding] = relationship(back_populates="notes")
