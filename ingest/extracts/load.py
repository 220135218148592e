"""Load one source extract into its raw table: rows by COPY as they are parsed, problems to quarantine.

The parser hands over ~1 MB of rows at a time (:func:`~ingest.extracts.parse.bhxh_batches`);
each batch becomes one block of COPY text, which a second thread sends to the server while the
next batch is parsed (at most a few blocks behind), so that the parse and the server's insert
overlap on two cores and memory stays flat; the problems are spooled to a
temporary file and copied into ``raw.quarantine`` after the rows.  The caller owns the
transaction (the ledger row goes in the same one) and the file id.

>>> counts = load_extract(conn, fp, kind="bhxh", name="bhxh.csv", file_id=7, batch_id="b1",
...                       communes=communes, key=pseudonym_key())
>>> counts.rows + counts.problems == rows_read
True
"""

from __future__ import annotations

import gc
import queue
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import IO, Any

import psycopg
from psycopg.copy import LibpqWriter

from ingest.extracts.formats import ExtractKind
from ingest.extracts.parse import BhxhVerification, CivilRegistryRow, bhxh_batches, civil_registry_batches
from ingest.submissions.model import RowProblem
from ingest.warehouse.db import QUARANTINE_COLUMNS, copy_field, copy_into

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
CHUNK_BYTES = 1024 * 1024
NULL = "\\N"
_DATE = itemgetter(1)
"""A row's extract date (records of both kinds have it second)."""


@dataclass
class LoadCounts:
    """What one extract's load wrote: rows loaded, rows quarantined, and rows per month."""

    rows: int = 0
    problems: int = 0
    months: Counter[str] = field(default_factory=Counter)


class _Pipelined(LibpqWriter):
    """COPY data sent to the server by a second thread, at most ``depth`` blocks behind the
    parser: while the server inserts one block the parser makes the next (psycopg's
    ``QueuedLibpqWriter`` does the same with a queue of up to a thousand blocks)."""

    def __init__(self, cursor: psycopg.Cursor[Any], depth: int = 4) -> None:
        super().__init__(cursor)
        self._blocks: queue.Queue[bytes | None] = queue.Queue(depth)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _send(self) -> None:
        while (block := self._blocks.get()) is not None:
            if self._error is None:
                try:
                    super().write(block)
                except BaseException as exc:  # handed to the parser's thread at its next write
                    self._error = exc

    def write(self, data: Any) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(target=self._send, name="d06-copy", daemon=True)
            self._thread.start()
        self._blocks.put(data)

    def finish(self, exc: BaseException | None = None) -> None:
        if self._thread is not None:
            self._blocks.put(None)
            self._thread.join()
        if self._error is not None and exc is None:
            raise self._error
        super().finish(exc)


def _problem_line(prefix: str, p: RowProblem) -> bytes:
    values = (p.row_no, p.column, p.raw_value, p.reason_code, p.reason_vi, p.reason_en, p.raw_row)
    return (prefix + "\t".join(map(copy_field, values)) + "\n").encode("utf-8", "replace")


def _count_months(records: list[Any], months: Counter[str]) -> None:
    """Add a batch's rows to ``months``, by their extract date (a few distinct dates a batch)."""
    for day, n in Counter(map(_DATE, records)).items():
        months[day[:7]] += n


def _civil_text(records: list[CivilRegistryRow], prefix: str) -> bytes:
    """COPY text for a batch of civil-registry rows (checked text: nothing to escape)."""
    return "".join(
        [f"{prefix}{n}\t{d}\t{commune}\t{rtype}\t{a}\t{b}\t{c}\t{e}\n" for n, d, commune, rtype, a, b, c, e in records]
    ).encode()


def _bhxh_text(records: list[BhxhVerification], prefix: str) -> bytes:
    """COPY text for a batch of participants (digests and checked codes: nothing to escape)."""
    null = NULL
    return "".join(
        [
            f"{prefix}{n}\t{d}\t{key}\t{person or null}\t{null if year is None else year}\t"
            f"{commune}\t{status}\t{status_at or null}\n"
            for n, d, key, person, year, commune, status, status_at in records
        ]
    ).encode()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file loads: each batch makes ~10,000 lists and
    records that live until its COPY, and collecting them over and over costs a fifth of the
    parse; none of them is in a reference cycle, so reference counting frees them all."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


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
    prefix = f"{file_id}\t{copy_field(batch_id)}\t"
    if kind == "bhxh":
        assert key is not None, "a BHXH extract is only read with a pseudonym key"
        batches = bhxh_batches(fp, name=name, communes=communes, key=key)
        text: Callable[[Any, str], bytes] = _bhxh_text
    else:
        batches, text = civil_registry_batches(fp, name=name, communes=communes), _civil_text
    with tempfile.TemporaryFile(prefix="d06-quarantine-") as problems, _collector_paused():
        with copy_into(conn, TABLES[kind], ROW_COLUMNS[kind], _Pipelined) as copy:
            for records, bad in batches:
                if records:
                    copy.write(text(records, prefix))
                    _count_months(records, counts.months)
                for p in bad:
                    problems.write(_problem_line(prefix, p))
                counts.problems += len(bad)
        counts.rows = sum(counts.months.values())
        if counts.problems:
            problems.seek(0)
            with copy_into(conn, "raw.quarantine", QUARANTINE_COLUMNS) as copy:
                while chunk := problems.read(CHUNK_BYTES):
                    copy.write(chunk)
    return counts
