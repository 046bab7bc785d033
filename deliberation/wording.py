"""The words of the documents, in the process's language (not the reader's UI language).

The documents are written for the process's audience: a French process gets a French
Synthèse whatever language the organiser's screen is in, with the typography of the source
texts (space before a colon). So these strings live here rather than in the UI catalogue.

Below the services (which word the outcome lines the documents and open data print,
``services.consolidation.outcomes``) and the documents, so both read it without the services
reaching up to the document builders.
"""

from __future__ import annotations

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
        "toc_placeholder": "Mettez à jour la table des matières (clic droit → Mettre à jour).",
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
        "ballots": "Bulletins",
        "outcome": "Issue",
        "chart_caption": "Répartition des réponses : ensemble, puis par groupe (de haut en bas, "
        "dans l’ordre du tableau ; couleurs de la légende).",
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
        "toc_placeholder": "Update the table of contents (right-click → Update field).",
        "outcome_validated": "Validated",
        "outcome_rework": "To be reworked",
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
        "ballots": "Ballots",
        "outcome": "Outcome",
        "chart_caption": "Answers: all participants, then each group (top to bottom, in the "
        "order of the table; colours as in the legend).",
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
