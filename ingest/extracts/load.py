"""Load one source extract into its raw table: rows by COPY as they are parsed, problems to quarantine.

The rows go to the server in ~1 MB chunks of COPY text while the file is still being read, so
parsing and the server's insert overlap and memory stays flat; the problems are spooled to a
temporary file and copied into ``raw.quarantine`` after the rows.  The caller owns the
transaction (the ledger row goes in the same one) and the file id.

>>> counts = load_extract(conn, fp, kind="bhxh", name="bhxh.csv", file_id=7, batch_id="b1",
...                       communes=communes, key=pseudonym_key())
>>> counts.rows + counts.problems == rows_read
True
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import psycopg
from psycopg import sql

from ingest.extracts.formats import ExtractKind
from ingest.extracts.parse import BhxhVerification, CivilRegistryCount, parse_bhxh, parse_civil_registry
from ingest.submissions.model import RowProblem

TABLES: dict[ExtractKind, str] = {"civil_registry": "raw.civil_registry_count", "bhxh": "raw.bhxh_verification"}
ROW_COLUMNS: dict[ExtractKind, tuple[str, ...]] = {
    "civil_registry": (
        "file_id",
        "batch_id",
        "row_no",
        "extract_date",
        "commune_code",
        "record_type",
        "records_total",
        "records_scanned",
        "records_entered",
        "records_synced",
    ),
    "bhxh": (
        "file_id",
        "batch_id",
        "row_no",
        "extract_date",
        "participant_key",
        "person_key",
        "birth_year",
        "commune_code",
        "status",
        "status_at",
    ),
}
QUARANTINE_COLUMNS = (
    "file_id",
    "batch_id",
    "row_no",
    "column_name",
    "raw_value",
    "reason_code",
    "reason_vi",
    "reason_en",
    "raw_row",
)
CHUNK_BYTES = 1024 * 1024
NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\ufffd"})


@dataclass
class LoadCounts:
    """What one extract's load wrote: rows loaded, rows quarantined, and rows per month."""

    rows: int = 0
    problems: int = 0
    months: Counter[str] = field(default_factory=Counter)


class _DayCounter:
    """Rows per month, counted by runs of one extract date rather than row by row: the parser
    hands out one string object per distinct date, so a change of date is an identity test."""

    def __init__(self, months: Counter[str]) -> None:
        self.months, self.day, self.start = months, "", 0

    def change(self, day: str, index: int) -> None:
        """The rows from ``index`` of the current chunk on have date ``day``."""
        if self.day:
            self.months[self.day[:7]] += index - self.start
        self.day, self.start = day, index

    def flush(self, lines: list[str]) -> bytes:
        """The chunk as COPY text; its rows counted, and ``lines`` emptied for the next chunk."""
        self.change(self.day, len(lines))
        self.start = 0
        chunk = "".join(lines).encode()
        lines.clear()
        return chunk


def _field(value: Any) -> str:
    return NULL if value is None else str(value).translate(_ESCAPES)


def _copy(conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...]) -> Any:
    stmt = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(*table.split(".", 1)), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    return conn.cursor().copy(stmt)


def _problem_line(prefix: str, p: RowProblem) -> bytes:
    raw_row = json.dumps(p.raw_row, ensure_ascii=False)
    values = (p.row_no, p.column, p.raw_value, p.reason_code, p.reason_vi, p.reason_en, raw_row)
    return (prefix + "\t".join(map(_field, values)) + "\n").encode("utf-8", "replace")


def _civil_lines(items: Iterator[Any], prefix: str, counts: LoadCounts, problems: IO[bytes]) -> Iterator[bytes]:
    """COPY text for the rows, in ~1 MB chunks; problems are written to ``problems`` meanwhile."""
    lines: list[str] = []
    days = _DayCounter(counts.months)
    per_chunk = CHUNK_BYTES // 60  # a line is ~60 bytes
    for item in items:
        if type(item) is CivilRegistryCount:
            row_no, day, commune, rtype, a, b, c, e = item
            lines.append(f"{prefix}{row_no}\t{day}\t{commune}\t{rtype}\t{a}\t{b}\t{c}\t{e}\n")
            if day is not days.day:
                days.change(day, len(lines) - 1)
            if len(lines) >= per_chunk:
                yield days.flush(lines)
        else:
            problems.write(_problem_line(prefix, item))
            counts.problems += 1
    yield days.flush(lines)


def _bhxh_lines(items: Iterator[Any], prefix: str, counts: LoadCounts, problems: IO[bytes]) -> Iterator[bytes]:
    """COPY text for the participants, in ~1 MB chunks; problems are written to ``problems`` meanwhile."""
    lines: list[str] = []
    days, null = _DayCounter(counts.months), NULL
    per_chunk = CHUNK_BYTES // 180  # a line is ~180 bytes: two 64-character digests and a few codes
    for item in items:
        if type(item) is BhxhVerification:
            row_no, day, key, person, year, commune, status, status_at = item
            lines.append(
                f"{prefix}{row_no}\t{day}\t{key}\t{person or null}\t{null if year is None else year}\t"
                f"{commune}\t{status}\t{status_at or null}\n"
            )
            if day is not days.day:
                days.change(day, len(lines) - 1)
            if len(lines) >= per_chunk:
                yield days.flush(lines)
        else:
            problems.write(_problem_line(prefix, item))
            counts.problems += 1
    yield days.flush(lines)


def load_extract(
    conn: psycopg.Connection[Any],
    fp: IO[bytes],
    *,
    kind: ExtractKind,
    name: str,
    file_id: int,
    batch_id: str,
    communes: Collection[str],
    key: bytes | None = None,
) -> LoadCounts:
    """Parse ``fp`` and COPY its rows and problems, in the caller's transaction.

    Raises :class:`~ingest.extracts.reasons.ExtractError` for a file refused as a whole (its
    rows already sent are undone with the caller's transaction or savepoint)."""
    counts = LoadCounts()
    prefix = f"{file_id}\t{_field(batch_id)}\t"
    if kind == "bhxh":
        assert key is not None, "a BHXH extract is only read with a pseudonym key"
        items: Iterator[Any] = parse_bhxh(fp, name=name, communes=communes, key=key)
        writer = _bhxh_lines
    else:
        items, writer = parse_civil_registry(fp, name=name, communes=communes), _civil_lines
    with tempfile.TemporaryFile(prefix="d06-quarantine-") as problems:
        with _copy(conn, TABLES[kind], ROW_COLUMNS[kind]) as copy:
            for chunk in writer(items, prefix, counts, problems):
                copy.write(chunk)
        counts.rows = sum(counts.months.values())
        if counts.problems:
            problems.seek(0)
            with _copy(conn, "raw.quarantine", QUARANTINE_COLUMNS) as copy:
                while chunk := problems.read(CHUNK_BYTES):
                    copy.write(chunk)
    return counts
