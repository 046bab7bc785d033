"""Tables of translated strings, built once per language and process.

A label table (the groups, the item types, the phone's and the results' strings…) is a
constant of the message catalogue: the same for every request in one language. Building it
on every page costs a ``gettext`` through Flask-Babel per entry (its context, locale and
domain looked up each time: about 10 µs each, some 170 per phone page, docs/benchmarks.md
"The no-JavaScript form voter (issue 17)"). :func:`once_per_locale` builds it the first time
a locale asks, then hands out the same object.

What is cached must be a function of the locale alone, made of plain ``str`` (never a lazy
string, which would be rendered again in whatever locale reads it later) and never changed
by a caller: the object is shared by every request of that language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from flask_babel import get_locale

T = TypeVar("T")


def once_per_locale(build: Callable[[], T]) -> Callable[[], T]:
    """``build()`` as the current locale renders it, built once per locale and shared."""
    built: dict[str, T] = {}

    @functools.wraps(build)
    def in_current_locale() -> T:
        # The locale the request is rendered in (a forced one inside ``force_locale``),
        # or None outside any request and application context: untranslated.
        locale = str(get_locale())
        try:
            return built[locale]
        except KeyError:
            # Two requests may race to build the same table: both get an equal one.
            table = built.setdefault(locale, build())
            return table

    return in_current_locale
