"""Ranking, for prioritising action paths: each participant orders all the options; the
result is the Borda count (see :mod:`deliberation.tally.borda` and docs/vote-methods.md).

A ballot is the complete order of the poll's options, ``{"ranking": [key, …]}``: every
option exactly once. Its counters are the points it gives (n − 1 … 0), kept per option, so
the tally moves by a ballot's points and is never recounted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from ..tally import borda as tally
from .base import Display, DocumentText, InvalidChoice, VoteMethod, by_options


def clean_ranking(
    choice: Any, option_keys: Sequence[str], dots: int
) -> tuple[dict[str, Any], dict[str, int]]:
    """A complete order of the options: a list of their keys, each exactly once."""
    order = choice.get("ranking") if isinstance(choice, dict) else None
    if (
        not isinstance(order, list)
        or not all(isinstance(key, str) for key in order)
        or len(order) != len(option_keys)
        or set(order) != set(option_keys)
    ):
        raise InvalidChoice(order)
    # An option at the bottom gets 0 points: no counter to move for it.
    counters = {key: given for key, given in tally.points(order).items() if given}
    return {"ranking": list(order)}, counters


def ranking_words(
    choice: Mapping[str, Any], options: Mapping[str, str], answers: Mapping[str, str]
) -> str:
    return "; ".join(
        f"{position}. {options.get(key, key)}"
        for position, key in enumerate(choice.get("ranking") or [], start=1)
    )


RANKING = VoteMethod(
    key="ranking",
    label=_l("Ranking (Borda count)"),
    legend=_l("Put the options in your order of priority"),
    phone_form="order",
    summarize_counts=by_options(tally.summarize_counts),
    clean_choice=clean_ranking,
    choice_words=ranking_words,
    base_notes={
        "borda_points": _l(
            "Base: %(n)s points from %(b)s rankings (Borda count: the first of n options gets "
            "n − 1 points, the last 0)",
            n="{n}",
            b="{b}",
        )
    },
    phone_strings={
        "order_hint": _l(
            "First = highest priority. Drag an option, or use its arrow buttons, to move it."
        ),
        "move_up": _l("Move up: %(label)s", label="{label}"),
        "move_down": _l("Move down: %(label)s", label="{label}"),
        "moved": _l(
            "%(label)s is now number %(n)s of %(total)s.", label="{label}", n="{n}", total="{total}"
        ),
        "position": _l("Number %(n)s", n="{n}"),
    },
    uses_options=True,
    min_options=2,
    charted=True,
    display=Display(chart="bars", ranked=True, group_cell="top", per_option=True),
    consolidation_rule=_l(
        "Overall figure: the Borda points of every territory added up; a ranking orders "
        "priorities, it does not validate."
    ),
    documents={
        "fr": DocumentText(
            title="Classement (méthode de Borda)",
            rule=(
                "Chaque participant classe toutes les options. Avec n options, la première "
                "reçoit n − 1 points, la suivante n − 2, la dernière 0 (méthode de Borda, "
                "1781). Base : les points donnés. Des scores égaux partagent le même rang. Ce "
                "vote classe les options ; il ne valide rien."
            ),
            count="Points",
        ),
        "en": DocumentText(
            title="Ranking (Borda count)",
            rule=(
                "Each participant orders all the options. With n options, the first gets n − 1 "
                "points, the next n − 2, the last 0 (Borda count, 1781). Base: points given. "
                "Equal scores share the same rank. This vote ranks options; it validates "
                "nothing."
            ),
            count="Points",
        ),
    },
)
