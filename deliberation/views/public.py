"""Public pages: the home page listing processes, the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_login import current_user

from ..extensions import db
from ..models import Process
from ..services.people import access

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    # Anyone sees the published syntheses; an organiser also sees their own processes. A
    # process nobody published stays unknown to everyone else (docs/security.md).
    published = db.session.scalars(
        db.select(Process).filter_by(synthesis_published=True).order_by(Process.title)
    ).all()
    own = [process for process, _role in access.visible_processes(current_user)]
    shown = {process.id: process for process in [*published, *own]}
    processes = sorted(shown.values(), key=lambda process: (process.title, process.id))
    return render_template("home.html", processes=processes, format_date=format_date)


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in ("fr", "en"):
        session["lang"] = code
    target = request.form.get("next") or request.referrer or url_for("public.home")
    if not target.startswith("/"):
        target = url_for("public.home")
    return redirect(target)
