"""The code's shape, checked: no module over 500 lines, docs/architecture.md lists every
module (and none that is gone), and no view or socket handler commits or rolls back (the
services' write transactions do: docs/architecture.md, "Transactions")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "deliberation"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _listed_modules() -> set[str]:
    """The modules of the "Every module" tree: a line ``name/`` opens a package at its
    indentation; ``a.py  b.py  …`` at the start of a line names modules in it."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Every module", 1)[1].split("```", 2)[1]
    listed: set[str] = set()
    stack: list[tuple[int, str]] = []  # (indentation, package path)
    for line in section.splitlines():
        stripped = line.lstrip()
        if not stripped:
            continue
        indent = len(line) - len(stripped)
        first = stripped.split()[0]
        if first.endswith("/") and "/" not in first[:-1]:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1] + "/" if stack else ""
            stack.append((indent, parent + first[:-1]))
            continue
        if not re.fullmatch(r"\w+\.py", first):
            continue  # the rest of a description
        while stack and stack[-1][0] >= indent:
            stack.pop()
        package = stack[-1][1] + "/" if stack else ""
        for word in stripped.split():
            if not re.fullmatch(r"\w+\.py", word):
                break
            listed.add(package + word)
    return listed


def test_no_module_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): count
        for path in _modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (at most {MAX_LINES} lines): {long}"


def test_architecture_lists_every_module_and_only_those():
    actual = {str(path.relative_to(ROOT)) for path in _modules()}
    listed = {name for name in _listed_modules() if name.startswith("deliberation/")}
    assert actual - listed == set(), "modules missing from docs/architecture.md"
    assert listed - actual == set(), "docs/architecture.md lists modules that do not exist"


def _session_calls(path: Path) -> list[str]:
    """``db.session.commit()``, ``….rollback()`` (on a session, connection or transaction)
    in a module, as "path:line" — not ``authoring.rollback`` (a text's earlier version)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("commit", "rollback")
            and re.search(r"(session|connection|transaction)(\(\))?$", ast.unparse(node.func.value))
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_views_and_live_never_commit_nor_roll_back():
    calls = [
        call
        for layer in ("views", "live")
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for call in _session_calls(path)
    ]
    assert calls == []
