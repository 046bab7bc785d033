"""Appendix of the Actes: the vote methods and this process's thresholds.

The wording follows docs/vote-methods.md; the numbers come from the process's
:class:`~deliberation.tally.OutcomeRule` and the constants of the tally modules, so the
appendix always states the rules the figures were computed with.
"""

from __future__ import annotations

from ..tally import OutcomeRule
from ..tally.majority_judgment import GRADES, VALIDATED_FROM
from .docxkit import DocWriter
from .labels import words

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
        "consensus_title": "Échelle de consensus",
        "consensus": (
            "Base : les bulletins exprimés. Soutien = « tout à fait d’accord » + « d’accord "
            "avec réserves ». Validé quand le soutien atteint {validated} % et que les "
            "oppositions fermes restent sous {block} % ; à retravailler à partir de {rework} % "
            "(y compris un texte soutenu mais bloqué) ; rejeté en dessous."
        ),
        "yes_no_title": "Oui / non / abstention",
        "yes_no": (
            "Base : les votes exprimés (oui + non) ; les abstentions sont rapportées mais ne "
            "comptent pas dans la base. Les mêmes seuils s’appliquent à la part de oui."
        ),
        "mj_title": "Jugement majoritaire",
        "mj": (
            "Chaque participant attribue une mention à chaque option ({grades}). La mention "
            "majoritaire est la médiane (la plus basse des deux en cas d’égalité) ; le "
            "classement suit la valeur majoritaire (Balinski et Laraki). Une option sans "
            "mention compte comme « à rejeter ». Validée à partir de la mention « {good} »."
        ),
        "dot_title": "Vote par gommettes",
        "dot": (
            "Chaque participant répartit ses gommettes entre les options. Base : les gommettes "
            "données. Ce vote classe les options ; il ne valide rien."
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
        "consensus_title": "Consensus scale",
        "consensus": (
            "Base: ballots cast. Support = fully agree + agree with reservations. Validated "
            "when support reaches {validated}% and blocks stay under {block}%; to be reworked "
            "from {rework}% (including a supported but blocked text); rejected below."
        ),
        "yes_no_title": "Yes / no / abstain",
        "yes_no": (
            "Base: votes expressed (yes + no); abstentions are reported but are not in the "
            "base. The same thresholds apply to the yes share."
        ),
        "mj_title": "Majority judgment",
        "mj": (
            "Each participant grades every option ({grades}). The majority grade is the "
            "median (the lower one on a tie); options are ranked by their majority value "
            "(Balinski and Laraki). An ungraded option counts as reject. Validated from the "
            "grade “{good}”."
        ),
        "dot_title": "Dot voting",
        "dot": (
            "Each participant spreads their dots over the options. Base: dots given. This "
            "vote ranks options; it validates nothing."
        ),
        "groups_title": "Results per group",
        "groups": (
            "Groups with fewer than {min_group} ballots are merged into “other” to protect "
            "the secret ballot; without at least two groups to show there is no breakdown."
        ),
    },
}


def write_appendix(writer: DocWriter, rule: OutcomeRule, language: str) -> None:
    text = _TEXT.get(language, _TEXT["en"])
    values = {
        "validated": rule.validated,
        "rework": rule.rework,
        "block": rule.block,
        "divergence": rule.divergence,
        "min_group": rule.min_group,
        "grades": ", ".join(GRADES),
        "good": VALIDATED_FROM,
    }
    writer.paragraph(words(language)["appendix"], "Heading 1")
    writer.paragraph(text["thresholds"].format(**values))
    writer.paragraph(text["exact"])
    for key in ("consensus", "yes_no", "mj", "dot", "groups"):
        writer.paragraph(text[f"{key}_title"], "Heading 2")
        writer.paragraph(text[key].format(**values))
