"""The consensus scale: fully agree, agree with reservations, mixed, disagree, block.

The tally is :mod:`deliberation.tally.consensus`; the labels are the process's own (an
organiser may rename the five answers in the settings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from ..tally import consensus as tally
from . import verdict
from .base import Display, DocumentText, InvalidChoice, VoteMethod, by_rule

ANSWERS = tally.OPTIONS


def check_answer(allowed: Sequence[str]) -> Callable[..., tuple[dict, dict[str, int]]]:
    """The choice check of a method answered by one key among ``allowed``."""

    def clean(choice: Any, option_keys: Sequence[str], dots: int) -> tuple[dict, dict[str, int]]:
        answer = choice.get("answer") if isinstance(choice, dict) else None
        if not isinstance(answer, str) or answer not in allowed:
            raise InvalidChoice(answer)
        return {"answer": answer}, {answer: 1}

    return clean


def answer_words(
    choice: Mapping[str, Any], options: Mapping[str, str], answers: Mapping[str, str]
) -> str:
    answer = str(choice.get("answer", ""))
    return answers.get(answer, answer)


CONSENSUS = VoteMethod(
    key="consensus",
    label=_l("Consensus scale"),
    legend=_l("Your position"),
    phone_form="single",
    summarize_counts=by_rule(tally.summarize_counts),
    clean_choice=check_answer(ANSWERS),
    choice_words=answer_words,
    answer_keys=ANSWERS,
    answer_labels=lambda process: process.labels(),
    document_labels=lambda process: process.labels(),
    pictograms={
        "full": "face_very_happy",
        "reservations": "face_happy",
        "mixed": "face_neutral",
        "disagree": "face_sad",
        "block": "stop",
    },
    base_notes={"ballots_cast": _l("Base: %(n)s ballots cast", n="{n}")},
    verdict=True,
    explain=verdict.explain_consensus,
    share_metric="support",
    charted=True,
    share_header=_l("Support"),
    consolidation_rule=_l(
        "Overall figure: every ballot of every territory added up (a bigger workshop weighs "
        "more; this is not an average of percentages), then the same rule as a single vote — "
        "validated when support (fully agree + agree with reservations) reaches %(v)d %% of "
        "ballots cast and blocks stay under %(b)d %%, to rework from %(r)d %%, rejected below."
    ),
    display=Display(
        chart="bars",
        group_cell="bars",
        slide="scale",
        marks=(("validated", "start"), ("block", "end")),
        support_column=True,
        colours={
            "full": "#1b6e37",
            "reservations": "#4f7f2a",
            "mixed": "#8a6a00",
            "disagree": "#b3452c",
            "block": "#7a1020",
        },
    ),
    documents={
        "fr": DocumentText(
            title="Échelle de consensus",
            rule=(
                "Base : les bulletins exprimés. Soutien = « tout à fait d’accord » + « d’accord "
                "avec réserves ». Validé quand le soutien atteint {validated} % et que les "
                "oppositions fermes restent sous {block} % ; à retravailler à partir de "
                "{rework} % (y compris un texte soutenu mais bloqué) ; rejeté en dessous."
            ),
            count="Nombre",
        ),
        "en": DocumentText(
            title="Consensus scale",
            rule=(
                "Base: ballots cast. Support = fully agree + agree with reservations. Validated "
                "when support reaches {validated}% and blocks stay under {block}%; to be "
                "reworked from {rework}% (including a supported but blocked text); rejected "
                "below."
            ),
            count="Count",
        ),
    },
)
