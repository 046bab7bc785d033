"""Which fields' handouts are public (docs/handouts-and-experts.md).

Publishing a field's handouts marks it here; the documents themselves (its
*Recommandations* and *Éclairages*, and the process's introduction note) are built by the
export workers (``documents.handouts``), which read this mark: a field unpublished before
its job runs gets no file, and its old files are removed by the next build.
"""

from __future__ import annotations

from typing import Any

from ...database import writes
from ...extensions import db
from ...models import Field, Process, utcnow
from ..validation import ValidationError, _


def published_fields(process: Process) -> list[Field]:
    return [f for f in process.fields if f.handouts_published_at is not None]


def field_of(process: Process, raw: Any) -> Field:
    text = str(raw or "").strip()
    field_ = db.session.get(Field, int(text)) if text.isdigit() and len(text) < 12 else None
    if field_ is None or field_.process_id != process.id:
        raise ValidationError(_("Choose a field of this process."), "field_id")
    return field_


@writes
def publish(process: Process, field_id: Any) -> Field:
    """Publish (or publish again, after changes) a field's handouts."""
    field_ = field_of(process, field_id)
    field_.handouts_published_at = utcnow()
    return field_


@writes
def unpublish(process: Process, field_id: Any) -> Field:
    field_ = field_of(process, field_id)
    field_.handouts_published_at = None
    return field_
