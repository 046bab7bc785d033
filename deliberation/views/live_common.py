"""What the live pages (phone, projector, console) share: group, item-type, method and outcome
labels (the one home of these UI labels; grade labels live with the vote rules in
``services.voting``), the strings their scripts show, and the locale of a session's process.
Documents name things in the process language instead (``documents.labels``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from ..models import LiveSession, Process
from ..services.voting import grade_labels


def group_labels() -> dict[str, str]:
    """Translated labels of the default group keys; a process may also use free labels."""
    return {
        "service_user": _("Service user"),
        "social_worker": _("Social worker or counsellor"),
        "employer": _("Employer"),
        "public_official": _("Public official"),
        "expert": _("Expert or researcher"),
        "other": _("Other"),
        "": _("Group not given"),
    }


def group_choices(process: Process) -> list[tuple[str, str]]:
    labels = group_labels()
    return [(key, labels.get(key, key)) for key in (process.groups or [])]


def item_type_labels() -> dict[str, str]:
    return {
        "hypothesis": _("Hypothesis"),
        "finding": _("Finding"),
        "recommendation": _("Recommendation"),
        "action_path": _("Action path"),
        "action_paths": _("Action paths"),
        "implementation_condition": _("Implementation condition"),
        "free": _("Question"),
        "amendment": _("Amendment"),
    }


def method_labels() -> dict[str, str]:
    return {
        "consensus": _("Consensus scale"),
        "yes_no": _("Yes / no / abstain"),
        "majority_judgment": _("Majority judgment"),
        "dot": _("Dot voting"),
    }


def outcome_labels() -> dict[str, str]:
    """A vote's outcome, as the results renderer and the consolidation screens name it."""
    return {
        "validated": _("Validated"),
        "rework": _("To rework"),
        "rejected": _("Rejected"),
        "no_votes": _("No votes"),
    }


def results_strings() -> dict[str, Any]:
    """Strings used by the results renderer shared by the projector and the console."""
    return {
        "groups": group_labels(),
        "items": item_type_labels(),
        "methods": method_labels(),
        "outcomes": outcome_labels(),
        "bases": {
            "ballots_cast": _("Base: %(n)s ballots cast", n="{n}"),
            "expressed": _(
                "Base: %(n)s votes expressed (yes + no; abstentions not counted)", n="{n}"
            ),
            "dots_given": _("Base: %(n)s dots given by %(b)s participants", n="{n}", b="{b}"),
        },
        "support": _("Support: %(p)s %% (threshold %(t)s %%)", p="{p}", t="{t}"),
        "blocks": _("Blocks: %(p)s %% (must stay under %(t)s %%)", p="{p}", t="{t}"),
        "by_group": _("By group"),
        "group": _("Group"),
        "ballots": _("Ballots"),
        "support_col": _("Support"),
        "divergence": _("Groups differ strongly: %(detail)s", detail="{detail}"),
        "divergence_pair": _(
            "%(a)s %(pa)s %% vs %(b)s %(pb)s %%", a="{a}", pa="{pa}", b="{b}", pb="{pb}"
        ),
        "small_groups": _(
            "Groups with fewer than %(n)s ballots are counted under “Other”.", n="{n}"
        ),
        "voted_of": _("%(v)s voted of %(c)s connected", v="{v}", c="{c}"),
        "voted_only": _("%(v)s voted", v="{v}"),
        "rank": _("Rank"),
        "majority_grade": _("Majority grade"),
        "dots": _("dots"),
        "grades": grade_labels(),
        "states": {
            "draft": _("Not open yet"),
            "open": _("Vote open"),
            "closed": _("Vote closed"),
            "published": _("Results"),
        },
        "results_hidden": _("Results will be shown when the vote is closed."),
        "no_results": _("No ballots yet."),
        "too_few": _("Too few ballots to show"),
        "countdown": _("Time left"),
        "offline": _("Connection lost — reconnecting…"),
    }


def process_language(live_session: LiveSession) -> str:
    language = live_session.process.language or "fr"
    return language if language in ("fr", "en") else "fr"


@contextmanager
def session_locale(live_session: LiveSession) -> Iterator[None]:
    """Phone and projector pages speak the language of the process, whatever the browser."""
    with force_locale(process_language(live_session)):
        yield
