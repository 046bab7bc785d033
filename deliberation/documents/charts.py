"""Stacked bar charts as small PNG images, written without any imaging library.

A chart here is only coloured rectangles — one horizontal bar per row (all participants,
then each group), split in proportion to the answers — so it is cheaper to write the PNG
scanlines directly than to pull in an imaging stack: a chart takes well under a
millisecond, which keeps the Actes of a 200-poll process within its time budget. The labels
live in the table beside the chart (its first column carries the same colours).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

# Colour-blind-safe palette (Okabe-Ito), ordered from "agree" to "block" for the scale.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0x00, 0x9E, 0x73),  # green
    (0x56, 0xB4, 0xE9),  # sky blue
    (0xF0, 0xE4, 0x42),  # yellow
    (0xE6, 0x9F, 0x00),  # orange
    (0xD5, 0x5E, 0x00),  # vermillion
    (0xCC, 0x79, 0xA7),  # purple
    (0x00, 0x72, 0xB2),  # blue
    (0x99, 0x99, 0x99),  # grey
)
BACKGROUND = (0xFF, 0xFF, 0xFF)
EMPTY = (0xEE, 0xEE, 0xEE)

WIDTH = 600
BAR_HEIGHT = 18
GAP = 6


def colour(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


def hex_colour(index: int) -> str:
    return "{:02X}{:02X}{:02X}".format(*colour(index))


def hex_colours(count: int) -> list[str]:
    return [hex_colour(index) for index in range(count)]


# Palette indices: the answer colours, then the background and the empty bar.
_BACKGROUND_INDEX = len(PALETTE)
_EMPTY_INDEX = len(PALETTE) + 1
_PLTE = b"".join(bytes(c) for c in (*PALETTE, BACKGROUND, EMPTY))


def _segments(values: Sequence[int], width: int) -> bytes:
    """One scanline of palette indices: each value gets its share of the width (largest
    remainders, so the segments always fill the bar exactly)."""
    total = sum(v for v in values if v > 0)
    if total <= 0:
        return bytes([_EMPTY_INDEX]) * width
    exact = [max(v, 0) * width / total for v in values]
    widths = [int(x) for x in exact]
    leftover = width - sum(widths)
    for index in sorted(range(len(values)), key=lambda i: exact[i] - widths[i], reverse=True)[
        :leftover
    ]:
        widths[index] += 1
    return b"".join(bytes([i % len(PALETTE)]) * w for i, w in enumerate(widths) if w)


def stacked_bars(rows: Sequence[Sequence[int]], width: int = WIDTH) -> bytes:
    """A PNG with one horizontal stacked bar per row of counts."""
    blank = b"\x00" + bytes([_BACKGROUND_INDEX]) * width
    lines: list[bytes] = []
    for values in rows:
        line = b"\x00" + _segments(values, width)
        lines.extend([line] * BAR_HEIGHT)
        lines.extend([blank] * GAP)
    if not lines:
        lines = [blank]
    height = len(lines)
    raw = b"".join(lines)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    # 8-bit palette image (colour type 3): a third of the bytes of RGB to compress.
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", _PLTE)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )
