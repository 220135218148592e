"""Per-service tables of a report: the header names each column, each data row is a statement.

Many units report per service in a table::

    STT | Tên thủ tục/dịch vụ | Tổng số hồ sơ tiếp nhận | Hồ sơ trực tuyến | Tỷ lệ
    1   | Đăng ký khai sinh   | 2.076                   | 2.070            | 99,71%

The header rows (the rows above the first figure; a two-row header with merged cells reads as one
label per column, ``Số hồ sơ Tổng số hồ sơ tiếp nhận``) give each column a meaning, the first that
fits, in this order: ``rate`` (``tỷ lệ``, ``%``), ``online`` (``trực tuyến``), ``received``
(``tiếp nhận``, ``tổng số``), ``service`` (``thủ tục``, ``dịch vụ``, ``tên``, ``nội dung``); a table
with no service column names its rows by its first other column that is no row number
(``Sở, ngành``, ``Lĩnh vực``: rows of departments or fields, whose service is unknown).  A
table with a service (or row name), a received and an online column is a service table; a table without a header
that follows one of the same width goes on from it (a PDF table across a page break).  Each row of
a service table with both counts is one statement: numerator = online, denominator = received, the
rate as stated.  The indicator is the registry's one whose numerator counts dossiers received
online and whose denominator counts all dossiers received (:func:`received_online_indicator`;
failing a single one, what :func:`ingest.narrative.mapping.map_statement` reads in the header).
The service is the one the row's service cell names
(:func:`ingest.narrative.mapping.match_service`; the confidence is that of the service name, as
for prose), and ``Tổng cộng`` / ``Cộng`` is the all-services row, ``NA``.

>>> rows = (TableRow(1, ("Tên thủ tục", "Tiếp nhận", "Trực tuyến", "Tỷ lệ"), (0, 1, 2, 3)),
...         TableRow(2, ("Đăng ký kết hôn", "845", "845", "100%"), (4, 5, 6, 7)))
>>> [(s.service_code, s.numerator, s.denominator) for s in table_statements([Table(rows)], load_registry())[0]]
[('DV14', 845, 845)]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from ingest.narrative.document import Table, TableRow
from ingest.narrative.extract import Statement
from ingest.narrative.mapping import MappingResult, map_statement, match_service
from ingest.numbers import NumberFormatError, parse_count, parse_rate
from ingest.registry import NO_SERVICE, Registry, load_registry

__all__ = ["ServiceColumns", "received_online_indicator", "service_columns", "table_statements"]

_FIGURE = re.compile(r"^\d[\d.,]*\s?%?$")
_MEANINGS = (
    ("rate", re.compile(r"\bt[yi] le\b|%")),
    ("online", re.compile(r"\btruc tuyen\b|\bonline\b")),
    ("received", re.compile(r"\btiep nhan\b|\btong so\b")),
    ("service", re.compile(r"\bthu tuc\b|\bdich vu\b|^ten\b|\bnoi dung\b")),
)
_ROW_NUMBER = re.compile(r"^(?:stt|tt|so tt|so thu tu|)$")
_TOTAL_ROW = re.compile(r"^(?:tong cong|tong so|tong|cong)\b")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


@dataclass(frozen=True)
class ServiceColumns:
    """Where a service table keeps each figure: grid column indexes, and the header's words."""

    service: int
    received: int
    online: int
    rate: int | None
    header_rows: int
    labels: tuple[str, ...]
    """The header text of each grid column (merged header cells once per column)."""


def _labels(header: Sequence[TableRow]) -> tuple[str, ...]:
    width = max(len(r.grid) for r in header)
    out: list[str] = []
    for col in range(width):
        seen: set[int] = set()
        words: list[str] = []
        for row in header:
            if col < len(row.grid) and row.cell_ids[col] not in seen and row.grid[col]:
                seen.add(row.cell_ids[col])
                words.append(row.grid[col])
        out.append(" ".join(words))
    return tuple(out)


def service_columns(table: Table) -> ServiceColumns | None:
    """The columns of a service table, or None when the table is not one."""
    header_rows = 0
    for row in table.rows:
        if any(_FIGURE.match(text) for text in row.grid):
            break
        header_rows += 1
    if header_rows == 0 or header_rows == len(table.rows):
        return None
    labels = _labels(table.rows[:header_rows])
    found: dict[str, int] = {}
    for col, label in enumerate(labels):
        folded = _fold(label)
        for meaning, pattern in _MEANINGS:
            if pattern.search(folded):
                found.setdefault(meaning, col)
                break
    if {"received", "online"} <= found.keys() and "service" not in found:
        # A table per department or field ("Sở, ngành | Tiếp nhận | Trực tuyến"): its rows are
        # named by the first other column that is not a row number.
        named = [c for c, label in enumerate(labels) if c not in found.values() and not _ROW_NUMBER.match(_fold(label))]
        if named:
            found["service"] = named[0]
    if not {"service", "received", "online"} <= found.keys():
        return None
    return ServiceColumns(found["service"], found["received"], found["online"], found.get("rate"), header_rows, labels)


def _continued(table: Table, previous: ServiceColumns | None) -> ServiceColumns | None:
    """A table with no header of its own that goes on from a service table of the same width:
    the rest of the table on the next page of a PDF."""
    if previous is None or not table.rows or len(table.rows[0].grid) != len(previous.labels):
        return None
    if not any(_FIGURE.match(text) for text in table.rows[0].grid):
        return None
    return replace(previous, header_rows=0)


def _count(text: str) -> int | None:
    try:
        return parse_count(text) if _FIGURE.match(text) and "%" not in text else None
    except NumberFormatError:
        return None


def _rate(text: str) -> Decimal | None:
    try:
        return parse_rate(text) if text and _FIGURE.match(text) else None
    except NumberFormatError:
        return None


def received_online_indicator(registry: Registry) -> str | None:
    """The registry's indicator of a received / online table: its numerator counts the dossiers
    received online (``trực tuyến`` and ``tiếp nhận``), its denominator all dossiers received;
    None unless exactly one indicator per service is defined so."""
    found = []
    for ind in registry.indicators.values():
        numerator, denominator = _fold(ind.numerator), _fold(ind.denominator or "")
        if (
            ind.has_service
            and "truc tuyen" in numerator
            and "tiep nhan" in numerator
            and "tiep nhan" in denominator
            and "truc tuyen" not in denominator
        ):
            found.append(ind.code)
    return found[0] if len(found) == 1 else None


def _mapping(service_text: str, cols: ServiceColumns, registry: Registry, role: str | None) -> MappingResult:
    """Indicator, service and confidence of a row: the indicator the header's columns define in
    the registry (else what :func:`map_statement` reads in the header), the service its cell names."""
    total = bool(_TOTAL_ROW.match(_fold(service_text)))
    code = received_online_indicator(registry)
    if code is None:
        header = " ".join(x for x in cols.labels if x)
        found = map_statement(
            label=f"{cols.labels[cols.online]} hồ sơ",
            sentence=header,
            surroundings=header,
            count_unit="hồ sơ",
            service_texts=[] if total else [service_text],
            role=role,
            registry=registry,
        )
        if found.indicator_code is None or not total:
            return found
        return MappingResult(found.indicator_code, NO_SERVICE, found.confidence)
    if total:
        return MappingResult(code, NO_SERVICE, 1.0)
    service, service_confidence = match_service([service_text], registry)
    if service is None:
        return MappingResult(code, None, 0.5)
    confidence = 0.5 + service_confidence / 2
    allowed = registry.indicators[code].services_for(role) if role else ()
    if allowed and service not in allowed:
        confidence *= 0.9
    return MappingResult(code, service, round(confidence, 2))


def _row_statement(row: TableRow, cols: ServiceColumns, registry: Registry, role: str | None) -> Statement | None:
    """The statement of one data row, or None when it lacks one of its two counts or received
    nothing (``0 | 0 | -``: no dossier, no share)."""
    cell = row.grid
    if max(cols.service, cols.received, cols.online) >= len(cell):
        return None
    received, online = _count(cell[cols.received]), _count(cell[cols.online])
    if not received or online is None:
        return None
    mapping = _mapping(cell[cols.service], cols, registry, role)
    indicator = mapping.indicator_code
    computed = (
        (Decimal(100 * online) / Decimal(received)).quantize(Decimal("0.01"), ROUND_HALF_UP) if received else None
    )
    measure = registry.indicators[indicator].measure_type if indicator else None
    return Statement(
        line_no=row.line_no,
        numerator=online,
        denominator=received,
        reported_rate_pct=_rate(cell[cols.rate]) if cols.rate is not None and cols.rate < len(cell) else None,
        computed_rate_pct=computed,
        denominator_kind="total",
        scope="month" if measure == "flow" else "cumulative" if measure == "stock" else "unknown",
        subject=cell[cols.service],
        count_unit="hồ sơ",
        indicator_code=indicator,
        service_code=mapping.service_code if indicator else None,
        snippet=" | ".join(row.cells),
        confidence=mapping.confidence if indicator else 0.0,
        relation="ratio",
        denominator_label=cols.labels[cols.received] or None,
    )


def table_statements(
    tables: Sequence[Table], registry: Registry | None = None, role: str | None = None
) -> tuple[list[Statement], set[int]]:
    """The statements of every service table, and the report lines they come from.

    The lines (header and rows that gave a statement) are for the caller to keep away from the
    prose extractor, so that a row is not read a second time as a sentence.
    """
    reg = registry if registry is not None else load_registry()
    statements: list[Statement] = []
    used: set[int] = set()
    previous: ServiceColumns | None = None
    for table in tables:
        cols = service_columns(table) or _continued(table, previous)
        previous = cols
        if cols is None:
            continue
        used.update(r.line_no for r in table.rows[: cols.header_rows])
        for row in table.rows[cols.header_rows :]:
            st = _row_statement(row, cols, reg, role)
            if st is not None:
                statements.append(st)
                used.add(row.line_no)
    return statements, used
