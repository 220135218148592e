"""Builders for submission files in every format (CSV, XLSX, JSON) and result filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from ingest.submissions.model import RowProblem, SubmissionRow

CORPUS = Path(__file__).parent / "corpus"
TODAY = dt.date(2026, 4, 15)
"""March 2026 is the latest month that has ended."""

HEADER_VI = ["ma_don_vi", "ky_bao_cao", "ma_chi_tieu", "ma_dich_vu", "tu_so", "mau_so", "ty_le", "ghi_chu"]
HEADER_EN = [
    "unit_code",
    "period",
    "indicator_code",
    "service_code",
    "numerator",
    "denominator",
    "reported_rate",
    "note",
]

Item = SubmissionRow | RowProblem
Row = Sequence[Any]


def row(
    unit: str = "AG.STP",
    period: Any = "2026-03",
    indicator: str = "HT_SCANNED",
    service: Any = "",
    numerator: Any = "850",
    denominator: Any = "1.000",
    rate: Any = "",
    note: Any = "",
) -> list[Any]:
    """One data row in contract order; defaults make a valid row of Sở Tư pháp An Giang."""
    return [unit, period, indicator, service, numerator, denominator, rate, note]


def data_rows(rows: Sequence[Row]) -> int:
    """Rows a parser must read: those with at least one non-empty cell."""
    return sum(1 for r in rows if any(str(c).strip() for c in r if c is not None))


def csv_bytes(rows: Sequence[Row], header: Row = HEADER_VI, *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    return to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)


_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def to_cp1258(text: str) -> bytes:
    """Encode as Windows does: Windows-1258 has â ê ô ă ơ ư đ precomposed but the five tone
    marks only as combining characters, so "ệ" is written as "ê" + combining dot below."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", char)
        letter = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        out += (letter + "".join(c for c in decomposed if c in _TONES)).encode("cp1258")
    return bytes(out)


def xlsx_bytes(
    rows: Sequence[Row],
    header: Row = HEADER_VI,
    *,
    sheet: str = "du_lieu",
    above: Sequence[Row] = (),
    other_sheets: Sequence[str] = (),
    edit: Callable[[Any], None] | None = None,
) -> bytes:
    """A workbook whose sheet ``sheet`` holds ``above`` (titles), the header and ``rows``;
    ``other_sheets`` come first; ``edit`` may change the data sheet before saving."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    for title in other_sheets:
        workbook.create_sheet(title)
    ws = workbook.create_sheet(sheet)
    workbook.remove(first)
    for r in [*above, header, *rows]:
        ws.append(list(r))
    if edit is not None:
        edit(ws)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def json_bytes(rows: Sequence[Row], header: Row = HEADER_EN) -> bytes:
    return json.dumps([dict(zip(header, r, strict=True)) for r in rows], ensure_ascii=False).encode()


def loaded(items: Sequence[Item]) -> list[SubmissionRow]:
    return [i for i in items if isinstance(i, SubmissionRow)]


def problems(items: Sequence[Item]) -> list[RowProblem]:
    return [i for i in items if isinstance(i, RowProblem)]
