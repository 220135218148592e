"""Spool files: a parsed file's rows and problems as COPY text on disk, not as Python objects.

A reader (in a worker process or not) writes each row as one line of PostgreSQL's COPY text
format, without the two columns only the store knows (``file_id``, ``batch_id``); the store
prefixes them and streams the lines into COPY.  So memory stays flat whatever a file holds,
and what crosses from a worker to the main process is a path and a few counts.

>>> spool = Spool.open("f00d…", "template")
>>> spool.add(row); spool.close()
>>> spool.rows, spool.unit_code
(1, 'AG.STP')
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from ingest.submissions.model import RowProblem, SubmissionRow
from ingest.warehouse.db import copy_field

PREFIX_COLUMNS = ["file_id", "batch_id"]
"""The columns the store writes in front of every spooled line."""
ROW_COLUMNS = [
    *PREFIX_COLUMNS,
    "row_no",
    "unit_code",
    "period",
    "indicator_code",
    "service_code",
    "numerator",
    "denominator",
    "reported_rate",
    "note",
    "flags",
    "source_kind",
    "source_line",
    "snippet",
    "source_sha256",
]
_COUNTER = itertools.count()


def _num(value: int | Decimal | None) -> str:
    return "\\N" if value is None else str(value)


def copy_line(values: tuple[Any, ...]) -> bytes:
    return ("\t".join(map(copy_field, values)) + "\n").encode("utf-8", "replace")


class SpoolFiles:
    """The files a process spools to: one for rows, one for problems, shared by every file the
    process reads, in a folder the landing owns and removes.  Creating files is slow on some
    file systems; appending is not."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, tuple[Path, IO[bytes]]] = {}

    def get(self, kind: str) -> tuple[Path, IO[bytes]]:
        found = self._open.get(kind)
        if found is None:
            path = self.folder / f"{kind}-{os.getpid()}-{next(_COUNTER)}.copy"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            found = self._open[kind] = (path, os.fdopen(fd, "wb", buffering=256 * 1024))
        return found

    def close(self) -> None:
        for _, f in self._open.values():
            f.close()
        self._open = {}


_FILES: SpoolFiles | None = None


def use_folder(folder: Path) -> None:
    """Spool to ``folder`` from now on in this process (the landing calls it in each worker)."""
    global _FILES
    if _FILES is not None:
        _FILES.close()
    _FILES = SpoolFiles(folder)


def _files() -> SpoolFiles:
    global _FILES
    if _FILES is None or not _FILES.folder.is_dir():
        _FILES = SpoolFiles(Path(tempfile.mkdtemp(prefix="d06-spool-")))
    return _FILES


@dataclass
class Range:
    """Where one file's lines of one kind lie in a spool file."""

    path: Path
    start: int
    end: int = -1


@dataclass
class Spool:
    """One parsed file's spooled lines, and what the ledger needs to know of its rows."""

    sha256: str
    source_kind: str
    rows: int = 0
    problems: int = 0
    units: Counter[str] = field(default_factory=Counter)
    months: Counter[str] = field(default_factory=Counter)
    ranges: dict[str, Range] = field(default_factory=dict)
    _writers: dict[str, IO[bytes]] = field(default_factory=dict)

    @classmethod
    def open(cls, sha256: str, source_kind: str) -> Spool:
        return cls(sha256, source_kind)

    def _writer(self, kind: str) -> IO[bytes]:
        writer = self._writers.get(kind)
        if writer is None:
            path, writer = _files().get(kind)
            self._writers[kind] = writer
            self.ranges[kind] = Range(path, writer.tell())
        return writer

    def add(self, item: SubmissionRow | RowProblem) -> None:
        if isinstance(item, SubmissionRow):
            self._writer("rows").write(self._row_line(item))
            self.rows += 1
            self.units[item.unit_code] += 1
            self.months[item.period] += 1
        else:
            self._writer("problems").write(copy_line(self._problem(item)))
            self.problems += 1

    def _row_line(self, r: SubmissionRow) -> bytes:
        """One row as COPY text; the codes were validated against the registry (no escapes needed)."""
        return (
            f"{r.row_no}\t{r.unit_code}\t{r.period}\t{r.indicator_code}\t{r.service_code}\t{r.numerator}\t"
            f"{_num(r.denominator)}\t{_num(r.reported_rate)}\t{copy_field(r.note)}\t{copy_field(r.flags)}\t"
            f"{self.source_kind}\t{_num(r.source_line)}\t{copy_field(r.snippet)}\t{self.sha256}\n"
        ).encode("utf-8", "replace")

    @staticmethod
    def _problem(p: RowProblem) -> tuple[Any, ...]:
        return (p.row_no, p.column, p.raw_value, p.reason_code, p.reason_vi, p.reason_en, p.raw_row)

    def close(self) -> Spool:
        """Flush what this file wrote, so that another process can read its ranges."""
        for kind, writer in self._writers.items():
            writer.flush()
            self.ranges[kind].end = writer.tell()
        self._writers = {}
        return self

    def remove(self) -> None:
        """Forget the lines (the landing removes its spool folder when it is done)."""
        self.close()
        self.ranges = {}

    @property
    def unit_code(self) -> str | None:
        return self.units.most_common(1)[0][0] if self.units else None

    @property
    def period(self) -> str | None:
        return self.months.most_common(1)[0][0] if self.months else None

    @property
    def periods(self) -> frozenset[str]:
        return frozenset(self.months)

    def lines(self, kind: str) -> Range | None:
        """Where the ``rows`` or ``problems`` of this file are, if it has any."""
        return self.ranges.get(kind)

    def __getstate__(self) -> dict[str, Any]:
        self.close()  # only a flushed spool crosses a process boundary
        return dict(self.__dict__)


def prefixed_lines(where: Range, prefix: bytes, chunk_lines: int = 8192) -> Iterator[bytes]:
    """The lines of a spool range with ``prefix`` in front of each, in chunks for COPY."""
    with where.path.open("rb") as f:
        f.seek(where.start)
        remaining = where.end - where.start
        batch: list[bytes] = []
        while remaining > 0:
            line = f.readline(remaining)
            if not line:
                break
            remaining -= len(line)
            batch.append(prefix + line)
            if len(batch) == chunk_lines:
                yield b"".join(batch)
                batch = []
        if batch:
            yield b"".join(batch)
