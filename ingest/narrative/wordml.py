"""Read the body of a Word document (WordprocessingML) in document order, as offices write it.

* Paragraphs and tables come in the order they stand in the body, so the letterhead table at the
  top (issuing body on the left; ``Số: …`` and the date on the right) comes before the title.
* A **layout table**, one where no cell opens with a number (the letterhead, the signature
  block), gives one line per paragraph of each cell, cell after cell, as if it were not a table.
* A **data table** gives one line per row, its cells joined by `` | ``, and a
  :class:`~ingest.narrative.document.Table` whose grid knows merged cells by identity: a cell
  spanning columns (``w:gridSpan``) or continued down rows (``w:vMerge``) is one cell, so
  ``Đăng ký kết hôn | 845 | 845 | 100%`` keeps both of its 845.
* **Tracked insertions** (``w:ins``, ``w:moveTo``) are text; tracked deletions are not.
* A **footnote** reference becomes its number in superscript (``3968¹``) and the footnote's text
  a line of its own (``¹ …``) right after the paragraph or row that cites it.

>>> lines, tables = body_lines(docx.Document(open("bc.docx", "rb")))  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Any

from lxml import etree

from ingest.narrative.document import Table, TableRow

__all__ = ["body_lines"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _TR, _TC = _W + "p", _W + "tbl", _W + "tr", _W + "tc"
_SDT, _SDT_CONTENT = _W + "sdt", _W + "sdtContent"
_VAL, _ID = _W + "val", _W + "id"
_INLINE_CONTAINERS = frozenset(
    _W + t for t in ("r", "ins", "moveTo", "hyperlink", "smartTag", "sdt", "sdtContent", "fldSimple", "customXml")
)
_BLOCK_CONTAINERS = frozenset(_W + t for t in ("sdt", "sdtContent", "ins", "moveTo", "customXml"))
_TEXT_OF = {_W + "tab": "\t", _W + "ptab": "\t", _W + "br": " ", _W + "cr": " ", _W + "noBreakHyphen": "-"}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_DATA_CELL = re.compile(r"^\d[\d.,]*(?:\s|%|$)")
"""A cell that opens with a number (``2.076``, ``99,71%``, ``1.234 hồ sơ``, a row number): a data table."""
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
MAX_SPAN = 64
"""Grid columns one cell may cover (Word allows 63 columns): a hostile ``gridSpan`` is capped."""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def footnote_texts(document: Any) -> dict[str, str]:
    """The text of every footnote of a python-docx ``Document``, by ``w:id``."""
    out: dict[str, str] = {}
    for rel in document.part.rels.values():
        if rel.is_external or not rel.reltype.endswith("/footnotes"):
            continue
        root = etree.fromstring(rel.target_part.blob, parser=_PARSER)
        for note in root.iter(_W + "footnote"):
            if note.get(_W + "type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            texts = [" ".join(_inline(p, lambda _id: "").split()) for p in note.iter(_P)]
            out[note.get(_ID, "")] = " ".join(t for t in texts if t)
    return out


def _inline(element: Any, on_note: Any) -> str:
    """The text of a paragraph: runs, tracked insertions, hyperlinks; footnote marks by ``on_note``."""
    parts: list[str] = []
    for child in element:
        tag = child.tag
        if tag == _W + "t":
            parts.append(child.text or "")
        elif tag in _TEXT_OF:
            parts.append(_TEXT_OF[tag])
        elif tag == _W + "footnoteReference":
            parts.append(on_note(child.get(_ID, "")))
        elif tag in _INLINE_CONTAINERS:
            parts.append(_inline(child, on_note))
    return "".join(parts)


class _Body:
    """Walks the body once, writing lines and tables."""

    def __init__(self, notes: dict[str, str]) -> None:
        self.notes = notes
        self.lines: list[str] = []
        self.tables: list[Table] = []
        self.pending: list[str] = []
        self.note_numbers = itertools.count(1)
        self.cell_ids = itertools.count()

    def note_mark(self, note_id: str) -> str:
        mark = str(next(self.note_numbers)).translate(_SUPERSCRIPT)
        self.pending.append(f"{mark} {self.notes.get(note_id, '')}".rstrip())
        return mark

    def emit(self, text: str) -> None:
        self.lines.append(_nfc(text))
        self.lines.extend(_nfc(n) for n in self.pending)
        self.pending.clear()

    def blocks(self, container: Any) -> None:
        for child in container:
            if child.tag == _P:
                self.emit(_inline(child, self.note_mark).replace("\n", " ").replace("\v", " "))
            elif child.tag == _TBL:
                self.table(child)
            elif child.tag in _BLOCK_CONTAINERS:
                self.blocks(child)

    def cell(self, tc: Any) -> list[str]:
        """The paragraphs of a cell (those of a table nested in it too), whitespace collapsed."""
        return [" ".join(_inline(p, self.note_mark).split()) for p in tc.iter(_P)]

    def grid(self, tbl: Any) -> list[tuple[list[tuple[int, list[str]]], list[str]]]:
        """Each row as (cell identity, paragraphs) per grid column, with the footnotes it cites."""
        rows: list[tuple[list[tuple[int, list[str]]], list[str]]] = []
        above: dict[int, tuple[int, list[str]]] = {}
        for tr in _children(tbl, _TR):
            row: list[tuple[int, list[str]]] = []
            before = tr.find(f"{_W}trPr/{_W}gridBefore")
            for _ in range(min(int(before.get(_VAL, "0")), MAX_SPAN) if before is not None else 0):
                row.append((next(self.cell_ids), []))
            for tc in _children(tr, _TC):
                span_el = tc.find(f"{_W}tcPr/{_W}gridSpan")
                span = min(max(1, int(span_el.get(_VAL, "1"))), MAX_SPAN) if span_el is not None else 1
                merge = tc.find(f"{_W}tcPr/{_W}vMerge")
                col = len(row)
                if merge is not None and merge.get(_VAL, "continue") == "continue" and col in above:
                    cell = above[col]
                else:
                    cell = (next(self.cell_ids), self.cell(tc))
                for k in range(col, col + span):
                    if merge is not None:
                        above[k] = cell
                    else:
                        above.pop(k, None)
                row.extend([cell] * span)
            rows.append((row, self.pending[:]))
            self.pending.clear()
        return rows

    def table(self, tbl: Any) -> None:
        rows = self.grid(tbl)
        if not any(_DATA_CELL.match(" ".join(paras)) for row, _notes in rows for _id, paras in row):
            seen: set[int] = set()
            for row, notes in rows:
                for ident, paras in row:
                    if ident not in seen:
                        seen.add(ident)
                        for text in paras:
                            self.emit(text)
                self.lines.extend(_nfc(n) for n in notes)
            return
        out: list[TableRow] = []
        for row, notes in rows:
            grid = tuple(_nfc(" ".join(" ".join(paras).split())) for _id, paras in row)
            table_row = TableRow(len(self.lines) + 1, grid, tuple(ident for ident, _ in row))
            self.pending = notes
            self.emit(" | ".join(table_row.cells))
            out.append(table_row)
        self.tables.append(Table(tuple(out)))


def _children(element: Any, tag: str) -> Any:
    """The ``tag`` children of ``element``, looking through content controls and tracked insertions."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _BLOCK_CONTAINERS:
            yield from _children(child, tag)


def body_lines(document: Any) -> tuple[list[str], list[Table]]:
    """The lines and data tables of a python-docx ``Document``, in document order."""
    body = _Body(footnote_texts(document))
    body.blocks(document.element.body)
    if body.pending:
        body.lines.extend(_nfc(n) for n in body.pending)
    return body.lines, body.tables
