"""A narrative report as read: its lines in document order, where each line sits (page, line of
the page) and the tables it holds, cell by cell.

``lines[i]`` is line ``i + 1`` of the report, the number every statement, finding and review row
points at.  For a PDF, ``pages[i]`` and ``page_lines[i]`` say where an official finds it on paper;
``ocr_pages`` are the pages whose text was read by OCR from a scan.  A table is kept twice: its
rows as lines (cells joined by `` | ``, a merged cell once) for the prose extractor, and as a grid
of cells for :mod:`ingest.narrative.tables`.

>>> doc = Document(lines=["BÁO CÁO", "Khai sinh | 12"], tables=(Table((TableRow(2, ("Khai sinh", "12"), (0, 1)),)),))
>>> doc.tables[0].rows[0].grid, doc.where(2)
(('Khai sinh', '12'), (None, None))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Document", "Table", "TableRow", "pipe_tables"]


@dataclass(frozen=True)
class TableRow:
    """One row of a table, one entry per grid column.

    A cell merged across columns (``gridSpan``) or down rows (``vMerge``) fills every grid column
    it covers with its text, and ``cell_ids`` gives the same identity to each of them: equal
    identities are one cell, equal texts in different cells are two figures (``845 | 845``).
    """

    line_no: int
    """The line of the report that holds the row (1-based)."""
    grid: tuple[str, ...]
    cell_ids: tuple[int, ...]

    @property
    def cells(self) -> tuple[str, ...]:
        """The row's distinct cells, left to right, each once (a merged cell is one cell)."""
        out: list[str] = []
        seen: set[int] = set()
        for text, ident in zip(self.grid, self.cell_ids, strict=True):
            if ident not in seen:
                seen.add(ident)
                out.append(text)
        return tuple(out)


@dataclass(frozen=True)
class Table:
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class Document:
    lines: list[str]
    pages: list[int | None] = field(default_factory=list)
    """The page of each line (PDF), or empty when the format has no pages (``.txt``, ``.docx``)."""
    page_lines: list[int | None] = field(default_factory=list)
    """The line of each line on its page (1-based), alongside :attr:`pages`."""
    tables: tuple[Table, ...] = ()
    ocr_pages: frozenset[int] = frozenset()
    """Pages without a text layer, read by OCR (:mod:`ingest.narrative.ocr`)."""

    def where(self, line_no: int) -> tuple[int | None, int | None]:
        """(page, line of the page) of report line ``line_no``; (None, None) without pages."""
        if not self.pages or not 1 <= line_no <= len(self.pages):
            return None, None
        return self.pages[line_no - 1], self.page_lines[line_no - 1]

    def is_ocr(self, line_no: int) -> bool:
        """True when line ``line_no`` was read by OCR."""
        page, _ = self.where(line_no)
        return page is not None and page in self.ocr_pages


def _pipe_cells(line: str) -> tuple[str, ...] | None:
    """The cells of a line written as a table row (``a | b | c``, or ``| a | b |`` as markdown
    writes it); None for a line of fewer than three cells."""
    stripped = line.strip()
    if stripped.count("|") < 2:
        return None
    if stripped.startswith("|") and stripped.endswith("|"):
        stripped = stripped[1:-1]
    cells = tuple(cell.strip() for cell in stripped.split("|"))
    if len(cells) < 3 or all(set(c) <= set("-: ") for c in cells):
        return None  # a markdown rule row ("|---|---|") is no row
    return cells


def pipe_tables(lines: Sequence[str]) -> tuple[Table, ...]:
    """The tables of a plain-text report: runs of at least two consecutive lines written as rows
    of the same number of cells joined by ``|`` (how a table reads once saved as text).  An empty
    first cell stays a cell (`` | Tổng cộng | 418 | 383``: the total row has no number).

    >>> [t.rows[-1].grid for t in pipe_tables(["x", "TT | Thủ tục | Tiếp nhận", "1 | Khai sinh | 5", " | Cộng | 5"])]
    [('', 'Cộng', '5')]
    """
    tables: list[Table] = []
    run: list[TableRow] = []
    for line_no, line in enumerate([*lines, ""], 1):
        cells = _pipe_cells(line)
        if run and (cells is None or len(cells) != len(run[-1].grid)):
            if len(run) >= 2:
                tables.append(Table(tuple(run)))
            run = []
        if cells is not None:
            run.append(TableRow(line_no, cells, tuple(range(len(cells)))))
    return tuple(tables)
