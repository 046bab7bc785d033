"""Readers' comments on the recommendations of a published synthesis, under moderation.

A process takes comments in one of three modes (:data:`COMMENT_MODES`): closed; moderated
(the default: a comment waits for an organiser's approval); or immediate (published at once,
an organiser may still hide it). Readers may report a comment (a count, no address kept).
A hidden comment stays listed, without its text, with the organiser's reason: readers see
that something was removed and why. Nothing is deleted from the application. Comments are
Markdown, shown sanitised (``services.authoring.text``). This module never touches
``request``; the views throttle the readers' posts per address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ... import inputs
from ...database import write_transaction
from ...extensions import db
from ...models import (
    COMMENT_MODES,
    TITLE_MAX,
    Field,
    Finding,
    Process,
    PublicComment,
    PublishingSettings,
    Recommendation,
    utcnow,
)
from .followup import CONTROL_CHARACTERS, FollowUpError, clean_text

BODY_MAX = 3000
REASON_MAX = 500
DEFAULT_MODE = "moderated"

MODE_LABELS: dict[str, Any] = {
    "closed": _l("Closed: readers cannot comment"),
    "moderated": _l("Moderated: a comment is published once an organiser approves it"),
    "immediate": _l("Open: a comment is published at once (organisers may hide it)"),
}
assert set(MODE_LABELS) == set(COMMENT_MODES)


class CommentError(ValueError):
    """A comment or a moderation refused; ``message`` (translated) is shown."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _text(value: Any, limit: int, what: str, required: bool = False) -> str:
    try:
        return clean_text(value, limit, what, required)
    except FollowUpError as error:
        raise CommentError(error.message) from None


def comments_mode(process: Process) -> str:
    found = db.session.scalar(
        select(PublishingSettings.comments_mode).where(PublishingSettings.process_id == process.id)
    )
    return found or DEFAULT_MODE


def set_comments_mode(process: Process, mode: Any) -> str:
    if mode not in COMMENT_MODES:
        raise CommentError(_("Choose how comments are taken: closed, moderated or open."))
    with write_transaction():
        settings = db.session.scalar(
            select(PublishingSettings).where(PublishingSettings.process_id == process.id)
        )
        if settings is None:
            db.session.add(PublishingSettings(process_id=process.id, comments_mode=mode))
        else:
            settings.comments_mode = mode
    return mode


def recommendation_of(process: Process, recommendation_id: Any) -> Recommendation:
    if not inputs.is_id(recommendation_id):
        raise CommentError(_("This recommendation does not exist."))
    found = db.session.scalar(
        select(Recommendation)
        .join(Finding, Recommendation.finding_id == Finding.id)
        .join(Field, Finding.field_id == Field.id)
        .where(Recommendation.id == recommendation_id, Field.process_id == process.id)
    )
    if found is None:
        raise CommentError(_("This recommendation does not exist."))
    return found


def post_comment(
    process: Process, recommendation_id: Any, *, author_name: Any, body: Any
) -> PublicComment:
    """A reader's comment: pending in a moderated process, published at once in an open one.
    Refused when the synthesis is not published or comments are closed."""
    mode = comments_mode(process)
    if not process.synthesis_published or mode == "closed":
        raise CommentError(_("Comments are closed for this synthesis."))
    recommendation_of(process, recommendation_id)
    name = _text(author_name, TITLE_MAX, _("Your name"))
    text = _clean_body(body)
    with write_transaction():
        comment = PublicComment(
            process_id=process.id,
            recommendation_id=recommendation_id,
            author_name=name,
            body=text,
            state="published" if mode == "immediate" else "pending",
        )
        db.session.add(comment)
    return comment


def _clean_body(body: Any) -> str:
    """Several paragraphs allowed (unlike the follow-up's one sentence)."""
    if not isinstance(body, str) or not inputs.storable(body):
        raise CommentError(_("Your comment is not a valid text."))
    text = CONTROL_CHARACTERS.sub("", body.replace("\r\n", "\n")).strip()
    if not text:
        raise CommentError(_("Write your comment first."))
    if len(text) > BODY_MAX:
        raise CommentError(
            _("Your comment is too long (at most %(limit)d characters).", limit=BODY_MAX)
        )
    return text


def report(process: Process, comment_id: Any) -> None:
    """A reader reports a published comment: its count goes up by one, atomically."""
    if not inputs.is_id(comment_id):
        raise CommentError(_("This comment does not exist."))
    with write_transaction():
        changed = db.session.execute(
            update(PublicComment)
            .where(
                PublicComment.id == comment_id,
                PublicComment.process_id == process.id,
                PublicComment.state == "published",
            )
            .values(reports=PublicComment.reports + 1)
        ).rowcount
    if not changed:
        raise CommentError(_("This comment does not exist."))


def _moderated(process: Process, comment_id: Any) -> PublicComment:
    if not inputs.is_id(comment_id):
        raise CommentError(_("This comment does not exist."))
    comment = db.session.scalar(
        select(PublicComment)
        .where(PublicComment.id == comment_id, PublicComment.process_id == process.id)
        .with_for_update()
    )
    if comment is None:
        raise CommentError(_("This comment does not exist."))
    return comment


def approve(process: Process, comment_id: Any, actor: str) -> PublicComment:
    """Publish a pending (or hidden by mistake) comment; its reports start again from 0."""
    with write_transaction():
        comment = _moderated(process, comment_id)
        comment.state = "published"
        comment.hidden_reason = ""
        comment.reports = 0
        comment.moderated_at = utcnow()
        comment.moderated_by = actor[:TITLE_MAX]
    return comment


def hide(process: Process, comment_id: Any, reason: Any, actor: str) -> PublicComment:
    """Hide a comment with a reason readers will see in its place."""
    text = _text(reason, REASON_MAX, _("The reason"), required=True)
    with write_transaction():
        comment = _moderated(process, comment_id)
        comment.state = "hidden"
        comment.hidden_reason = text
        comment.moderated_at = utcnow()
        comment.moderated_by = actor[:TITLE_MAX]
    return comment


# -- reading --------------------------------------------------------------------------------


def public_comments(process: Process, recommendation_id: int) -> list[PublicComment]:
    """What readers see under a recommendation: published and hidden comments, oldest first
    (a hidden one is shown as its reason only; pending ones are not shown)."""
    return db.session.scalars(
        select(PublicComment)
        .where(
            PublicComment.process_id == process.id,
            PublicComment.recommendation_id == recommendation_id,
            PublicComment.state.in_(("published", "hidden")),
        )
        .order_by(PublicComment.created_at, PublicComment.id)
    ).all()


def published_counts(process: Process) -> dict[int, int]:
    """Recommendation id → number of published comments, for the synthesis page."""
    rows = db.session.execute(
        select(PublicComment.recommendation_id, func.count(PublicComment.id))
        .where(PublicComment.process_id == process.id, PublicComment.state == "published")
        .group_by(PublicComment.recommendation_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class ModerationQueue:
    pending: list[PublicComment]
    reported: list[PublicComment]
    published: list[PublicComment]
    hidden: list[PublicComment]


def moderation_queue(process: Process) -> ModerationQueue:
    """Everything for the organisers: waiting first, then reported, published, hidden."""
    comments = db.session.scalars(
        select(PublicComment)
        .where(PublicComment.process_id == process.id)
        .order_by(PublicComment.created_at, PublicComment.id)
    ).all()
    published = [c for c in comments if c.state == "published"]
    return ModerationQueue(
        pending=[c for c in comments if c.state == "pending"],
        reported=sorted((c for c in published if c.reports), key=lambda c: -c.reports),
        published=[c for c in published if not c.reports],
        hidden=[c for c in comments if c.state == "hidden"],
    )


def open_data(process: Process) -> list[dict[str, Any]]:
    """The comments readers can see, as JSON-ready records: published ones with their text,
    hidden ones with the reason instead. Pending comments and report counts stay private."""
    comments = db.session.scalars(
        select(PublicComment)
        .where(
            PublicComment.process_id == process.id,
            PublicComment.state.in_(("published", "hidden")),
        )
        .order_by(PublicComment.created_at, PublicComment.id)
    ).all()
    return [
        {
            "id": comment.id,
            "recommendation_id": comment.recommendation_id,
            "state": comment.state,
            "author": comment.author_name if comment.state == "published" else "",
            "body": comment.body if comment.state == "published" else "",
            "hidden_reason": comment.hidden_reason if comment.state == "hidden" else "",
            "created_at": comment.created_at.isoformat(timespec="seconds") + "Z",
        }
        for comment in comments
    ]
