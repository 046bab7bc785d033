"""Old phones (issue 14): the scripts the phone pages ship parse as ECMAScript 2017 — what
browsers from 2019 on run — with a real JavaScript parser (Esprima 4, ES2017; plus a check of
the one ES2018 form it lets through, object rest/spread)."""

from __future__ import annotations

import re
from pathlib import Path

import esprima
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The pages a participant's phone opens.
PHONE_TEMPLATES = ("live/enter_code.html", "live/join.html", "live/phone.html")
# url_for("static", filename=…) or static_url(…) (deliberation/assets.py, the phone page).
SCRIPT = re.compile(r"""(?:filename=|static_url\()['"]([^'"]+\.js)['"]""")


def phone_scripts() -> list[str]:
    names: set[str] = set()
    for template in PHONE_TEMPLATES:
        names |= set(SCRIPT.findall((ROOT / "templates" / template).read_text(encoding="utf-8")))
    return sorted(names)


def es2017_problems(source: str) -> list[str]:
    """Why ``source`` is not ES2017 (nothing: it is). Esprima 4 refuses the syntax of ES2018
    on (optional chaining, ``??``, class fields, ``for await``, ``catch {}``, BigInt…) except
    object rest/spread, looked for in the tree."""
    problems: list[str] = []

    def visit(node, meta) -> None:
        parts = getattr(node, "properties", None) or []
        if node.type in ("ObjectExpression", "ObjectPattern") and any(
            part.type in ("SpreadElement", "RestElement") for part in parts
        ):
            problems.append(f"line {meta.start.line}: object rest/spread (ES2018)")

    try:
        esprima.parseScript(source, {"loc": True}, visit)
    except esprima.Error as error:
        problems.append(str(error))
    return problems


def test_the_phone_pages_name_their_scripts():
    assert {"js/phone.js", "js/propose.js", "js/join.js", "js/live-shared.js"} <= set(
        phone_scripts()
    )
    assert "vendor/socket.io/socket.io.min.js" in phone_scripts()


@pytest.mark.parametrize("name", phone_scripts())
def test_phone_script_is_es2017(name):
    source = (ROOT / "static" / name).read_text(encoding="utf-8")
    assert es2017_problems(source) == [], name


@pytest.mark.parametrize(
    "newer",
    [
        "var a = b?.c;",
        "var a = b ?? c;",
        "var a = {...b};",
        "var {a, ...rest} = b;",
        "class A { x = 1; }",
        "try {} catch {}",
        "async function f() { for await (const x of y) {} }",
        "var n = 1n;",
    ],
)
def test_syntax_newer_than_es2017_is_caught(newer):
    assert es2017_problems(newer)
    assert es2017_problems("async function f() { await g(); var h = (x) => `${x}`; }") == []
