"""Public pages: the home page listing processes, the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for

from ..extensions import db
from ..models import Process

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    from flask import render_template

    processes = db.session.scalars(db.select(Process).order_by(Process.title)).all()
    return render_template("home.html", processes=processes)


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in ("fr", "en"):
        session["lang"] = code
    target = request.form.get("next") or request.referrer or url_for("public.home")
    if not target.startswith("/"):
        target = url_for("public.home")
    return redirect(target)
