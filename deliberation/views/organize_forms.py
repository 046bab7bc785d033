"""The organiser's forms and the labels they show. The forms carry the CSRF token and render
the inputs; the rules (empty, too long, slug format…) live in the authoring services, which
give the messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from ..models import EXPERT_ROLES, PLAIN_SUMMARY_MAX, TEXT_MAX, TITLE_MAX
from .live_common import group_labels

# Generous browser-side limits: the services give the exact message when they are exceeded.
TITLE_ATTRS = {"maxlength": TITLE_MAX * 2}
TEXT_ATTRS = {"rows": 6, "data-preview": "1", "maxlength": TEXT_MAX}

STANCE_LABELS = {
    "supports": _l("supports"),
    "nuances": _l("nuances"),
    "contradicts": _l("contradicts"),
}
ROLE_LABELS = {
    "academic": _l("Academic"),
    "field_worker": _l("Field worker"),
    "service_user": _l("Service user"),
    "institution": _l("Institution"),
    "other": _l("Other"),
}


class ProcessCreateForm(FlaskForm):
    title = StringField(_l("Title"), render_kw=TITLE_ATTRS)
    slug = StringField(
        _l("Address (slug)"),
        description=_l("Lower-case letters, digits and hyphens, e.g. assises-2025."),
        render_kw={"maxlength": 160, "pattern": "[a-z0-9]+(-[a-z0-9]+)*"},
    )
    language = SelectField(_l("Language"), choices=[("fr", "Français"), ("en", "English")])


class ProcessSettingsForm(FlaskForm):
    title = StringField(_l("Title"), render_kw=TITLE_ATTRS)
    subtitle = StringField(_l("Subtitle"), render_kw=TITLE_ATTRS)
    language = SelectField(_l("Language"), choices=[("fr", "Français"), ("en", "English")])
    introduction = TextAreaField(
        _l("Introduction (the socio-political stakes)"),
        render_kw={**TEXT_ATTRS, "rows": 10},
    )
    steering_committee = TextAreaField(_l("Steering committee"), render_kw=TEXT_ATTRS)
    threshold_validated = StringField(
        _l("Validated when support reaches (%)"), render_kw={"inputmode": "numeric"}
    )
    threshold_rework = StringField(
        _l("To be reworked when support reaches (%)"), render_kw={"inputmode": "numeric"}
    )
    threshold_block = StringField(
        _l("Blocks must stay under (%) to validate; at or above: to rework"),
        render_kw={"inputmode": "numeric"},
    )
    divergence_points = StringField(
        _l("Groups diverge when their support differs by (points)"),
        render_kw={"inputmode": "numeric"},
    )
    label_full = StringField(_l("Fully agree"), render_kw=TITLE_ATTRS)
    label_reservations = StringField(_l("Agree with reservations"), render_kw=TITLE_ATTRS)
    label_mixed = StringField(_l("Mixed"), render_kw=TITLE_ATTRS)
    label_disagree = StringField(_l("Disagree"), render_kw=TITLE_ATTRS)
    label_block = StringField(_l("Block"), render_kw=TITLE_ATTRS)
    groups = TextAreaField(
        _l("Participant groups, one per line"), render_kw={"rows": 6, "maxlength": 4000}
    )
    # Choices from the vote-method registry (set by the view); the service checks the value.
    priority_method = SelectField(
        _l("Vote method suggested for a finding's action paths"), validate_choice=False
    )


def groups_as_lines(keys: list[str]) -> str:
    """The groups as an organiser reads them: the default groups by their translated names,
    never their storage keys (``service_user``)."""
    labels = group_labels()
    return "\n".join(labels.get(key, key) for key in keys)


def groups_from_lines(text: str | list[str]) -> list[str]:
    """Back from names to what is stored: a default group's name (or key) gives its key, so
    phones and documents keep translating it; any other name is kept as typed. (A form posted
    without the box keeps the process's list, which the form took from the process.)"""
    lines = text.splitlines() if isinstance(text, str) else [str(line) for line in text]
    keys = {
        spelling.casefold(): key
        for key, label in group_labels().items()
        if key
        for spelling in (key, str(label))
    }
    return [keys.get(" ".join(line.split()).casefold(), line) for line in lines]


class FieldForm(FlaskForm):
    title = StringField(_l("Title"), render_kw=TITLE_ATTRS)
    description = TextAreaField(_l("Description (Markdown)"), render_kw=TEXT_ATTRS)
    illustrative = BooleanField(_l("Illustrative (not from the source text)"))


class TextItemForm(FlaskForm):
    text = TextAreaField(_l("Text (Markdown)"), render_kw=TEXT_ATTRS)


class QuestionForm(TextItemForm):
    illustrative = BooleanField(_l("Illustrative (not from the source text)"))


class VotedItemForm(TextItemForm):
    """An item that may be put to the vote: its text, and the plain-language summary the
    phones show in the easy-to-read mode (plain text: no Markdown to learn)."""

    plain_summary = TextAreaField(
        _l("Plain-language summary (optional)"),
        description=_l(
            "A few short sentences in everyday words, as plain text. The phones show it in "
            "the easy-to-read mode, above the full text."
        ),
        render_kw={"rows": 3, "maxlength": PLAIN_SUMMARY_MAX},
    )


class FindingForm(VotedItemForm):
    question_id = SelectField(_l("Answers the question"), choices=[], validate_choice=False)


class ExpertInputForm(FlaskForm):
    author = StringField(_l("Author"), render_kw=TITLE_ATTRS)
    role = SelectField(_l("Role"), choices=[(role, ROLE_LABELS[role]) for role in EXPERT_ROLES])
    affiliation = StringField(_l("Affiliation"), render_kw=TITLE_ATTRS)
    title = StringField(_l("Title"), render_kw=TITLE_ATTRS)
    text = TextAreaField(_l("Text (Markdown)"), render_kw={**TEXT_ATTRS, "rows": 10})
    references = TextAreaField(_l("References (Markdown)"), render_kw=TEXT_ATTRS)
    illustrative = BooleanField(_l("Illustrative (not from the source text)"))


class TerritoryForm(FlaskForm):
    name = StringField(_l("Territory"), render_kw=TITLE_ATTRS)


class ConfirmForm(FlaskForm):
    """An empty form: only the CSRF token, for buttons that change something."""


FORMS: dict[str, type[FlaskForm]] = {
    "field": FieldForm,
    "question": QuestionForm,
    "hypothesis": VotedItemForm,
    "expert_input": ExpertInputForm,
    "finding": FindingForm,
    "recommendation": VotedItemForm,
    "action_path": VotedItemForm,
    "implementation_condition": VotedItemForm,
    "note": TextItemForm,
}
