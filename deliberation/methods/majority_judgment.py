"""Majority judgment (Balinski & Laraki): see :mod:`deliberation.tally.majority_judgment`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..tally import majority_judgment as tally
from . import verdict
from .base import Display, DocumentText, InvalidChoice, VoteMethod, by_options

GRADES = tally.GRADES


def grade_labels(process: Any = None) -> dict[str, str]:
    """The six grades, in the reader's locale."""
    return {
        "excellent": _("Excellent"),
        "very_good": _("Very good"),
        "good": _("Good"),
        "fair": _("Fair"),
        "poor": _("Poor"),
        "reject": _("To reject"),
    }


def clean_grades(
    choice: Any, option_keys: Sequence[str], dots: int
) -> tuple[dict[str, Any], dict[str, int]]:
    grades = choice.get("grades") if isinstance(choice, dict) else None
    # An option left ungraded counts as "reject" in the tally (see tally.majority_judgment).
    if (
        not isinstance(grades, dict)
        or not grades
        or not set(grades) <= set(option_keys)
        or any(not isinstance(grade, str) or grade not in GRADES for grade in grades.values())
    ):
        raise InvalidChoice(grades)
    cleaned = {key: grades[key] for key in option_keys if key in grades}
    return {"grades": cleaned}, {f"{key}:{grade}": 1 for key, grade in cleaned.items()}


def grade_words(
    choice: Mapping[str, Any], options: Mapping[str, str], grades: Mapping[str, str]
) -> str:
    return "; ".join(
        f"{options.get(key, key)}: {grades.get(grade, grade)}"
        for key, grade in (choice.get("grades") or {}).items()
    )


_GRADES_FR = "excellent, très bien, bien, assez bien, passable, à rejeter"
_GRADES_EN = "excellent, very good, good, fair, poor, reject"

MAJORITY_JUDGMENT = VoteMethod(
    key="majority_judgment",
    label=_l("Majority judgment"),
    legend=_l("Give each option a grade"),
    phone_form="grades",
    summarize_counts=by_options(tally.summarize_counts),
    clean_choice=clean_grades,
    choice_words=grade_words,
    grade_keys=GRADES,
    answer_labels=grade_labels,
    base_notes={"ballots_cast": _l("Base: %(n)s ballots cast", n="{n}")},
    phone_strings={
        "grade_all": _l("Give a grade to every option (%(missing)s missing).", missing="{missing}")
    },
    verdict=True,
    explain=verdict.explain_grade,
    uses_options=True,
    min_options=1,
    item_as_option=True,
    consolidation_rule=_l(
        "Overall figure: every ballot of every territory added up, then the majority grade of "
        "the whole."
    ),
    display=Display(
        chart="grades", ranked=True, group_cell="leader", per_option=True, slide="profile"
    ),
    documents={
        "fr": DocumentText(
            title="Jugement majoritaire",
            rule=(
                f"Chaque participant attribue une mention à chaque option ({_GRADES_FR}). La "
                "mention majoritaire est la médiane (la plus basse des deux en cas d’égalité) ; "
                "le classement suit la valeur majoritaire (Balinski et Laraki). Une option sans "
                "mention compte comme « à rejeter ». Validée à partir de la mention « bien »."
            ),
            count="Mention majoritaire",
        ),
        "en": DocumentText(
            title="Majority judgment",
            rule=(
                f"Each participant grades every option ({_GRADES_EN}). The majority grade is "
                "the median (the lower one on a tie); options are ranked by their majority "
                "value (Balinski and Laraki). An ungraded option counts as reject. Validated "
                "from the grade “good”."
            ),
            count="Majority grade",
        ),
    },
)
