"""Organiser log-in and log-out (placeholder to be completed by the authoring screens)."""

from __future__ import annotations

from flask import Blueprint

from ..extensions import db, login_manager
from ..models import Organizer

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_organizer(user_id: str) -> Organizer | None:
    return db.session.get(Organizer, int(user_id)) if user_id.isdigit() else None
