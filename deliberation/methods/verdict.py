"""THE verdict of a vote: its outcome and why, from the method's own rule.

Every surface (projector, console, phone, consolidation, public page, Synthèse, Actes, open
data) shows the verdict that :func:`explain` gives, worded by :func:`reason_words` — in the
reader's locale on the screens (Flask-Babel), in the process language in the documents and
open data (``deliberation.wording.verdict_words``, the same sentences). A test renders both
and compares them, so no surface can say another rule than the one applied.

:func:`explain` is pure: it reads the figures of a tally summary (``tally.summarize``'s
overall dict or one group row) and the process rule, and returns a JSON-ready dict::

    {"outcome": "rework", "method": "consensus", "why": "blocked",
     "support_percent": 75.0, "block_percent": 12.5, "validated": 70, "rework": 50, "block": 5}

``why`` names the clause of the rule that decided (docs/vote-methods.md):

* consensus — ``validated``; ``blocked`` (support reached, blocks above the threshold),
  ``blocked_at`` (blocks exactly at it: they must stay strictly under); ``below_validated``
  (to rework on support); ``below_rework`` (rejected); ``no_votes``;
* yes / no — ``validated``, ``below_validated``, ``below_rework``, ``no_votes`` (no yes and
  no no: abstentions only or no ballot); abstentions are carried apart, with their own base;
* majority judgment of one text — ``grade`` (the majority grade decides; no support share);
  several options rank and give no verdict of the poll (each option has its own, see
  :func:`option_verdict`).

Methods that rank (dots, ranking) have no verdict: :func:`explain` returns None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from ..tally import OutcomeRule, consensus
from ..tally import majority_judgment as mj
from ..wording import fill_reason

Explain = Callable[[Mapping[str, Any], OutcomeRule], dict[str, Any]]


def _count(summary: Mapping[str, Any], key: str) -> int:
    for answer in summary.get("answers") or []:
        if answer.get("key") == key:
            return int(answer.get("count") or 0)
    return 0


def explain_consensus(summary: Mapping[str, Any], rule: OutcomeRule) -> dict[str, Any]:
    """Why a consensus-scale vote has its outcome (the tally decided it; this names the
    clause, from the same counts: blocks compared exactly, not on the rounded figure)."""
    outcome = summary.get("outcome") or "no_votes"
    base = int(summary.get("base") or 0)
    blocks = _count(summary, "block")
    verdict = _figures(summary, rule, "consensus", outcome)
    if outcome == "no_votes":
        why = "no_votes"
    elif outcome == "validated":
        why = "validated"
    elif outcome == "rejected":
        why = "below_rework"
    elif sum(_count(summary, key) for key in consensus.SUPPORT) * 100 >= rule.validated * base:
        # Support reached the validation threshold: the blocks sent it back for rework.
        why = "blocked_at" if blocks * 100 == rule.block * base else "blocked"
    else:
        why = "below_validated"
    verdict["why"] = why
    verdict["block_percent"] = summary.get("block_percent")
    return verdict


def explain_yes_no(summary: Mapping[str, Any], rule: OutcomeRule) -> dict[str, Any]:
    """Why a yes / no vote has its outcome; abstentions apart, with their own base."""
    outcome = summary.get("outcome") or "no_votes"
    verdict = _figures(summary, rule, "yes_no", outcome)
    verdict["why"] = {
        "validated": "validated",
        "rework": "below_validated",
        "rejected": "below_rework",
    }.get(outcome, "no_votes")
    abstain = next((a for a in summary.get("answers") or [] if a.get("key") == "abstain"), {})
    verdict["expressed"] = int(summary.get("base") or 0)
    verdict["abstain"] = int(abstain.get("count") or 0)
    verdict["abstain_percent"] = abstain.get("percent")
    return verdict


def explain_grade(summary: Mapping[str, Any], rule: OutcomeRule) -> dict[str, Any] | None:
    """Majority judgment of one text: its majority grade decides. Several options rank:
    no verdict of the poll (None), each option carries its own (:func:`option_verdict`)."""
    answers = summary.get("answers") or []
    if not summary.get("ballots"):
        return {"outcome": "no_votes", "method": "majority_judgment", "why": "no_votes"}
    if len(answers) != 1:
        return None
    return option_verdict(answers[0])


def option_verdict(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict of one graded option (majority judgment): grade, sign and the threshold."""
    grade = answer.get("majority_grade")
    if grade is None:
        return {"outcome": "no_votes", "method": "majority_judgment", "why": "no_votes"}
    return {
        "outcome": mj.outcome(mj.GRADES.index(grade)),
        "method": "majority_judgment",
        "why": "grade",
        "majority_grade": grade,
        "sign": answer.get("sign") or "",
        "validated_from": mj.VALIDATED_FROM,
    }


def _figures(
    summary: Mapping[str, Any], rule: OutcomeRule, method: str, outcome: str
) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "method": method,
        "support_percent": summary.get("support_percent"),
        "validated": rule.validated,
        "rework": rule.rework,
        "block": rule.block,
    }


# -- words ---------------------------------------------------------------------------------
#
# The sentences, with ``{name}`` slots: the screens' (msgids below, translated by the
# catalogue) and the documents' (deliberation.wording) say the same thing in the same words.


def outcome_labels() -> dict[str, str]:
    """An outcome's name in the reader's locale."""
    return {
        "validated": _("Validated"),
        "rework": _("To rework"),
        "rejected": _("Rejected"),
        "no_votes": _("No votes expressed"),
    }


def _reasons() -> dict[str, str]:
    return {
        "consensus.validated": _(
            "%(support)s support, %(blocks)s blocks: support reaches %(validated)s and blocks "
            "stay under %(block)s",
            support="{support}", blocks="{blocks}", validated="{validated}", block="{block}",
        ),
        "consensus.blocked": _(
            "%(support)s support, %(blocks)s blocks: above the block threshold of %(block)s",
            support="{support}", blocks="{blocks}", block="{block}",
        ),
        "consensus.blocked_at": _(
            "%(support)s support, %(blocks)s blocks: at the block threshold of %(block)s "
            "(blocks must stay under it)",
            support="{support}", blocks="{blocks}", block="{block}",
        ),
        "consensus.below_validated": _(
            "%(support)s support, %(blocks)s blocks: support under the validation threshold of "
            "%(validated)s, at least %(rework)s",
            support="{support}", blocks="{blocks}", validated="{validated}", rework="{rework}",
        ),
        "consensus.below_rework": _(
            "%(support)s support, %(blocks)s blocks: support under %(rework)s",
            support="{support}", blocks="{blocks}", rework="{rework}",
        ),
        "yes_no.validated": _(
            "%(yes)s yes of %(expressed)s votes expressed (yes + no): at least %(validated)s",
            yes="{yes}", expressed="{expressed}", validated="{validated}",
        ),
        "yes_no.below_validated": _(
            "%(yes)s yes of %(expressed)s votes expressed (yes + no): under the validation "
            "threshold of %(validated)s, at least %(rework)s",
            yes="{yes}", expressed="{expressed}", validated="{validated}", rework="{rework}",
        ),
        "yes_no.below_rework": _(
            "%(yes)s yes of %(expressed)s votes expressed (yes + no): under %(rework)s",
            yes="{yes}", expressed="{expressed}", rework="{rework}",
        ),
        "yes_no.abstentions": _(
            "abstentions apart: %(n)s (%(share)s of ballots cast)", n="{n}", share="{share}"
        ),
        "majority_judgment.grade": _(
            "majority grade: %(grade)s, threshold: %(threshold)s",
            grade="{grade}", threshold="{threshold}",
        ),
        "no_votes": _("no ballot"),
        "yes_no.no_votes": _("no yes and no no expressed"),
    }  # fmt: skip


def reader_language() -> str:
    locale = get_locale()  # None outside any app context (a script): English
    return locale.language if locale is not None else "en"


def reason_words(verdict: Mapping[str, Any] | None, grades: Mapping[str, str]) -> str:
    """The reason of a verdict in the reader's locale (the screens)."""
    return fill_reason(verdict, _reasons(), outcome_labels(), grades, reader_language())


def worded(verdict: Mapping[str, Any] | None, grades: Mapping[str, str]) -> dict[str, Any] | None:
    """The verdict with its ``label`` and ``reason`` in the reader's locale (the live
    payload and the consolidation page)."""
    if not verdict:
        return None
    return {
        **verdict,
        "label": outcome_labels().get(verdict["outcome"], verdict["outcome"]),
        "reason": reason_words(verdict, grades),
    }
