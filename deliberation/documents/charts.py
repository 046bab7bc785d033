"""The colours of the documents' charts and of their tables' legend cells.

A colour-blind-safe palette (Okabe-Ito), ordered from "agree" to "block" for the consensus
scale and from the best grade to "to reject" for majority judgment; the charts themselves
are native Word charts (:mod:`.wordcharts`).
"""

from __future__ import annotations

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


def colour(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


def hex_colour(index: int) -> str:
    return "{:02X}{:02X}{:02X}".format(*colour(index))


def hex_colours(count: int) -> list[str]:
    return [hex_colour(index) for index in range(count)]
