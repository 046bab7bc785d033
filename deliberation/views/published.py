"""The public, read-only page of a synthesis: ``/p/<slug>``, only once an organiser publishes it.

Readers (policy makers, the sector, the press) need no account. While the synthesis is not
published the page and its open data answer 404, as if the process did not exist.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from ..documents.tree import load_process_tree
from ..services.authoring.numbering import finding_numbers
from ..services.authoring.text import render_inline, render_markdown
from ..services.consolidation.outcomes import (
    item_outcomes,
    item_priorities,
    outcome_line,
    priority_line,
)
from ..services.publishing import comments, opendata
from ..wording import words
from .common import data_response, published_or_404
from .support import form_context

bp = Blueprint("published", __name__, url_prefix="/p")


@bp.get("/<slug>")
def synthesis(slug: str):
    process = load_process_tree(published_or_404(slug))
    outcomes = item_outcomes(process)
    lines = {key: outcome_line(found, process.language) for key, found in outcomes.items()}
    kinds = {key: found.outcome for key, found in outcomes.items()}
    # The order of priority of a finding's action paths, as the Synthèse prints it.
    for key, found in item_priorities(process).items():
        lines[key] = priority_line(found, process.language)
    return render_template(
        "published/synthesis.html",
        process=process,
        numbers=finding_numbers(process),
        outcomes=lines,
        outcome_kinds=kinds,
        comment_counts=comments.published_counts(process),
        support=form_context(process),
        w=words(process.language),
        markdown=render_markdown,
        markdown_inline=render_inline,
    )


@bp.get("/<slug>/results.csv")
def results_csv(slug: str):
    process = published_or_404(slug)
    return data_response(opendata.as_csv(process), "text/csv", f"{process.slug}-results.csv")


@bp.get("/<slug>/results.json")
def results_json(slug: str):
    process = published_or_404(slug)
    return data_response(opendata.as_json(process), "application/json")
