"""Yes / no / abstain. The tally is :mod:`deliberation.tally.yes_no`."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..tally import yes_no as tally
from . import verdict
from .base import Display, DocumentText, VoteMethod, by_rule
from .consensus import answer_words, check_answer

ANSWERS = tally.OPTIONS
# The documents speak the process language, whatever the reader's.
DOCUMENT_LABELS = {
    "fr": {"yes": "Oui", "no": "Non", "abstain": "Abstention"},
    "en": {"yes": "Yes", "no": "No", "abstain": "Abstain"},
}


def _labels(process: Any) -> dict[str, str]:
    return {"yes": _("Yes"), "no": _("No"), "abstain": _("Abstain")}


YES_NO = VoteMethod(
    key="yes_no",
    label=_l("Yes / no / abstain"),
    legend=_l("Your answer"),
    phone_form="single",
    summarize_counts=by_rule(tally.summarize_counts),
    clean_choice=check_answer(ANSWERS),
    choice_words=answer_words,
    answer_keys=ANSWERS,
    answer_labels=_labels,
    pictograms={"yes": "check", "no": "cross", "abstain": "blank"},
    document_labels=lambda process: dict(
        DOCUMENT_LABELS.get(process.language, DOCUMENT_LABELS["en"])
    ),
    base_notes={
        "expressed": _l("Base: %(n)s votes expressed (yes + no; abstentions not counted)", n="{n}")
    },
    verdict=True,
    explain=verdict.explain_yes_no,
    share_metric="yes",
    charted=True,
    share_header=_l("Yes (of yes + no)"),
    consolidation_rule=_l(
        "Overall figure: every ballot of every territory added up, then the same rule as a "
        "single vote — validated when yes reaches %(v)d %% of yes + no (abstentions aside), "
        "to rework from %(r)d %%, rejected below."
    ),
    display=Display(
        chart="bars",
        group_cell="bars",
        slide="scale",
        marks=(("validated", "start"),),
        support_column=True,
        colours={"yes": "#1b6e37", "no": "#b3452c", "abstain": "#8a6a00"},
    ),
    documents={
        "fr": DocumentText(
            title="Oui / non / abstention",
            rule=(
                "Base : les votes exprimés (oui + non) ; les abstentions sont rapportées mais ne "
                "comptent pas dans la base. Les mêmes seuils s’appliquent à la part de oui."
            ),
            count="Nombre",
        ),
        "en": DocumentText(
            title="Yes / no / abstain",
            rule=(
                "Base: votes expressed (yes + no); abstentions are reported but are not in the "
                "base. The same thresholds apply to the yes share."
            ),
            count="Count",
        ),
    },
)
