"""Stylesheets inlined in the pages a phone opens first (join, code entry, ballot), and the
addresses of the static files those pages name.

On a slow network every request costs a round trip (2 s on "Slow 3G"): a stylesheet in a
``<link>`` holds the first paint back by one. The phone pages carry theirs in a
``<style nonce>`` instead (a few KB compressed, less than one round trip); the other pages
keep their ``<link>`` (cached). See docs/benchmarks.md, "Phones on a slow network".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import request, url_for
from markupsafe import Markup

CSS_DIR = Path(__file__).resolve().parent.parent / "static" / "css"


@lru_cache(maxsize=16)
def _joined(names: tuple[str, ...], mtimes_ns: tuple[int, ...]) -> Markup:
    # One string per set of files and their versions: a phone page is drawn for every phone
    # on every reload, and its ~25 KB of CSS is the same each time (docs/benchmarks.md).
    parts = []
    for name in names:
        text = (CSS_DIR / name).read_text(encoding="utf-8")
        # "</style" cannot occur in our CSS; refuse it rather than let it end the element.
        if "</" in text:
            raise ValueError(f"{name} cannot be inlined")
        parts.append(text)
    return Markup("\n".join(parts))


def inline_css(*names: str) -> Markup:
    """The stylesheets ``names`` of static/css, for a ``<style>`` element (read again when a
    file changes; names are the templates' literals, never a client's)."""
    mtimes = []
    for name in names:
        path = CSS_DIR / name
        if path.parent != CSS_DIR or path.suffix != ".css":
            raise ValueError(f"not a stylesheet of static/css: {name!r}")
        mtimes.append(path.stat().st_mtime_ns)
    return _joined(names, tuple(mtimes))


def static_url(filename: str) -> str:
    """``url_for("static", filename=…)`` built once per file: the phone page names six
    scripts and is drawn for every phone on every reload (docs/benchmarks.md)."""
    return _static_url(request.script_root, filename)


@lru_cache(maxsize=64)
def _static_url(script_root: str, filename: str) -> str:
    # script_root is in the key: it is all of the request that a static file's path depends on.
    return url_for("static", filename=filename)
