"""One mapping of the process file (a field, a hypothesis…) with the line it is on, and the
typed reads the importer makes of it: each refusal names the key, the item and the line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...models import PLAIN_SUMMARY_MAX, TEXT_MAX, TITLE_MAX
from ..validation import one_line
from .process_format import (
    FALSE_WORDS,
    TRUE_WORDS,
    LineList,
    LineMap,
    ProcessFileError,
)


def listing(words: tuple[str, ...] | list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)


class Entry:
    """One mapping of the file (a field, a hypothesis…), read with messages that name it."""

    def __init__(self, value: Any, what: str, line: int, keys: tuple[str, ...]):
        if not isinstance(value, LineMap):
            raise ProcessFileError(f"a {what} must be a list of keys such as {keys[0]}:", line)
        for key in value:
            if key not in keys:
                raise ProcessFileError(
                    f"unknown key {key!r} in a {what} (expected {listing(keys)})",
                    value.line_of(key),
                )
        self.map, self.what, self.line = value, what, value.line

    def line_of(self, key: str) -> int:
        return self.map.line_of(key)

    def _string(self, key: str) -> str | None:
        value = self.map.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ProcessFileError(f"{self.what} {key} must be a text", self.line_of(key))
        return value

    def _check(self, key: str, value: str, required: bool, limit: int) -> str:
        if required and key not in self.map:
            raise ProcessFileError(f"{self.what} {key} is missing", self.line)
        if required and not value:
            raise ProcessFileError(f"{self.what} {key} is empty", self.line_of(key))
        if len(value) > limit:
            raise ProcessFileError(
                f"{self.what} {key} is too long ({len(value)} characters, at most {limit})",
                self.line_of(key),
            )
        return value

    def title(self, key: str, required: bool = False, limit: int = TITLE_MAX) -> str:
        """A one-line text: inner whitespace collapsed, as the authoring screens do."""
        return self._check(key, one_line(self._string(key) or ""), required, limit)

    def text(self, key: str, required: bool = False, limit: int = TEXT_MAX) -> str:
        """A Markdown text: trimmed, without trailing spaces on its lines."""
        raw = (self._string(key) or "").strip()
        text = "\n".join(line.rstrip() for line in raw.split("\n"))
        return self._check(key, text, required, limit)

    def summary(self) -> str:
        """The item's plain-language summary (easy-to-read mode on the phones)."""
        return self.text("plain_summary", limit=PLAIN_SUMMARY_MAX)

    def flag(self, key: str) -> bool:
        word = (self._string(key) or "").strip().lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise ProcessFileError(
                f"{self.what} {key} must be true or false, not {word!r}", self.line_of(key)
            )
        return word in TRUE_WORDS

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        word = (self._string(key) or "").strip() or default
        if word not in choices:
            raise ProcessFileError(
                f"unknown {key} {word!r} (expected {listing(choices)})", self.line_of(key)
            )
        return word

    def percent(self, key: str, default: int) -> int:
        word = (self._string(key) or "").strip()
        if not word:
            return default
        if not word.isdigit() or int(word) > 100:
            raise ProcessFileError(
                f"{self.what} {key} must be a whole number from 0 to 100, not {word!r}",
                self.line_of(key),
            )
        return int(word)

    def entries(self, key: str, what: str, keys: tuple[str, ...]) -> Iterator[Entry]:
        """The mappings listed under ``key``; a bare text stands for ``{text: …}``."""
        for value, line in self.values(key):
            if isinstance(value, str):
                value = LineMap(text=value)
                value.line, value.lines = line, {"text": line}
            yield Entry(value, what, line, keys)

    def values(self, key: str) -> list[tuple[Any, int]]:
        value = self.map.get(key)
        if value is None or value == "":
            return []
        if not isinstance(value, LineList):
            raise ProcessFileError(
                f"{self.what} {key} must be a list (one '- ' line per item)", self.line_of(key)
            )
        return list(zip(value, value.lines, strict=True))

    def mapping(self, key: str, what: str, keys: tuple[str, ...]) -> Entry | None:
        value = self.map.get(key)
        if value is None or value == "":
            return None
        return Entry(value, what, self.line_of(key), keys)
