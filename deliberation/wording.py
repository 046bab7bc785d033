"""The words of the documents, in the process's language (not the reader's UI language).

The documents are written for the process's audience: a French process gets a French
Synthèse whatever language the organiser's screen is in, with the typography of the source
texts (space before a colon). So these strings live here rather than in the UI catalogue.

Below the services (which word the outcome lines the documents and open data print,
``services.consolidation.outcomes``) and the documents, so both read it without the services
reaching up to the document builders.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "synthesis_title": "Synthèse des possibles",
        "proceedings_title": "Actes",
        "introduction": "Note d’introduction",
        "steering_committee": "Comité de pilotage",
        "recommendation": "Recommandation :",
        "recommendations": "Recommandations :",
        "action_path": "Piste d’action :",
        "action_paths": "Pistes d’action :",
        "condition": "Condition de mise en œuvre :",
        "conditions": "Conditions de mise en œuvre :",
        "field": "Champ {n}",
        "generated": "Document généré le {date}.",
        "toc": "Table des matières",
        "outcome_validated": "Validé",
        "outcome_rework": "À retravailler",
        "outcome_rejected": "Rejeté",
        "outcome_no_votes": "Sans vote exprimé",
        "in_assembly": "en assemblée générale",
        "in_workshop": "en atelier",
        "priorities": "Ordre de priorité",
        "workshops": "en ateliers ({n})",
        "support": "{percent} % de soutien",
        "votes": "{n} votes",
        "vote": "{n} vote",
        "method_and_process": "Le processus et sa méthode",
        "thresholds": "Seuils",
        "questions": "Questions vives",
        "hypotheses": "Hypothèses de réponses",
        "expert_inputs": "Éclairages",
        "stances": "Positions à l’égard des hypothèses",
        "stance_supports": "soutient",
        "stance_nuances": "nuance",
        "stance_contradicts": "contredit",
        "references": "Références",
        "sessions": "Les séances",
        "workshop": "Atelier",
        "assembly": "Assemblée générale",
        "date": "Date",
        "territory": "Territoire",
        "territories": "Territoires",
        "place": "Lieu",
        "participants": "Participants",
        "group": "Groupe",
        "all_groups": "Ensemble",
        "no_group": "Sans groupe déclaré",
        "polls": "Votes",
        "poll": "Vote",
        "named_poll": "Vote nominatif : qui a voté quoi",
        "participant_n": "Participant {n}",
        "choice": "Choix",
        "answer": "Réponse",
        "count": "Nombre",
        "percent": "%",
        "of_ballots": "des bulletins",
        "ballots": "Bulletins",
        "outcome": "Issue",
        "chart_caption": "Répartition des réponses : ensemble, puis par groupe (de haut en bas, "
        "dans l’ordre du tableau ; couleurs de la légende).",
        "grades_caption": "Mentions reçues par chaque option (de la meilleure, en vert, à "
        "« à rejeter »).",
        "legend": "Légende",
        "amendments": "Amendements et versions",
        "version": "Version {n}",
        "comments": "Commentaires de la salle",
        "proposals": "Propositions de la salle",
        "proposal_status": "Statut",
        "final_outcomes": "Issues finales",
        "participation": "Participation",
        "appendix": "Annexe : méthodes de vote et seuils",
        "item": "Élément",
        "finding": "Constat {n}",
        "free_question": "Question libre",
        "no_sessions": "Aucune séance n’a encore été tenue.",
        "no_polls": "Aucun vote clos dans cette séance.",
        "supporters": "soutiens",
        "majority_grade": "Mention majoritaire",
        "rank": "Rang",
        "dots": "Gommettes",
        "no_findings": "Aucun constat n’a encore été rédigé dans ce champ.",
        "no_method": "Le processus n’a pas encore été décrit.",
        "programme": "Programme",
        "session": "Séance",
        "field_column": "Champ",
        "no_amendments": "Aucun amendement n’a été déposé et aucun texte n’a été modifié.",
        "no_comments": "Aucune proposition ni aucun commentaire n’a été fait en séance.",
        "no_outcomes": "Aucun élément n’a encore été soumis au vote.",
        "no_participation": "Aucune participation n’a encore été enregistrée.",
        "minutes": "Compte rendu",
        "organisations": "Organisations participantes",
        "organisations_note": "Organisations données à l’inscription (avec l’accord d’y "
        "figurer) ou en rejoignant une séance.",
        "attendance": "Présence aux événements",
        "event": "Événement",
        "registered": "Inscrits",
        "attended": "Présents",
        "handout_recommendations": "Recommandations",
        "handout_inputs": "Éclairages",
        "workshop_n": "Atelier {n}",
        "justification": "Pourquoi",
        "no_expert_inputs": "Aucun éclairage n’a encore été publié pour ce champ.",
        "role_academic": "chercheur·e",
        "role_field_worker": "professionnel·le de terrain",
        "role_service_user": "personne accompagnée",
        "role_institution": "institution",
        "role_other": "",
    },
    "en": {
        "synthesis_title": "Synthesis of possibilities",
        "proceedings_title": "Proceedings",
        "introduction": "Introduction",
        "steering_committee": "Steering committee",
        "recommendation": "Recommendation:",
        "recommendations": "Recommendations:",
        "action_path": "Action path:",
        "action_paths": "Action paths:",
        "condition": "Implementation condition:",
        "conditions": "Implementation conditions:",
        "field": "Field {n}",
        "generated": "Document generated on {date}.",
        "toc": "Contents",
        "outcome_validated": "Validated",
        "outcome_rework": "To rework",
        "outcome_rejected": "Rejected",
        "outcome_no_votes": "No votes expressed",
        "in_assembly": "in the general assembly",
        "in_workshop": "in a workshop",
        "priorities": "Order of priority",
        "workshops": "in workshops ({n})",
        "support": "{percent}% support",
        "votes": "{n} votes",
        "vote": "{n} vote",
        "method_and_process": "The process and its method",
        "thresholds": "Thresholds",
        "questions": "Burning questions",
        "hypotheses": "Hypotheses",
        "expert_inputs": "Expert inputs",
        "stances": "Stances towards the hypotheses",
        "stance_supports": "supports",
        "stance_nuances": "nuances",
        "stance_contradicts": "contradicts",
        "references": "References",
        "sessions": "Sessions",
        "workshop": "Workshop",
        "assembly": "General assembly",
        "date": "Date",
        "territory": "Territory",
        "territories": "Territories",
        "place": "Place",
        "participants": "Participants",
        "group": "Group",
        "all_groups": "All",
        "no_group": "No group given",
        "polls": "Votes",
        "poll": "Vote",
        "named_poll": "Named vote: who voted what",
        "participant_n": "Participant {n}",
        "choice": "Choice",
        "answer": "Answer",
        "count": "Count",
        "percent": "%",
        "of_ballots": "of ballots cast",
        "ballots": "Ballots",
        "outcome": "Outcome",
        "chart_caption": "Answers: all participants, then each group (top to bottom, in the "
        "order of the table; colours as in the legend).",
        "grades_caption": "Grades given to each option (from the best, in green, to “to reject”).",
        "legend": "Legend",
        "amendments": "Amendments and versions",
        "version": "Version {n}",
        "comments": "Comments from the floor",
        "proposals": "Proposals from the floor",
        "proposal_status": "Status",
        "final_outcomes": "Final outcomes",
        "participation": "Participation",
        "appendix": "Appendix: vote methods and thresholds",
        "item": "Item",
        "finding": "Finding {n}",
        "free_question": "Free question",
        "no_sessions": "No session has been held yet.",
        "no_polls": "No closed vote in this session.",
        "supporters": "supporters",
        "majority_grade": "Majority grade",
        "rank": "Rank",
        "dots": "Dots",
        "no_findings": "No finding has been written in this field yet.",
        "no_method": "The process has not been described yet.",
        "programme": "Programme",
        "session": "Session",
        "field_column": "Field",
        "no_amendments": "No amendment was tabled and no text was changed.",
        "no_comments": "No proposal or comment was made during the sessions.",
        "no_outcomes": "No item has been put to the vote yet.",
        "no_participation": "No participation has been recorded yet.",
        "minutes": "Minutes",
        "organisations": "Participating organisations",
        "organisations_note": "Organisations given when registering (with consent to be "
        "listed) or when joining a session.",
        "attendance": "Attendance at the events",
        "event": "Event",
        "registered": "Registered",
        "attended": "Attended",
        "handout_recommendations": "Recommendations",
        "handout_inputs": "Expert inputs",
        "workshop_n": "Workshop {n}",
        "justification": "Why",
        "no_expert_inputs": "No expert input has been published for this field yet.",
        "role_academic": "researcher",
        "role_field_worker": "field worker",
        "role_service_user": "service user",
        "role_institution": "institution",
        "role_other": "",
    },
}

CODE_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        # Proposal kinds and statuses, text version kinds.
        "amendment": "amendement",
        "action_path": "piste d’action",
        "implementation_condition": "condition de mise en œuvre",
        "comment": "commentaire",
        "pending": "en attente",
        "accepted": "retenu pour un vote",
        "merged": "fusionné",
        "returned": "renvoyé",
        "kept_as_comment": "gardé comme commentaire",
        "adopted": "adopté",
        "rejected": "rejeté",
        "created": "création",
        "edited": "modification",
        "imported": "import",
        "rollback": "retour à une version antérieure",
    },
    "en": {
        "amendment": "amendment",
        "action_path": "action path",
        "implementation_condition": "implementation condition",
        "comment": "comment",
        "pending": "pending",
        "accepted": "put to the vote",
        "merged": "merged",
        "returned": "returned",
        "kept_as_comment": "kept as a comment",
        "adopted": "adopted",
        "rejected": "rejected",
        "created": "created",
        "edited": "edited",
        "imported": "imported",
        "rollback": "rolled back",
    },
}

GROUP_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "service_user": "Personnes accompagnées",
        "social_worker": "Travailleurs sociaux",
        "employer": "Employeurs",
        "public_official": "Agents publics",
        "expert": "Experts",
        "other": "Autres",
    },
    "en": {
        "service_user": "Service users",
        "social_worker": "Social workers",
        "employer": "Employers",
        "public_official": "Public officials",
        "expert": "Experts",
        "other": "Others",
    },
}


# The reason of a verdict (deliberation.methods.verdict), in the documents' language. The
# screens say the same sentences through the catalogue (methods.verdict._reasons): a test
# compares them, word for word.
REASONS: dict[str, dict[str, str]] = {
    "fr": {
        "consensus.validated": "{support} de soutien, {blocks} de blocages : soutien d’au moins "
        "{validated} et blocages sous {block}",
        "consensus.blocked": "{support} de soutien, {blocks} de blocages : au-delà du seuil de "
        "blocage de {block}",
        "consensus.blocked_at": "{support} de soutien, {blocks} de blocages : au seuil de "
        "blocage de {block} (les blocages doivent rester en dessous)",
        "consensus.below_validated": "{support} de soutien, {blocks} de blocages : soutien sous "
        "le seuil de validation de {validated}, d’au moins {rework}",
        "consensus.below_rework": "{support} de soutien, {blocks} de blocages : soutien sous "
        "{rework}",
        "yes_no.validated": "{yes} de oui sur {expressed} votes exprimés (oui + non) : au moins "
        "{validated}",
        "yes_no.below_validated": "{yes} de oui sur {expressed} votes exprimés (oui + non) : "
        "sous le seuil de validation de {validated}, au moins {rework}",
        "yes_no.below_rework": "{yes} de oui sur {expressed} votes exprimés (oui + non) : sous "
        "{rework}",
        "yes_no.abstentions": "abstentions à part : {n} ({share} des bulletins)",
        "majority_judgment.grade": "mention majoritaire : {grade}, seuil : {threshold}",
        "no_votes": "aucun bulletin",
        "yes_no.no_votes": "ni oui ni non exprimé",
    },
    "en": {
        "consensus.validated": "{support} support, {blocks} blocks: support reaches {validated} "
        "and blocks stay under {block}",
        "consensus.blocked": "{support} support, {blocks} blocks: above the block threshold of "
        "{block}",
        "consensus.blocked_at": "{support} support, {blocks} blocks: at the block threshold of "
        "{block} (blocks must stay under it)",
        "consensus.below_validated": "{support} support, {blocks} blocks: support under the "
        "validation threshold of {validated}, at least {rework}",
        "consensus.below_rework": "{support} support, {blocks} blocks: support under {rework}",
        "yes_no.validated": "{yes} yes of {expressed} votes expressed (yes + no): at least "
        "{validated}",
        "yes_no.below_validated": "{yes} yes of {expressed} votes expressed (yes + no): under "
        "the validation threshold of {validated}, at least {rework}",
        "yes_no.below_rework": "{yes} yes of {expressed} votes expressed (yes + no): under "
        "{rework}",
        "yes_no.abstentions": "abstentions apart: {n} ({share} of ballots cast)",
        "majority_judgment.grade": "majority grade: {grade}, threshold: {threshold}",
        "no_votes": "no ballot",
        "yes_no.no_votes": "no yes and no no expressed",
    },
}

# Majority judgment's grades in the documents' language (docs/vote-methods.md's table).
GRADE_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "excellent": "Excellent",
        "very_good": "Très bien",
        "good": "Bien",
        "fair": "Assez bien",
        "poor": "Passable",
        "reject": "À rejeter",
    },
    "en": {
        "excellent": "Excellent",
        "very_good": "Very good",
        "good": "Good",
        "fair": "Fair",
        "poor": "Poor",
        "reject": "To reject",
    },
}


def grade_label(grade: str | None, sign: str | None, language: str) -> str:
    """A majority grade with its + / − in the documents' language: « Bien + »."""
    if not grade:
        return "–"
    label = GRADE_LABELS.get(language, GRADE_LABELS["en"]).get(grade, grade)
    return label + {"+": " +", "-": " −"}.get(sign or "", "")


def words(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def group_label(group: str, language: str) -> str:
    if not group:
        return words(language)["no_group"]
    return GROUP_LABELS.get(language, GROUP_LABELS["en"]).get(group, group)


def code_label(code: str, language: str) -> str:
    """A stored code (proposal kind or status, version kind) in the document's language."""
    return CODE_LABELS.get(language, CODE_LABELS["en"]).get(code, code)


def format_percent(value: float | None, language: str) -> str:
    if value is None:
        return "–"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return text.replace(".", ",") if language == "fr" else text


# Babel locales of the documents' languages (Belgian French: the source texts' own).
BABEL_LOCALES = {"fr": "fr_BE", "en": "en_GB"}
# French sets a narrow no-break space before « % », English none.
_PERCENT_SIGN = {"fr": "\u202f%"}


def babel_locale(language: str) -> str:
    return BABEL_LOCALES.get(language, language or "en")


def date_words(day: date | None, language: str) -> str:
    """A date in words in the document's language: « 24 octobre 2013 », "24 October 2013"."""
    if day is None:
        return "–"
    return format_date(day, format="long", locale=babel_locale(language))


def percent_cell(value: float | None, language: str) -> str:
    """A percentage for a table: always one decimal and its sign (« 20,0 % », "53.3%"), so
    a column reads with one rounding rule. The value is already truncated by the tally."""
    if value is None:
        return "–"
    number = format_decimal(value, format="0.0", locale=babel_locale(language))
    return number + _PERCENT_SIGN.get(language, "%")


def typographic(text: str, language: str) -> str:
    """French documents use the typographic apostrophe throughout (labels typed with a
    straight one included)."""
    return text.replace("'", "\u2019") if language == "fr" else text


def fill_reason(
    verdict: Mapping[str, Any] | None,
    reasons: Mapping[str, str],
    labels: Mapping[str, str],
    grades: Mapping[str, str],
    language: str,
) -> str:
    """The reason of a verdict from one set of sentences (the screens' or the documents'):
    "75 % de soutien, 12,5 % de blocages : au-delà du seuil de blocage de 5 % → à retravailler".
    Shared by ``methods.verdict.reason_words`` and :func:`verdict_words`, so the two can only differ
    by their sentences, which a test compares."""
    if not verdict:
        return ""
    method, why, outcome = verdict.get("method"), verdict.get("why"), verdict.get("outcome")
    if why == "no_votes":
        return reasons.get(f"{method}.no_votes") or reasons["no_votes"]

    def pct(value: Any) -> str:
        return percent_words(value, language)

    grade = verdict.get("majority_grade")
    sign = {"+": " +", "-": " −"}.get(verdict.get("sign") or "", "")
    values = {
        "support": pct(verdict.get("support_percent")),
        "blocks": pct(verdict.get("block_percent") or 0),
        "validated": pct(verdict.get("validated")),
        "rework": pct(verdict.get("rework")),
        "block": pct(verdict.get("block")),
        "yes": pct(verdict.get("support_percent")),
        "expressed": str(verdict.get("expressed", "")),
        "grade": (grades.get(grade, grade) if grade else "–") + sign,
        "threshold": grades.get(str(verdict.get("validated_from")), ""),
    }
    text = reasons.get(f"{method}.{why}", "")
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    if outcome == "validated" or outcome == "rework" or outcome == "rejected":
        text = f"{text} → {labels[outcome][:1].lower()}{labels[outcome][1:]}"
    if method == "yes_no" and verdict.get("abstain"):
        apart = reasons["yes_no.abstentions"]
        apart = apart.replace("{n}", str(verdict["abstain"]))
        apart = apart.replace("{share}", pct(verdict.get("abstain_percent")))
        text = f"{text} ; {apart}" if language == "fr" else f"{text}; {apart}"
    return text


def percent_words(value: Any, language: str) -> str:
    """A share in a sentence: « 12,5 % » (no-break space in French), "12.5%"."""
    if value is None:
        return "–"
    number = format_percent(float(value), language)
    return f"{number}\u00a0%" if language == "fr" else f"{number}%"


def verdict_words(verdict: Mapping[str, Any] | None, language: str) -> tuple[str, str]:
    """(label, reason) of a verdict in the documents' language: ("À retravailler",
    "75 % de soutien, 12,5 % de blocages : au-delà du seuil de blocage de 5 % → à
    retravailler")."""
    if not verdict:
        return "", ""
    w = words(language)
    labels = {key: w[f"outcome_{key}"] for key in ("validated", "rework", "rejected", "no_votes")}
    grades = GRADE_LABELS.get(language, GRADE_LABELS["en"])
    reasons = REASONS.get(language, REASONS["en"])
    return labels.get(verdict["outcome"], verdict["outcome"]), fill_reason(
        verdict, reasons, labels, grades, language
    )
