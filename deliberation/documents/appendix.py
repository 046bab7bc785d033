"""Appendix of the Actes: the vote methods and this process's thresholds.

The wording follows docs/vote-methods.md; each method states its own rule
(``deliberation.methods``, ``VoteMethod.documents``) and the numbers come from the process's
:class:`~deliberation.tally.OutcomeRule`, so the appendix always states the rules the figures
were computed with.
"""

from __future__ import annotations

from .. import methods
from ..tally import OutcomeRule
from ..wording import words
from .docxkit import DocWriter

_TEXT = {
    "fr": {
        "thresholds": (
            "Seuils de ce processus : validé à partir de {validated} % de soutien (et moins "
            "de {block} % d’oppositions fermes) ; à retravailler à partir de {rework} % ; "
            "rejeté en dessous. Un écart d’au moins {divergence} points entre deux groupes "
            "est signalé comme divergence. Un groupe n’est montré à part qu’à partir de "
            "{min_group} bulletins."
        ),
        "exact": (
            "Les seuils sont comparés sur des fractions exactes ; les pourcentages affichés "
            "sont tronqués à une décimale, jamais arrondis vers le haut. Un vote sans bulletin "
            "n’a pas d’issue. Chaque participant est compté une fois, avec son dernier bulletin."
        ),
        "groups_title": "Résultats par groupe",
        "groups": (
            "Les groupes de moins de {min_group} bulletins sont réunis avec « autres » afin de "
            "protéger le secret du vote ; sans au moins deux groupes affichables, il n’y a pas "
            "de ventilation."
        ),
    },
    "en": {
        "thresholds": (
            "Thresholds of this process: validated from {validated}% support (with blocks "
            "under {block}%); to be reworked from {rework}%; rejected below. A gap of at "
            "least {divergence} points between two groups is flagged as a divergence. A group "
            "is shown on its own from {min_group} ballots."
        ),
        "exact": (
            "Thresholds are compared on exact fractions; displayed percentages are truncated "
            "to one decimal, never rounded up. A poll without ballots has no outcome. Each "
            "participant is counted once, with their last ballot."
        ),
        "groups_title": "Results per group",
        "groups": (
            "Groups with fewer than {min_group} ballots are merged into “other” to protect "
            "the secret ballot; without at least two groups to show there is no breakdown."
        ),
    },
}


def write_appendix(writer: DocWriter, rule: OutcomeRule, language: str) -> None:
    """The thresholds, then each vote method's rule (as the method states it), then the
    breakdown per group."""
    text = _TEXT.get(language, _TEXT["en"])
    values = {
        "validated": rule.validated,
        "rework": rule.rework,
        "block": rule.block,
        "divergence": rule.divergence,
        "min_group": rule.min_group,
    }
    writer.paragraph(words(language)["appendix"], "Heading 1")
    writer.paragraph(text["thresholds"].format(**values))
    writer.paragraph(text["exact"])
    for method in methods.METHODS:
        described = method.document_text(language)
        writer.paragraph(described.title, "Heading 2")
        writer.paragraph(described.rule.format(**values))
    writer.paragraph(text["groups_title"], "Heading 2")
    writer.paragraph(text["groups"].format(**values))
