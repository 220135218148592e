"""Ruled tables of a PDF page, read as tables: one line per row, merged cells known by identity.

pdfplumber finds a table from its ruling lines and gives each cell's box; a slot of the grid that
no cell begins in (``None``) belongs to the merged cell whose box covers it, to its left or
above.  A table with at least one figure in its cells is a data table: its rows become lines
(cells joined by `` | ``) placed among the page's other text lines by their height on the page, and
a :class:`~ingest.narrative.document.TableRow` grid for :mod:`ingest.narrative.tables`.  A page
without a data table keeps pdfplumber's plain text, line for line.

>>> blocks = page_blocks(pdfplumber.open("bc.pdf").pages[0])  # doctest: +SKIP
>>> [b.text for b in blocks if b.grid][:1]  # doctest: +SKIP
['1 | Đăng ký khai sinh | 2.076 | 2.070 | 99,71%']
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["PageBlock", "page_blocks"]

_DATA_CELL = re.compile(r"^\d[\d.,]*(?:\s|%|$)")
"""A cell that opens with a number (``2.076``, ``99,71%``, ``1.234 hồ sơ``, a row number): a data table."""
_SAME_EDGE = 1.5
"""Points within which two cell edges are the same grid line."""

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PageBlock:
    """A line of a page (``grid`` is None) or a row of a data table, and where it stands."""

    top: float
    text: str
    page_line: int
    """The line of the page, counted as an official counts them: text lines from the top."""
    grid: tuple[str, ...] | None = None
    cell_ids: tuple[int, ...] | None = None
    table: int | None = None
    """Which data table of the page the row belongs to (0, 1, ...)."""


def _clean(text: str | None) -> str:
    return unicodedata.normalize("NFC", " ".join((text or "").split()))


def _edges(values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _SAME_EDGE:
            out.append(v)
    return out


def _covering(cells: Sequence[Box], x: float, y: float) -> int | None:
    for i, (x0, top, x1, bottom) in enumerate(cells):
        if x0 <= x <= x1 and top <= y <= bottom:
            return i
    return None


def _grid(table: Any) -> list[tuple[float, tuple[str, ...], tuple[int, ...]]]:
    """(top, text per grid column, cell identity per grid column) of each row of a table."""
    cells: list[Box] = [tuple(c) for c in table.cells]
    texts = {i: "" for i in range(len(cells))}
    index = {box: i for i, box in enumerate(cells)}
    for row, values in zip(table.rows, table.extract(), strict=True):
        for box, value in zip(row.cells, values, strict=True):
            if box is not None:
                texts[index[tuple(box)]] = _clean(value)
    xs = _edges([c[0] for c in cells] + [c[2] for c in cells])
    out: list[tuple[float, tuple[str, ...], tuple[int, ...]]] = []
    for row in table.rows:
        # The row's own height: a cell merged down from it reaches below the row.
        top = row.bbox[1]
        bottom = min(box[3] for box in row.cells if box is not None)
        ids: list[int] = []
        for left, right in itertools.pairwise(xs):
            found = _covering(cells, (left + right) / 2, (top + bottom) / 2)
            if found is not None:
                ids.append(found)
        out.append((top, tuple(texts[i] for i in ids), tuple(ids)))
    return out


def _inside(obj: dict[str, Any], boxes: Sequence[Box]) -> bool:
    x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def page_blocks(page: Any) -> list[PageBlock] | None:
    """The lines and table rows of a page in reading order; None when it has no data table."""
    tables = [t for t in page.find_tables() if any(_DATA_CELL.match(_clean(v)) for row in t.extract() for v in row)]
    if not tables:
        return None
    visual = [line["top"] for line in page.extract_text_lines()]
    boxes: list[Box] = [tuple(t.bbox) for t in tables]
    outside = page.filter(lambda obj: not (obj.get("object_type") == "char" and _inside(obj, boxes)))
    raw = [PageBlock(line["top"], _clean(line["text"]), 0) for line in outside.extract_text_lines()]
    base = 0
    for table_no, table in enumerate(tables):
        for top, grid, ids in _grid(table):
            shifted = tuple(i + base for i in ids)
            raw.append(PageBlock(top, " | ".join(_distinct(grid, shifted)), 0, grid, shifted, table_no))
        base += len(table.cells)
    raw.sort(key=lambda block: block.top)
    return [replace(b, page_line=1 + sum(1 for v in visual if v < b.top - _SAME_EDGE)) for b in raw]


def _distinct(grid: Sequence[str], ids: Sequence[int]) -> list[str]:
    seen: set[int] = set()
    out: list[str] = []
    for text, ident in zip(grid, ids, strict=True):
        if ident not in seen:
            seen.add(ident)
            out.append(text)
    return out
