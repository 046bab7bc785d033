"""What any value from a client must be before it goes further: the one set of checks shared
by the Socket.IO edge (:mod:`deliberation.live.guard`), ``POST /api/ballots`` and the
services that take ids from a payload.

A client can send any JSON: numbers beyond 64 bits (SQLite raises ``OverflowError``), lone
surrogates (``"\\ud800"`` is valid JSON, but no database driver can encode it), NUL
characters (PostgreSQL refuses them in text), ``NaN``, and nesting deep enough to exhaust the
parser's recursion. :func:`loads` refuses all of these with a :class:`Malformed` carrying the
documented error code, checking the size and the nesting depth on the raw text *before* the
parser runs, and :func:`check_value` walks an already parsed value (the join form, a YAML
file) with the same rules.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

# One Socket.IO event or one POST /api/ballots body, in characters (the largest honest
# payload, an open_poll with 30 options of 300 characters, is under 20,000).
MAX_PAYLOAD_CHARS = 64 * 1024
# Nesting of arrays and objects: the deepest honest payload (an event with its options or
# grades) has 4 levels.
MAX_DEPTH = 8
# Any single string in a payload (a proposal is at most 2,000 characters; the services
# apply their own, smaller limits with their own messages).
MAX_STRING_CHARS = 20_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Every id column is an INTEGER (32 bits on PostgreSQL, which refuses a larger value even in
# a comparison): an id beyond it names nothing and must not reach a query.
ID_MAX = 2**31 - 1

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_CONTAINER = re.compile(r"\[\]|\{\}")
# Lone surrogates cannot be encoded by any driver; NUL is refused by PostgreSQL.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Malformed(ValueError):
    """A payload refused before it reached any handler; ``code`` is the documented error."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON ``text`` nests arrays and objects deeper than ``limit``.

    Cheap on the text itself, before parsing: fewer opening brackets than the limit cannot
    be too deep (every honest message stops here). Otherwise the strings are removed, then
    the brackets left; each pass removes the innermost empty containers, so ``limit``
    passes clear anything no deeper than ``limit``. Unbalanced brackets never clear: such a
    text is not JSON anyway.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    skeleton = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(limit):
        if not skeleton:
            return False
        skeleton = _EMPTY_CONTAINER.sub("", skeleton)
    return bool(skeleton)


def _no_constant(name: str) -> Any:
    raise Malformed("bad_request", f"{name} is not a number a client may send")


def _int64(digits: str) -> int:
    # Checked on the text: converting thousands of digits costs time for nothing.
    if len(digits.lstrip("-")) > 19:
        raise Malformed("bad_request", "integer out of the 64-bit range")
    return int(digits)


def loads(text: str, max_chars: int = MAX_PAYLOAD_CHARS, max_string: int = MAX_STRING_CHARS) -> Any:
    """Parse one JSON payload from a client, or raise :class:`Malformed`.

    ``too_large`` above ``max_chars``; ``bad_request`` for text that is not JSON, nests
    deeper than :data:`MAX_DEPTH`, or holds a value :func:`check_value` refuses.
    """
    if not isinstance(text, str):
        raise Malformed("bad_request", "not text")
    if len(text) > max_chars:
        raise Malformed("too_large", f"{len(text)} characters, at most {max_chars}")
    if too_deep(text):
        raise Malformed("bad_request", f"nested deeper than {MAX_DEPTH}")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_int=_int64)
    except Malformed:
        raise
    except (ValueError, RecursionError) as error:  # JSONDecodeError, > 4,300 digits…
        raise Malformed("bad_request", type(error).__name__) from None
    check_value(value, max_string=max_string)
    return value


def loads_bytes(body: bytes, max_chars: int = MAX_PAYLOAD_CHARS) -> Any:
    """:func:`loads` for an HTTP body: UTF-8 only, its size checked before decoding."""
    if len(body) > 4 * max_chars:  # 4 bytes per character at most
        raise Malformed("too_large", f"{len(body)} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("bad_request", "not UTF-8") from None
    return loads(text, max_chars)


def storable(text: str) -> bool:
    """A string any database can store as sent: no lone surrogate, no NUL."""
    if text.isascii():
        return "\x00" not in text
    return _UNSTORABLE.search(text) is None


def check_value(value: Any, max_depth: int = MAX_DEPTH, max_string: int = MAX_STRING_CHARS) -> None:
    """Refuse (:class:`Malformed` ``bad_request``) what no handler should ever see: strings
    that cannot be stored or longer than :data:`MAX_STRING_CHARS`, integers outside the
    signed 64-bit range, non-finite numbers, nesting deeper than ``max_depth``."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > max_string or not storable(item):
                raise Malformed("bad_request", "unacceptable string")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise Malformed("bad_request", "integer out of the 64-bit range")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise Malformed("bad_request", "number out of range")
        elif isinstance(item, (list, dict)):
            if depth >= max_depth:
                raise Malformed("bad_request", f"nested deeper than {max_depth}")
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth + 1))
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        else:
            raise Malformed("bad_request", f"unexpected {type(item).__name__}")


def is_id(value: Any) -> bool:
    """A database id as a client may name it: a positive integer within the id columns'
    range (never a bool, a float or a string of digits)."""
    return type(value) is int and 0 < value <= ID_MAX


def is_round(value: Any) -> bool:
    """A poll round number (1, 2…), an INTEGER column too."""
    return is_id(value)


def strict_bool(value: Any) -> bool | None:
    """``True``/``False`` as sent, else None: ``"false"``, 0 and ``[]`` are not booleans."""
    return value if type(value) is bool else None


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with the same checks (``request.get_json``):
    a body nested too deep, with numbers out of range or unstorable strings is a
    ``ValueError``, which Flask answers 400 (or ``None`` when ``silent``), never a 500.
    Sizes are bounded by ``MAX_CONTENT_LENGTH``; organisers' texts may be long."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8") if isinstance(s, (bytes, bytearray)) else s
        return loads(text, max_chars=len(text), max_string=len(text))
