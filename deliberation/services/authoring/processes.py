"""Processes and their settings, and the territories where workshops are held."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ...database import writes
from ...extensions import db
from ...methods import PRIORITY_METHODS
from ...methods.consensus import CONSENSUS
from ...models import LiveSession, Organizer, Process, Territory
from ..people.membership import make_owner
from ..validation import (
    ConfirmationRequired,
    Impact,
    ValidationError,
    _,
    check_choice,
    check_percent,
    check_slug,
    check_text,
    check_title,
    flush_checked,
)
from . import versions
from .versions import record_version

PROCESS_TEXTS = ("title", "subtitle", "introduction", "steering_committee")
CONSENSUS_KEYS = CONSENSUS.answer_keys
GROUP_MAX = 80
GROUPS_MAX = 20


def clean_process_values(values: dict[str, Any], process: Process | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "title" in values or process is None:
        clean["title"] = check_title(values.get("title", ""), _("Title"))
    if "slug" in values or process is None:
        slug = check_slug(values.get("slug", ""))
        taken = db.session.scalar(select(Process.id).filter_by(slug=slug))
        if taken is not None and (process is None or taken != process.id):
            raise ValidationError(_("The address %(slug)s is already taken.", slug=slug), "slug")
        clean["slug"] = slug
    if "language" in values:
        clean["language"] = check_choice(values["language"], ("fr", "en"), _("Language"))
    if "subtitle" in values:
        clean["subtitle"] = check_text(values["subtitle"], _("Subtitle"), required=False)
    for name, what in (
        ("introduction", _("Introduction")),
        ("steering_committee", _("Steering committee")),
    ):
        if name in values:
            clean[name] = check_text(values[name], what, required=False)
    for name, what in (
        ("threshold_validated", _("Threshold for validated")),
        ("threshold_rework", _("Threshold for rework")),
        ("threshold_block", _("Threshold for blocks")),
        ("divergence_points", _("Divergence between groups")),
    ):
        if name in values:
            clean[name] = check_percent(values[name], what)
    validated = clean.get("threshold_validated", process.threshold_validated if process else 70)
    rework = clean.get("threshold_rework", process.threshold_rework if process else 50)
    if rework > validated:
        raise ValidationError(
            _("The rework threshold cannot be above the validated threshold."), "threshold_rework"
        )
    if "consensus_labels" in values:
        labels = values["consensus_labels"] or {}
        clean["consensus_labels"] = {
            key: check_title(labels.get(key, ""), key, required=False)
            for key in CONSENSUS_KEYS
            if (labels.get(key) or "").strip()
        }
    if "groups" in values:
        clean["groups"] = _clean_groups(values["groups"])
    if "priority_method" in values:
        chosen = values["priority_method"]
        # Nothing chosen: the registry's default (methods.OPTIONS_METHOD).
        clean["priority_method"] = (
            None
            if chosen in (None, "")
            else check_choice(chosen, PRIORITY_METHODS, _("Vote method for action paths"))
        )
    return clean


def _clean_groups(groups: list[str] | str) -> list[str]:
    if isinstance(groups, str):
        groups = groups.splitlines()
    names: list[str] = []
    for raw in groups:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if len(name) > GROUP_MAX:
            raise ValidationError(
                _("A group name has at most %(max)d characters.", max=GROUP_MAX), "groups"
            )
        if name not in names:
            names.append(name)
    if len(names) > GROUPS_MAX:
        raise ValidationError(_("At most %(max)d groups.", max=GROUPS_MAX), "groups")
    return names


@writes
def create_process(by: str, owner: Organizer | None = None, **values: Any) -> Process:
    """A new process; ``owner`` (its creator, in the web) becomes its first owner."""
    clean = clean_process_values(values, None)
    process = Process(**clean)
    db.session.add(process)

    def then() -> None:
        record_version(process, "created", by)
        if owner is not None:
            make_owner(process, owner, by)

    flush_checked(then)
    return process


@writes
def update_process(process: Process, by: str, **values: Any) -> Process:
    clean = clean_process_values(values, process)
    before = versions.snapshot(process)
    for name, value in clean.items():
        setattr(process, name, value)
    flush_checked(lambda: versions.record_if_changed(process, before, by))
    return process


# -- territories -------------------------------------------------------------------------


@writes
def add_territory(process: Process, name: str) -> Territory:
    name = check_title(name, _("Territory"))
    if any(t.name == name for t in process.territories):
        raise ValidationError(_("This territory is already listed."), "name")
    territory = Territory(process=process, name=name)
    db.session.add(territory)
    flush_checked()
    return territory


@writes
def rename_territory(territory: Territory, name: str) -> Territory:
    name = check_title(name, _("Territory"))
    if any(t.name == name and t.id != territory.id for t in territory.process.territories):
        raise ValidationError(_("This territory is already listed."), "name")
    territory.name = name
    flush_checked()
    return territory


def territory_sessions(territory: Territory) -> int:
    return db.session.scalar(
        select(func.count(LiveSession.id)).filter_by(territory_id=territory.id)
    )


@writes
def delete_territory(territory: Territory, confirm: bool = False) -> Impact:
    impact = Impact(sessions=territory_sessions(territory))
    if impact.needs_confirmation and not confirm:
        raise ConfirmationRequired(impact)
    db.session.delete(territory)
    return impact
