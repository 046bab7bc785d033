"""The second grid (États généraux): items seen through two axes at once.

``Process.grid`` holds the two axes::

    {"rows": {"name": "Transverse theme", "values": ["Participation", ...]},
     "cols": {"name": "Public policy", "values": ["Employment", ...]}}

Hypotheses, recommendations, action paths and implementation conditions carry a tag on each
axis (``grid_row`` / ``grid_col``, the value's text, empty when untagged). Removing a value
from an axis never erases a tag: items still carrying it are listed as "off the grid" so
nothing is lost and the organiser can re-tag them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ...database import writes
from ...extensions import db
from ...models import ITEM_TYPES, TITLE_MAX, Hypothesis, Process, model_of
from ...models.item_types import GRID_TYPES
from ..authoring.numbering import outline_items

AXES = ("rows", "cols")
MAX_VALUES = 40


class GridError(ValueError):
    pass


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    rows: Axis
    cols: Axis

    @property
    def is_set(self) -> bool:
        return bool(self.rows.values) and bool(self.cols.values)


@dataclass(frozen=True)
class GridItem:
    """One taggable item with where it sits in the process (for labels and order)."""

    item_type: str
    item_id: int
    label: str
    text: str
    field_title: str
    row: str
    col: str


@dataclass
class CrossTable:
    grid: Grid
    # cells[(row, col)] -> items in that cell, in field order.
    cells: dict[tuple[str, str], list[GridItem]] = field(default_factory=dict)
    row_totals: dict[str, int] = field(default_factory=dict)
    col_totals: dict[str, int] = field(default_factory=dict)
    # Tagged on one axis only, or not at all.
    partly_tagged: list[GridItem] = field(default_factory=list)
    untagged: list[GridItem] = field(default_factory=list)
    # Carrying a value that is no longer on its axis.
    off_grid: list[GridItem] = field(default_factory=list)
    total: int = 0

    def count(self, row: str, col: str) -> int:
        return len(self.cells.get((row, col), []))

    @property
    def max_count(self) -> int:
        return max((len(items) for items in self.cells.values()), default=0)


def get_grid(process: Process) -> Grid:
    stored = process.grid or {}

    def axis(key: str) -> Axis:
        raw = stored.get(key) or {}
        values = raw.get("values") or []
        return Axis(
            name=str(raw.get("name") or ""),
            values=tuple(str(v) for v in values if str(v).strip()),
        )

    return Grid(rows=axis("rows"), cols=axis("cols"))


def parse_values(text: str) -> list[str]:
    """One value per line; blank lines dropped, surrounding spaces trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _check_axis(label: str, name: str, values: list[str]) -> Axis:
    name = (name or "").strip()
    if values and not name:
        raise GridError(_("The %(axis)s axis needs a name.", axis=label))
    if len(name) > TITLE_MAX:
        raise GridError(
            _(
                "The %(axis)s axis name is too long (at most %(max)d characters).",
                axis=label,
                max=TITLE_MAX,
            )
        )
    if len(values) > MAX_VALUES:
        raise GridError(
            _(
                "The %(axis)s axis has too many values (at most %(max)d).",
                axis=label,
                max=MAX_VALUES,
            )
        )
    seen: set[str] = set()
    for value in values:
        if len(value) > TITLE_MAX:
            raise GridError(
                _(
                    "A value of the %(axis)s axis is too long: %(value)s…",
                    axis=label,
                    value=value[:40],
                )
            )
        if value.casefold() in seen:
            raise GridError(
                _(
                    "The value “%(value)s” appears twice on the %(axis)s axis.",
                    value=value,
                    axis=label,
                )
            )
        seen.add(value.casefold())
    return Axis(name=name, values=tuple(values))


@writes
def set_axes(
    process: Process,
    rows_name: str,
    rows_values: list[str],
    cols_name: str,
    cols_values: list[str],
) -> Grid:
    """Check and store both axes (an axis with no values and no name clears it), in one
    write transaction."""
    rows = _check_axis(_("row"), rows_name, [v.strip() for v in rows_values if v.strip()])
    cols = _check_axis(_("column"), cols_name, [v.strip() for v in cols_values if v.strip()])
    process.grid = {
        "rows": {"name": rows.name, "values": list(rows.values)},
        "cols": {"name": cols.name, "values": list(cols.values)},
    }
    return Grid(rows=rows, cols=cols)


def load_item(process: Process, item_type: str, item_id: int):
    """The taggable item of this process, or GridError."""
    model = model_of(item_type) if item_type in GRID_TYPES else None
    if model is None:
        raise GridError(_("Items of type “%(type)s” cannot be tagged.", type=item_type))
    item = db.session.get(model, item_id)
    if item is None or _process_id_of(item) != process.id:
        raise GridError(_("No such item in this process."))
    return item


def _process_id_of(item) -> int:
    if isinstance(item, Hypothesis):
        return item.question.field.process_id
    return item.finding.field.process_id


def _check_tag(axis: Axis, value: str, current: str, label: str) -> str:
    value = (value or "").strip()
    # Keeping an outdated tag as it is is allowed; choosing a new unknown value is not.
    if value and value not in axis.values and value != current:
        raise GridError(
            _("“%(value)s” is not a value of the %(axis)s axis.", value=value, axis=label)
        )
    return value


@writes
def tag_items(process: Process, tags: Iterable[tuple[str, int, str, str]]) -> int:
    """Set (row, col) on each (item_type, item_id); all or nothing. Returns how many changed."""
    grid = get_grid(process)
    planned = []
    for item_type, item_id, row, col in tags:
        item = load_item(process, item_type, item_id)
        planned.append(
            (
                item,
                _check_tag(grid.rows, row, item.grid_row, _("row")),
                _check_tag(grid.cols, col, item.grid_col, _("column")),
            )
        )
    changed = 0
    for item, row, col in planned:
        if (item.grid_row, item.grid_col) != (row, col):
            item.grid_row, item.grid_col = row, col
            changed += 1
    return changed


def grid_items(process: Process) -> Iterator[GridItem]:
    """Every taggable item, in field order (questions' hypotheses, then findings' items),
    labelled by its type's prefix and its number (H1.2, R3.1…)."""
    for entry in outline_items(process, GRID_TYPES):
        yield GridItem(
            entry.item_type,
            entry.item_id,
            f"{ITEM_TYPES[entry.item_type].grid_prefix}{entry.number}",
            entry.text,
            entry.field_title,
            entry.item.grid_row,
            entry.item.grid_col,
        )


def cross_table(process: Process) -> CrossTable:
    grid = get_grid(process)
    table = CrossTable(grid=grid)
    table.row_totals = {value: 0 for value in grid.rows.values}
    table.col_totals = {value: 0 for value in grid.cols.values}
    for item in grid_items(process):
        table.total += 1
        row_known = item.row in grid.rows.values
        col_known = item.col in grid.cols.values
        if (item.row and not row_known) or (item.col and not col_known):
            table.off_grid.append(item)
        elif row_known and col_known:
            table.cells.setdefault((item.row, item.col), []).append(item)
            table.row_totals[item.row] += 1
            table.col_totals[item.col] += 1
        elif row_known or col_known:
            table.partly_tagged.append(item)
        else:
            table.untagged.append(item)
    return table
