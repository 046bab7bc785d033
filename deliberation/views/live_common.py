"""What the live pages (phone, projector, console) share: group, item-type and outcome labels
(the one home of these UI labels; each vote method's own labels and strings live with it, in
``deliberation.methods``), the strings their scripts show, the locale of a session's process, and
finding a session by the code a person typed (throttled against guessing).
Documents name things in the process language instead (``deliberation.wording``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, render_template, request
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from .. import methods, refusals
from ..methods import verdict
from ..methods.majority_judgment import grade_labels
from ..models import ITEM_TYPES, PROPOSAL_TEXT_MAX, LiveSession, Participant, Process
from ..services.live import sessions
from ..services.people import throttles
from ..translated import once_per_locale

# Longer input is no code: refused without a lookup.
CODE_INPUT_MAX = 20


class TooManyCodeGuesses(Exception):
    """This address tried too many unknown codes; ``wait`` seconds until it may again."""

    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


def session_for_code(code: str | None) -> LiveSession | None:
    """The session a typed code names, or None. An address over its budget of unknown codes
    is refused before the lookup (:class:`TooManyCodeGuesses`), so that it learns nothing
    more; a code matching no session spends one unit of that budget."""
    address = throttles.address_key(request.remote_addr)
    wait = throttles.CODE_GUESSES.wait(address)
    if wait:
        raise TooManyCodeGuesses(wait)
    code = code or ""
    live_session = sessions.session_by_code(code) if len(code) <= CODE_INPUT_MAX else None
    if live_session is None:
        throttles.CODE_GUESSES.hit(address)
    return live_session


def session_and_participant(code: str, token: str | None) -> tuple[LiveSession, Participant] | None:
    """A phone's session and its participant (their token), read together: the way of every
    request of a joined phone. An address over its budget of unknown codes is refused
    first, as by :func:`session_for_code`; when nothing is found the caller asks that one,
    which spends a unit of the budget only if the code itself is unknown."""
    refuse_a_guessing_address()
    if len(code) > CODE_INPUT_MAX:
        return None
    return sessions.session_and_participant(code, token)


def refuse_a_guessing_address() -> None:
    """Raise :class:`TooManyCodeGuesses` when this address is over its budget of unknown
    codes: checked before any look-up by code, so that it learns nothing more."""
    wait = throttles.CODE_GUESSES.wait(throttles.address_key(request.remote_addr))
    if wait:
        raise TooManyCodeGuesses(wait)


def too_many_code_guesses(error: TooManyCodeGuesses):
    """The page for an address refused by the code throttle (registered on the blueprints
    that look codes up)."""
    message = ngettext(
        "Too many unknown codes were tried from this network. Wait %(num)d minute, then "
        "check the code shown on the screen.",
        "Too many unknown codes were tried from this network. Wait %(num)d minutes, then "
        "check the code shown on the screen.",
        throttles.minutes(error.wait),
    )
    page = render_template("live/not_found.html", code="", message=message)
    return page, 429, {"Retry-After": str(error.wait)}


@once_per_locale
def group_labels() -> dict[str, str]:
    """Translated labels of the default group keys; a process may also use free labels.
    Built once per language (deliberation.translated): shared, never to be changed."""
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


@once_per_locale
def item_type_labels() -> dict[str, str]:
    """Every item type's label (the registry's), in the current locale."""
    return {key: _(entry.label) for key, entry in ITEM_TYPES.items()}


@once_per_locale
def method_labels() -> dict[str, str]:
    return {method.key: str(method.label) for method in methods.METHODS}


def method_strings(attribute: str) -> dict[str, str]:
    """Every method's strings of one kind (``base_notes``, ``phone_strings``,
    ``result_strings``), merged and rendered in the current locale."""
    merged: dict[str, str] = {}
    for method in methods.METHODS:
        merged.update({key: str(text) for key, text in getattr(method, attribute).items()})
    return merged


@once_per_locale
def outcome_labels() -> dict[str, str]:
    """A vote's outcome, as the results renderer and the consolidation screens name it."""
    return verdict.outcome_labels()


@once_per_locale
def results_strings() -> dict[str, Any]:
    """Strings used by the results renderer shared by the projector and the console."""
    return {
        "groups": group_labels(),
        "items": item_type_labels(),
        "methods": method_labels(),
        # How each method's result is drawn (deliberation.methods.Display).
        "displays": {method.key: method.display.as_json() for method in methods.METHODS},
        "outcomes": outcome_labels(),
        "bases": method_strings("base_notes"),
        **method_strings("result_strings"),
        # An answer outside the base of the shares (abstentions): its share has its own base.
        "apart_share": _("%(p)s %% of the ballots cast", p="{p}"),
        "by_group": _("By group"),
        "group": _("Group"),
        "ballots": _("Ballots"),
        "support_col": _("Support"),
        "divergence": _("Groups differ strongly: %(detail)s", detail="{detail}"),
        "divergence_pair": _(
            "%(a)s %(pa)s %% vs %(b)s %(pb)s %%", a="{a}", pa="{pa}", b="{b}", pb="{pb}"
        ),
        "small_groups": _(
            "Groups with fewer than %(n)s ballots are counted under “Other”, and so is the "
            "smallest group when “Other” would still have fewer than %(n)s.",
            n="{n}",
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


@once_per_locale
def phone_strings() -> dict[str, Any]:
    return {
        "online": _("Connected"),
        # Until the socket connects, votes go over HTTP: the header says so (issue 14).
        "connecting": _("Connecting… your vote is sent all the same."),
        "offline": _("Connection lost. Your vote will be sent when it comes back."),
        "refused": _("The server refused the connection: %(message)s", message="{message}"),
        "waiting": _("Welcome! Wait for the facilitator to show an item."),
        "no_poll": _("No vote on this item yet. Follow the discussion."),
        "draft": _("The vote on this item is not open yet."),
        "open": _("The vote is open."),
        "closed": _("The vote is closed."),
        "published": _("The vote is closed. The results are on the screen."),
        "send": _("Send my vote"),
        "change": _("Change my vote"),
        "sending": _("Sending your vote…"),
        "recorded": _("Your vote is recorded."),
        "recorded_change": _("Your vote is recorded. You can change it while the vote is open."),
        "counted": _("Your vote was counted."),
        "not_voted": _("You did not vote on this item."),
        "pending": _("Your vote is not recorded yet; it will be sent again automatically."),
        "choose_first": _("Choose an answer first."),
        # The ballot forms of the vote methods (deliberation.methods).
        **method_strings("phone_strings"),
        "countdown": _("Time left: %(t)s", t="{t}"),
        "time_up": _("Time is up."),
        "rejoin": str(refusals.message("invalid_token")),
        "vote_again": str(refusals.message("stale_round")),
        "results": _("Results"),
        "secret_vote": _(
            "Secret vote: nobody will see your choice. When the vote closes, only the fact "
            "that you voted is kept."
        ),
        "named_vote": _(
            "Named vote: your name and your choice will be recorded, and the organisers "
            "will see them."
        ),
    }


@once_per_locale
def phone_words() -> dict[str, str]:
    """The words of the phone page's own HTML (templates/live/phone.html and _propose.html):
    one table per language, rather than some twenty ``_()`` through Flask-Babel on every
    page drawn (docs/benchmarks.md, "The no-JavaScript form voter")."""
    return {
        "skip": _("Skip to the current item"),
        "simple_page": _(
            "Simple page: your vote is sent when you press the button. Refresh the page to "
            "follow the room."
        ),
        "refresh": _("Refresh"),
        "easy": _("Easy to read and understand"),
        "in_short": _("In short"),
        "stop_reading": _("Stop reading"),
        "read_aloud": _("Read aloud"),
        "time_left_shown": _("Time left when this page was shown."),
        "results": _("Results"),
        "documents": _("The workshop’s documents"),
        "propose": _("Propose a change or a comment"),
        "reloads": _("This page reloads itself to follow the room."),
        "write_without_reloads": _("Write your proposal without reloads"),
        "what": _("What do you propose?"),
        "kind_amendment": _("A new wording of this item"),
        "kind_action_path": _("A new action path for this finding"),
        "kind_implementation_condition": _("A new implementation condition for this finding"),
        "kind_comment": _("A comment"),
        "your_text": _("Your text"),
        "start_from_wording": _("Start from the current wording"),
        "send_proposal": _("Send my proposal"),
        "proposal_arrived": _("Your proposal has arrived. The facilitator will look at it."),
        "my_proposals": _("My proposals"),
        "no_proposals": _("You have not proposed anything yet."),
        # Filled in by the template (%-formatted, as Jinja's gettext does).
        "joined_as": _("You joined as %(name)s."),
        "group_is": _("Group: %(group)s."),
    }


@once_per_locale
def propose_config() -> Markup:
    """What the phone's proposal form gives static/js/propose.js (templates/live/_propose.html),
    as script JSON: the same for every phone of a language, serialised once."""
    strings = {
        "about": _("About: {title}"),
        "aboutNothing": _("Nothing is on screen: you can send a comment."),
        "commentOnly": _("On this item you can send a comment."),
        "count": _("{count} / {max} characters"),
        "empty": str(refusals.message("empty")),  # the catalogue's words for the same refusal
        "tooLong": _("Your proposal is too long."),
        "sending": _("Sending…"),
        "received": _("Your proposal has arrived. The facilitator will look at it."),
        "offline": _("No connection: your proposal will be sent when the connection is back."),
        "kinds": {
            "amendment": _("New wording"),
            "action_path": _("New action path"),
            "implementation_condition": _("New implementation condition"),
            "comment": _("Comment"),
        },
        "statuses": {
            "sending": _("Sending…"),
            "pending": _("Arrived, waiting for the facilitator"),
            "accepted": _("Kept: the room will vote on it"),
            "merged": _("Merged with a similar proposal"),
            "returned": _("Sent back"),
            "kept_as_comment": _("Kept as a comment for the proceedings"),
            "adopted": _("Adopted by the room"),
            "rejected": _("Not adopted (kept for the proceedings)"),
        },
        "reason": _("Reason: {reason}"),
    }
    return script_json({"maxLength": PROPOSAL_TEXT_MAX, "strings": strings})


@once_per_locale
def phone_config_strings() -> Markup:
    """The two members of the phone's script configuration that are the same for every phone
    of a language, ``"results"`` and ``"strings"``, as JSON text serialised once (for
    :func:`script_config`)."""
    return Markup(
        f'"results": {script_json(results_strings())}, "strings": {script_json(phone_strings())}'
    )


def script_json(value: Any) -> Markup:
    """``value|tojson`` (Flask's JSON, escaped to be safe in a ``<script>`` element)."""
    return htmlsafe_json_dumps(value, dumps=current_app.json.dumps)


def script_config(values: dict[str, Any], serialised: Markup) -> Markup:
    """``values|tojson`` with more members already serialised (``"key": JSON, …``): one
    object for the page's script, its constant part never serialised again."""
    if not values:
        return Markup(f"{{{serialised}}}")
    text = script_json(values)
    return Markup(f"{text[:-1]}, {serialised}}}")


@once_per_locale
def slide_strings() -> dict[str, Any]:
    """What the projector's slide says beside its pictures (static/js/slide-charts.js)."""
    return {
        "mark_validated": _("Validated from %(t)s %%", t="{t}"),
        "mark_rework": _("To rework from %(t)s %%", t="{t}"),
        "mark_block": _("Blocks: under %(t)s %%", t="{t}"),
        "apart_note": _("not in the base: a share of the %(b)s ballots cast", b="{b}"),
        "median": _("Median"),
        "group_ballots": _("%(n)s ballots", n="{n}"),
        "group_ballots_one": _("1 ballot"),
        "sm_support": _("Support %(p)s %%", p="{p}"),
    }


def page_language(language: str | None) -> str:
    """The language a live page is drawn in: its process's, when the pages speak it."""
    language = language or "fr"
    return language if language in ("fr", "en") else "fr"


def process_language(live_session: LiveSession) -> str:
    return page_language(live_session.process.language)


@contextmanager
def session_locale(live_session: LiveSession) -> Iterator[None]:
    """Phone and projector pages speak the language of the process, whatever the browser."""
    with force_locale(process_language(live_session)):
        yield
