"""Dot voting (gommettes). The tally is :mod:`deliberation.tally.dots`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from ..tally import dots as tally
from .base import Display, DocumentText, InvalidChoice, VoteMethod, by_options


def clean_dots(
    choice: Any, option_keys: Sequence[str], dots: int
) -> tuple[dict[str, Any], dict[str, int]]:
    given = choice.get("dots") if isinstance(choice, dict) else None
    if not isinstance(given, dict) or not set(given) <= set(option_keys):
        raise InvalidChoice(given)
    if any(type(n) is not int or n < 0 for n in given.values()):
        raise InvalidChoice(given)
    if not 1 <= sum(given.values()) <= dots:
        raise InvalidChoice(given)
    cleaned = {key: given[key] for key in option_keys if given.get(key)}
    return {"dots": cleaned}, dict(cleaned)


def dot_words(
    choice: Mapping[str, Any], options: Mapping[str, str], answers: Mapping[str, str]
) -> str:
    return "; ".join(
        f"{options.get(key, key)} × {n}" for key, n in (choice.get("dots") or {}).items()
    )


DOT = VoteMethod(
    key="dot",
    label=_l("Dot voting"),
    legend=_l("Your answer"),
    phone_form="dots",
    summarize_counts=by_options(tally.summarize_counts),
    clean_choice=clean_dots,
    choice_words=dot_words,
    base_notes={"dots_given": _l("Base: %(n)s dots given by %(b)s participants", n="{n}", b="{b}")},
    phone_strings={
        "dots_left": _l("Dots left: %(n)s of %(total)s", n="{n}", total="{total}"),
        "dots_none": _l("Give at least one dot."),
        "add_dot": _l("Add a dot to: %(label)s", label="{label}"),
        "remove_dot": _l("Remove a dot from: %(label)s", label="{label}"),
        "dots_for": _l("%(n)s dots for: %(label)s", n="{n}", label="{label}"),
    },
    uses_options=True,
    min_options=2,
    uses_dots=True,
    charted=True,
    consolidation_rule=_l(
        "Overall figure: the dots of every territory added up; dot voting ranks, it does not "
        "validate."
    ),
    display=Display(chart="bars", ranked=True, group_cell="top", per_option=True),
    documents={
        "fr": DocumentText(
            title="Vote par gommettes",
            rule=(
                "Chaque participant répartit ses gommettes entre les options. Base : les "
                "gommettes données. Ce vote classe les options ; il ne valide rien."
            ),
            count="Gommettes",
        ),
        "en": DocumentText(
            title="Dot voting",
            rule=(
                "Each participant spreads their dots over the options. Base: dots given. This "
                "vote ranks options; it validates nothing."
            ),
            count="Dots",
        ),
    },
)
