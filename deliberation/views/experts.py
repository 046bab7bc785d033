"""The expert's page: ``/x/<secret>`` — write the input in Markdown with its preview, a
stance and a sentence of justification on each hypothesis of the field, references; save
drafts, submit (``services.experts.writing``). No account: the link's secret is the key,
and the link stops working once the input is accepted or the invitation withdrawn."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import limiter
from ..models import JUSTIFICATION_MAX, STANCES, TEXT_MAX, TITLE_MAX, ExpertInvitation
from ..refusals import Refused
from ..services.experts import writing
from ..services.experts.writing import REFERENCES_MAX, ExpertError
from .common import markdown_preview, refusal_response
from .once import once_per_form
from .organize_forms import ROLE_LABELS, STANCE_LABELS

bp = Blueprint("experts", __name__, url_prefix="/x")

# The page holds the secret link: never cached. (The site-wide same-origin referrer policy
# already keeps it from the sites the input links to.)
NO_STORE = {"Cache-Control": "no-store"}


def state_labels() -> dict[str, str]:
    return {
        "writing": _("Being written"),
        "submitted": _("Submitted, waiting for the organisers"),
        "changes_requested": _("Changes asked by the organisers"),
        "accepted": _("Accepted"),
        "declined": _("Declined"),
        "withdrawn": _("Withdrawn"),
    }


def _gone():
    page = render_template(
        "errors/base.html",
        title=_("This link does not work"),
        message=_(
            "This link no longer works: the input was accepted, or the invitation was "
            "withdrawn. Ask the organisers if you need a new one."
        ),
    )
    return page, 404, NO_STORE


def _page(token: str, invitation: ExpertInvitation, values: Any = None, errors: Any = None):
    status = 422 if errors else 200
    return (
        render_template(
            "experts/write.html",
            token=token,
            invitation=invitation,
            process=invitation.process,
            questions=writing.hypotheses_of(invitation),
            values=values,
            errors=errors or {},
            editable=invitation.state in ("writing", "changes_requested"),
            stance_labels=STANCE_LABELS,
            stances=STANCES,
            role_labels=ROLE_LABELS,
            states=state_labels(),
            limits={
                "title": TITLE_MAX,
                "text": TEXT_MAX,
                "references": REFERENCES_MAX,
                "why": JUSTIFICATION_MAX,
            },
        ),
        status,
        NO_STORE,
    )


@bp.get("/<token>")
@limiter.limit("60 per minute")
def write(token: str):
    invitation = writing.by_token(token)
    if invitation is None:
        return _gone()
    return _page(token, invitation)


@bp.post("/<token>")
@limiter.limit("60 per minute")
@once_per_form
def send(token: str):
    invitation = writing.by_token(token)
    if invitation is None:
        return _gone()
    form = request.form.to_dict()
    submitting = request.form.get("action") == "submit"
    try:
        if submitting:
            writing.submit(invitation.id, form)
        else:
            writing.save_draft(invitation.id, form)
    except ExpertError as error:
        return _page(token, invitation, request.form, error.errors)
    if submitting:
        flash(
            _(
                "Your input is submitted. The organisers will review it; this page will say "
                "what they decide."
            ),
            "success",
        )
    else:
        flash(_("Your draft is saved. You can come back to it with the same link."), "success")
    return redirect(url_for("experts.write", token=token), 303)


@bp.post("/<token>/preview")
@limiter.limit("300 per minute")  # a preview per pause in the typing
def preview(token: str):
    """The organisers' live preview, for the expert: the same rendering, their link as key."""
    if writing.by_token(token) is None:
        return refusal_response(Refused("bad_request", _("This link no longer works.")))
    return markdown_preview(request.get_json(silent=True))
