"""The process file's format: its keys, and YAML that remembers lines and dumps readably.

The loader turns every plain scalar into text (``yes``, ``2015`` and ``1.10`` stay what the
organiser typed); the schema in :mod:`.process_file` converts the few numbers and flags
itself. Mappings and sequences come back as :class:`LineMap` and :class:`LineList`, which
know the line of each of their values, so every message can name the line to fix.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ... import inputs
from ...models import ITEM_TYPES, PlainSummary
from ..validation import SLUG_MAX, SLUG_PATTERN  # noqa: F401 (re-exported)

# The same bounds as the authoring screens.
from .processes import CONSENSUS_KEYS, GROUP_MAX, GROUPS_MAX  # noqa: F401 (re-exported)

FORMAT_VERSION = "1"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
LANGUAGES = ("fr", "en")
THRESHOLDS = {  # file key -> (model attribute, default)
    "validated": ("threshold_validated", 70),
    "rework": ("threshold_rework", 50),
    "block": ("threshold_block", 5),
    "divergence_points": ("divergence_points", 25),
}
GRID_AXES, GRID_VALUES_MAX = ("rows", "cols"), 40
# What one file may hold: far beyond any real process (the Assises have a few hundred
# items), and bounded so that a mistaken or hostile file cannot exhaust the server.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ITEMS = 10_000
# A process file nests about 8 levels (process, fields, a field, findings, a finding,
# its lists, an item): anything much deeper is not a process file.
MAX_NESTING = 32
# Characters YAML refuses in a file (PyYAML's reader), and lone surrogates.
_UNACCEPTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on"), ("false", "no", "off", "")

PROCESS_KEYS = (
    "slug", "title", "subtitle", "language", "introduction", "steering_committee",
    "thresholds", "labels", "groups", "grid", "territories", "fields", "format",
    "priority_method", "events", "registration",
)  # fmt: skip
FIELD_KEYS = (
    "title", "description", "illustrative", "questions", "expert_inputs", "findings",
    "expert_invitations",
)  # fmt: skip
QUESTION_KEYS = ("id", "text", "illustrative", "hypotheses")
HYPOTHESIS_KEYS = ("id", "text", "plain_summary", "grid_row", "grid_col")
EXPERT_KEYS = (
    "title", "author", "role", "affiliation", "illustrative", "text", "references", "stances",
    "justifications",
)  # fmt: skip
FINDING_KEYS = (
    "text", "plain_summary", "question", "recommendations", "action_paths", "conditions", "notes",
)  # fmt: skip
ITEM_KEYS = ("text", "grid_row", "grid_col")


def item_keys(model: type) -> tuple[str, ...]:
    """The keys of an item under a finding: an item that can be put to the vote may also
    have its plain-language summary (a note may not)."""
    return (*ITEM_KEYS, "plain_summary") if issubclass(model, PlainSummary) else ITEM_KEYS


# File key -> (model, relationship, name in messages): a finding's lists, named in the file
# as the finding's relationships (docs/process-format.md), from the item-type registry.
FINDING_ITEMS = {
    entry.siblings: (entry.model, entry.siblings, entry.key.replace("_", " "))
    for entry in ITEM_TYPES.values()
    if entry.parent == "finding"
}


class ProcessFileError(ValueError):
    """A process file refused; the message names the line and the reason."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


class LineMap(dict):
    """A YAML mapping with the line of the mapping and of each value (1-based)."""

    line: int
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class LineList(list):
    """A YAML sequence with the line of the sequence and of each item (1-based)."""

    line: int
    lines: list[int]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _LineConstructing:
    """What both loaders share: no implicit types, no aliases."""

    # No implicit types: every plain scalar is text (see the module docstring).
    yaml_implicit_resolvers: dict = {}

    def construct_object(self, node, deep=False):  # type: ignore[no-untyped-def]
        # Aliases let a small file expand enormously; a hand-written process never needs one.
        # An alias is the same node met a second time.
        if node in self.constructed_objects:
            raise ProcessFileError(
                "aliases (*name) are not supported: write the value out", _line(node)
            )
        return super().construct_object(node, deep)  # type: ignore[misc]


class _Loader(_LineConstructing, yaml.SafeLoader):
    """Pure Python: slower, but with the clearest syntax error messages."""


class _FastLoader(_LineConstructing, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when installed: much faster; on a syntax error the file is read again by
    :class:`_Loader` for its message."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    result = LineMap()
    result.line = _line(node)
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise ProcessFileError("a key must be a plain name such as title:", _line(key_node))
        if key in result:
            raise ProcessFileError(
                f"the key {key!r} appears twice here (first on line {result.lines[key]})",
                _line(key_node),
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = _line(value_node)
    return result


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    value = loader.construct_scalar(node)
    # An escape in a quoted text ("\\ud800", "\\0") can still make what no database stores.
    if not inputs.storable(value):
        raise ProcessFileError(
            "this text holds a character that cannot be stored (a lone surrogate or a NUL, "
            "e.g. written as \\ud800 or \\0 in quotes): remove it",
            _line(node),
        )
    return value


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(item, deep=True) for item in node.value)
    result.line = _line(node)
    result.lines = [_line(item) for item in node.value]
    return result


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
    _loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
    _loader.add_constructor("tag:yaml.org,2002:str", _construct_str)

_HINTS = {
    "mapping values are not allowed here": (
        " (a text containing ': ' must be put in quotes, or written as a block after '|')"
    ),
    "found character '\\t' that cannot start any token": " (indent with spaces, not tabs)",
}


def _check_characters(text: str) -> None:
    """Name the line and column of a character YAML would refuse without saying where."""
    found = _UNACCEPTABLE.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    raise ProcessFileError(
        f"character U+{ord(found.group()):04X} at column {column} is not allowed in a "
        "process file (a control character or an invalid one): remove it",
        line,
    )


def _check_nesting(text: str) -> None:
    """Refuse nesting deeper than ``MAX_NESTING`` before any object is built (building is
    recursive: a file nested thousands of levels deep would exhaust the stack). The events
    are read without recursion, by libyaml first; where it stops on an error (it has its
    own, higher, nesting limit) by the pure-Python parser, which reads on. A syntax error is
    left for the real reading to report."""
    for loader in (_FastLoader, _Loader):
        depth = 0
        try:
            for event in yaml.parse(text, Loader=loader):
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    depth += 1
                    if depth > MAX_NESTING:
                        raise ProcessFileError(
                            f"lists and keys nested more than {MAX_NESTING} levels deep: "
                            "this is not the shape of a process file",
                            event.start_mark.line + 1,
                        )
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    depth -= 1
            return
        except yaml.YAMLError:
            continue


def load_yaml(text: str) -> Any:
    """Parse ``text``; a syntax error becomes a :class:`ProcessFileError` with its line."""
    _check_characters(text)
    _check_nesting(text)
    try:
        return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        pass
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "not valid YAML"
        hint = _HINTS.get(problem, "")
        started = error.context_mark
        if error.problem and error.context and started and mark and started.line != mark.line:
            # e.g. an unclosed quote: say where the unfinished thing began.
            hint += f" ({error.context} that starts on line {started.line + 1})"
        raise ProcessFileError(
            f"YAML syntax error: {problem}{hint}", mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as error:
        raise ProcessFileError(f"YAML syntax error: {error}") from None


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False):  # type: ignore[override]
        # Indent list items under their key: easier to read and to edit by hand.
        return super().increase_indent(flow, False)


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    # Multi-line texts (Markdown) as literal blocks; PyYAML falls back to quotes when a
    # block cannot hold the text exactly (e.g. trailing spaces on a line).
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100_000,
        default_flow_style=False,
    )
