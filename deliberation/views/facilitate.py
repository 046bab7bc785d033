"""Facilitators' pages: the sessions of a process, the console that runs one, and the
projector view the room reads.

The console sends its live actions through Socket.IO (docs/protocol.md); every action also
has a plain HTTP form here, which calls the same services, for when scripts cannot run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from .. import methods
from ..extensions import db
from ..live import actions, broadcast, screens
from ..models import AgendaItem, Field, LiveSession, Process
from ..refusals import Refused
from ..services.authoring import numbering
from ..services.live import minutes, sessions
from ..services.live.sessions import SessionError
from ..services.people import access
from ..services.people.access import Capability
from .common import process_or_404, refusal_response
from .guard import requires
from .live_common import (
    TooManyCodeGuesses,
    group_labels,
    item_type_labels,
    results_strings,
    session_for_code,
    session_locale,
    slide_strings,
    too_many_code_guesses,
)
from .once import once_per_form

bp = Blueprint("facilitate", __name__)
bp.register_error_handler(TooManyCodeGuesses, too_many_code_guesses)


def _session_or_404(session_id: int) -> LiveSession:
    live_session = db.session.get(LiveSession, session_id)
    if live_session is None:
        abort(404)
    return live_session


def session_kind_labels() -> dict[str, str]:
    return {"workshop": _("Workshop"), "assembly": _("General assembly")}


# -- sessions of a process ----------------------------------------------------------------


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def _sessions_page(process: Process, form: dict[str, str] | None = None, error: str = ""):
    listed = db.session.scalars(
        db.select(LiveSession)
        .filter_by(process_id=process.id)
        .order_by(LiveSession.held_on.desc(), LiveSession.id.desc())
    ).all()
    page = render_template(
        "live/sessions.html",
        process=process,
        # A facilitator limited to a territory sees only the sessions they may run.
        live_sessions=access.sessions_to_run(current_user, process, listed),
        session_kinds=session_kind_labels(),
        form=form or {"kind": "workshop"},
        error=error,
    )
    return page, 400 if error else 200


@bp.get("/facilitate/<slug>/sessions")
@requires(Capability.FACILITATE)
def session_list(slug: str):
    return _sessions_page(process_or_404(slug))


@bp.post("/facilitate/<slug>/sessions")
@requires(Capability.EDIT)
@once_per_form
def session_create(slug: str):
    process = process_or_404(slug)
    form = {
        key: (request.form.get(key) or "").strip()
        for key in (
            "kind",
            "title",
            "field_id",
            "territory_id",
            "held_on",
            "place",
            "expected_count",
            "admission",
            "easy_read",
        )
    }
    held_on = None
    if form["held_on"]:
        try:
            held_on = date.fromisoformat(form["held_on"])
        except ValueError:
            return _sessions_page(process, form, _("The date is not valid (expected YYYY-MM-DD)."))
    expected = _int_or_none(form["expected_count"])
    if form["expected_count"] and expected is None:
        return _sessions_page(process, form, _("The expected head count is a whole number."))
    try:
        live_session = sessions.create_session(
            process,
            form["kind"],
            form["title"],
            field_id=_int_or_none(form["field_id"]),
            territory_id=_int_or_none(form["territory_id"]),
            held_on=held_on,
            place=form["place"],
            admission=form["admission"] or None,
            expected_count=expected,
            easy_read=form["easy_read"] == "1",
        )
    except SessionError as error:
        return _sessions_page(process, form, str(error.message))
    flash(_("Session created. Its join code is %(code)s.", code=live_session.join_code), "success")
    return redirect(url_for("facilitate.console", session_id=live_session.id))


# -- the console --------------------------------------------------------------------------


def process_tree(process: Process) -> list[dict[str, Any]]:
    """The items of each field that can be put on an agenda, with their numbers."""
    findings = numbering.finding_numbers(process)

    def entry(item_type: str, item: Any, text: str | None = None) -> tuple[str, int, str, str]:
        number = numbering.item_number(item_type, item, findings)
        return (item_type, item.id, number, item.text if text is None else text)

    tree = []
    for field in process.fields:
        questions = [
            {
                "label": numbering.numbered_label("question", question, findings),
                "text": question.text,
                "entries": [entry("hypothesis", hypothesis) for hypothesis in question.hypotheses],
            }
            for question in field.questions
        ]
        listed = []
        for finding in field.findings:
            children = [entry("finding", finding)]
            children += [entry("recommendation", r) for r in finding.recommendations]
            if finding.action_paths:
                children.append(entry("action_paths", finding, _("All action paths (dot vote)")))
            children += [entry("action_path", a) for a in finding.action_paths]
            children += [entry("implementation_condition", c) for c in finding.conditions]
            listed.append(
                {"number": findings.get(finding.id, 0), "text": finding.text, "entries": children}
            )
        tree.append({"field": field, "questions": questions, "findings": listed})
    return tree


def console_strings() -> dict[str, Any]:
    return {
        **results_strings(),
        "connected": _("Live connection: on"),
        "disconnected": _("Live connection lost — reconnecting…"),
        "nothing_shown": _("Nothing is shown: the projector shows the join code."),
        "no_poll": _("No vote on this item yet."),
        "show": _("Show"),
        "move_up": _("Move up: %(title)s", title="{title}"),
        "move_down": _("Move down: %(title)s", title="{title}"),
        "remove": _("Remove"),
        "remove_label": _("Remove from the agenda: %(title)s", title="{title}"),
        "done": _("Done."),
        "did_show": _("Shown on the projector and the phones: %(title)s", title="{title}"),
        "did_idle": _("Back to the join screen: the projector shows the join code."),
        "did_open": _("Vote opened on: %(title)s", title="{title}"),
        "did_close": _("Vote closed: no more ballots are counted."),
        "did_publish": _("Results revealed on the projector and the phones."),
        "did_reset": _("Vote started again: its ballots were removed."),
        "did_live_on": _("Live results shown on the projector."),
        "did_live_off": _("Live results hidden from the projector."),
        "did_theme_dark": _("The projector is dark, with high contrast."),
        "did_theme_light": _("The projector is light."),
        "closed_elsewhere": _("The vote is closed (end of the countdown, or another console)."),
        "key_nothing": _("Nothing to do with this key at this step."),
        "confirm_reset": _(
            "Start this vote again? Its ballots are removed (an audit record keeps the counts)."
        ),
        "joined": _("joined"),
        "option_hint": _("Suggested options: %(options)s", options="{options}"),
        "countdown_over": _("Time is up: the server closes the vote."),
        "countdown_over_manual": _("Time is up: close the vote when you are ready."),
        "overflow": _(
            "More places taken (%(joined)s) than people expected in the room (%(expected)s): "
            "count the room, or use personal tickets.",
            joined="{joined}",
            expected="{expected}",
        ),
        "participant_n": _("Participant %(n)s", n="{n}"),
        "minutes_saving": _("Saving…"),
        "minutes_saved": _("Saved at %(time)s.", time="{time}"),
        "minutes_merged": _(
            "Saved at %(time)s, together with what another console wrote meanwhile.",
            time="{time}",
        ),
        "minutes_failed": _("Not saved: %(message)s Your text stays here.", message="{message}"),
        "minutes_offline": _("Not saved yet (no connection): your text stays here."),
        "minutes_none": _("No version yet."),
        "minutes_merge_mark": _("merge"),
    }


@bp.get("/facilitate/session/<int:session_id>")
@requires(Capability.FACILITATE)
def console(session_id: int):
    return _console_page(_session_or_404(session_id))


def _console_page(
    live_session: LiveSession, typed: dict[str, Any] | None = None, status: int = 200
):
    """The console; ``typed``: minutes a refused form sent, shown back with the refusal."""
    session_id = live_session.id
    state = screens.state_for(live_session, "facilitator")
    strings = console_strings()
    config = {
        "sessionId": live_session.id,
        "code": live_session.join_code,
        "state": state,
        "strings": strings,
        "agendaIds": [item.id for item in live_session.agenda],
        "csrfToken": generate_csrf(),
        "urls": {
            "show": url_for("facilitate.action", session_id=session_id, action="show_item"),
            "move": url_for("facilitate.agenda_move", session_id=session_id, agenda_id=0),
            "remove": url_for("facilitate.agenda_remove", session_id=session_id, agenda_id=0),
            "minutes": url_for("facilitate.minutes_save", session_id=session_id),
            "history": url_for("facilitate.minutes_history", session_id=session_id, item_id=0),
        },
    }
    item = state["item"]
    page = render_template(
        "live/console.html",
        live_session=live_session,
        process=live_session.process,
        state=state,
        config=config,
        tree=process_tree(live_session.process),
        type_labels=item_type_labels(),
        vote_methods=methods.METHODS,
        session_kinds=session_kind_labels(),
        state_labels=strings["states"],
        group_labels=group_labels(),
        minutes_history=minutes.history(live_session, item["id"]) if item else [],
        typed=typed,
    )
    return page, status


def _back(live_session: LiveSession, anchor: str = ""):
    return redirect(url_for("facilitate.console", session_id=live_session.id) + anchor)


def _agenda_item_or_404(live_session: LiveSession, agenda_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, agenda_id)
    if item is None or item.session_id != live_session.id:
        abort(404)
    return item


@bp.post("/facilitate/session/<int:session_id>/agenda")
@requires(Capability.FACILITATE)
@once_per_form
def agenda_add(session_id: int):
    live_session = _session_or_404(session_id)
    action = request.form.get("action")
    try:
        if action == "fill_field":
            field = db.session.get(Field, _int_or_none(request.form.get("field_id")) or 0)
            if field is None:
                raise SessionError("unknown_field", _("Choose a field."))
            added = len(sessions.fill_agenda_from_field(live_session, field))
        elif action == "free":
            sessions.add_agenda_item(live_session, "free", text=request.form.get("text", ""))
            added = 1
        else:
            added = len(sessions.add_agenda_items(live_session, request.form.getlist("items")))
    except SessionError as error:
        flash(str(error.message), "error")
        return _back(live_session, "#add")
    broadcast.session_changed(live_session.id)
    flash(_("%(n)d item(s) added to the agenda.", n=added), "success")
    return _back(live_session, "#agenda")


@bp.post("/facilitate/session/<int:session_id>/agenda/<int:agenda_id>/move")
@requires(Capability.FACILITATE)
def agenda_move(session_id: int, agenda_id: int):
    live_session = _session_or_404(session_id)
    item = _agenda_item_or_404(live_session, agenda_id)
    ordered = [entry.id for entry in live_session.agenda]
    index = ordered.index(item.id)
    step = -1 if request.form.get("direction") == "up" else 1
    sessions.move_agenda_item(item, max(0, index + step))
    broadcast.session_changed(live_session.id)
    return _back(live_session, f"#agenda-{item.id}")


@bp.post("/facilitate/session/<int:session_id>/agenda/<int:agenda_id>/remove")
@requires(Capability.FACILITATE)
def agenda_remove(session_id: int, agenda_id: int):
    live_session = _session_or_404(session_id)
    item = _agenda_item_or_404(live_session, agenda_id)
    try:
        sessions.remove_agenda_item(item)
    except SessionError as error:
        flash(str(error.message), "error")
        return _back(live_session, "#agenda")
    broadcast.session_changed(live_session.id)
    flash(_("Item removed from the agenda."), "success")
    return _back(live_session, "#agenda")


@bp.post("/facilitate/session/<int:session_id>/easy-read")
@requires(Capability.FACILITATE)
def set_easy_read(session_id: int):
    """The phones' default display: the easy-to-read mode on or off (docs/phones.md)."""
    live_session = _session_or_404(session_id)
    sessions.set_easy_read(live_session, request.form.get("easy_read") == "1")
    broadcast.session_changed(live_session.id)
    if live_session.easy_read:
        flash(_("Phones now open in the easy-to-read mode."), "success")
    else:
        flash(_("Phones now open in the usual display."), "success")
    return _back(live_session, "#admission")


@bp.post("/facilitate/session/<int:session_id>/action/<action>")
@requires(Capability.FACILITATE)
def action(session_id: int, action: str):
    """The HTTP path of one action of the table (:mod:`deliberation.live.actions`)."""
    live_session = _session_or_404(session_id)
    if action not in actions.ACTIONS:
        abort(404)
    try:
        actions.dispatch(live_session, action, actions.FormPayload(request.form), current_user)
    except Refused as error:
        flash(str(error.message), "error")
        return _back(live_session, "#current")
    flash(_("Done."), "success")
    return _back(live_session, "#current")


# -- the minutes of each item ---------------------------------------------------------------


@bp.post("/facilitate/session/<int:session_id>/minutes")
@requires(Capability.FACILITATE)
def minutes_save(session_id: int):
    """Save the minutes of an agenda item: JSON from the console's script (saved as the
    facilitator types), or the notes box's form without it (docs/protocol.md, "Minutes")."""
    live_session = _session_or_404(session_id)
    as_json = request.is_json
    data = request.get_json(silent=True) if as_json else request.form
    if as_json and not isinstance(data, dict):
        return refusal_response(Refused("bad_request"))
    item_id, base = data.get("item_id"), data.get("base")
    if not as_json:
        item_id, base = _int_or_none(item_id), _int_or_none(base)
    try:
        saved = minutes.save(live_session, item_id, data.get("text"), base, current_user.email)
    except Refused as error:
        if as_json:
            return refusal_response(error)
        flash(str(error.message), "error")
        typed = {"item_id": item_id, "base": base, "text": str(data.get("text") or "")}
        return _console_page(live_session, typed, error.status)
    broadcast.minutes_saved(session_id, saved.payload())
    if as_json:
        return jsonify({"ok": True, **saved.payload()})
    flash(_("Minutes saved."), "success")
    return _back(live_session, "#minutes")


@bp.get("/facilitate/session/<int:session_id>/minutes/<int:item_id>")
@requires(Capability.FACILITATE)
def minutes_history(session_id: int, item_id: int):
    """Every version of an item's minutes, newest first (JSON)."""
    live_session = _session_or_404(session_id)
    try:
        versions = minutes.history(live_session, item_id)
    except Refused as error:
        return refusal_response(error)
    return jsonify({"ok": True, "item_id": item_id, "versions": versions})


# -- the projector ------------------------------------------------------------------------


@bp.get("/projector/<code>")
def projector(code: str):
    live_session = session_for_code(code)
    if live_session is None:
        return render_template("live/not_found.html", code=code[:20]), 404
    if code != live_session.join_code:
        return redirect(url_for("facilitate.projector", code=live_session.join_code))
    join_url = url_for("participate.join", code=live_session.join_code, _external=True)
    with session_locale(live_session):
        config = {
            "code": live_session.join_code,
            "state": screens.state_for(live_session, "projector"),
            "results": {**results_strings(), **slide_strings()},
        }
        return render_template(
            "live/projector.html",
            live_session=live_session,
            config=config,
            join_url=join_url,
            join_host=join_url.split("://", 1)[-1].split("/", 1)[0],
            join_path=url_for("participate.join", code=live_session.join_code),
            # segno's own SVG of a URL we built: markup we trust, not user text.
            qr_svg=Markup(sessions.qr_svg(join_url)),
        )
