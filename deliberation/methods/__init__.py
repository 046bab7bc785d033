"""Vote methods: one object per method, in one table (:mod:`.registry`).

``deliberation.tally`` counts; this package says, for each method, which tally to use and
everything else that differs between methods. See docs/vote-methods.md, "Adding a method".
"""

from .base import Display, DocumentText, InvalidChoice, VoteMethod
from .registry import (
    BY_KEY,
    DEFAULT_METHOD,
    METHOD_KEYS,
    METHODS,
    OPTIONS_METHOD,
    PRIORITY_METHODS,
    VERDICT_METHODS,
    UnknownMethod,
    check_constraint,
    explain,
    known,
    method,
    order_of,
    summarize,
    summarize_bucket,
)

__all__ = [
    "BY_KEY",
    "DEFAULT_METHOD",
    "METHODS",
    "METHOD_KEYS",
    "OPTIONS_METHOD",
    "PRIORITY_METHODS",
    "VERDICT_METHODS",
    "UnknownMethod",
    "Display",
    "DocumentText",
    "InvalidChoice",
    "VoteMethod",
    "check_constraint",
    "explain",
    "known",
    "method",
    "order_of",
    "summarize",
    "summarize_bucket",
]
