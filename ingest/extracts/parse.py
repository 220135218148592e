"""Stream parsers for the source extracts: CSV in, typed records and row problems out.

Pure (no database, no Airflow) and lazy: a file of any size is read ~1 MB at a time, and memory
stays flat.  A block without quotes is split with ``str.split`` (which reads it exactly as the
csv module would), any other by csv.  The loader takes the rows in those batches
(:func:`civil_registry_batches`, :func:`bhxh_batches`); :func:`parse_civil_registry` and
:func:`parse_bhxh` give them one by one.  Each row is checked by a fast path (string checks,
cached dates); a row that fails it goes through the slow path, which strips the cells, checks them column by column and
says which column is wrong and why.  A BHXH row leaves the parser pseudonymised: its
social-insurance code and personal ID as keyed digests, its birth date as a year, its name not
at all; its problem, if any, carries neither name, birth date, code nor ID number.

>>> rows = list(parse_civil_registry(open("ho_tich.csv", "rb"), name="ho_tich.csv", communes={"AG.X01"}))
>>> rows[0].records_synced
1200
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import IO, Any, NamedTuple

from ingest.extracts.formats import (
    CIVIL_REGISTRY_COLUMNS,
    COLUMNS,
    RECORD_TYPES,
    STATUSES,
    ExtractKind,
    header_delimiter,
    normalise_name,
)
from ingest.extracts.pseudonym import keyed_digest, keyed_pads
from ingest.extracts.reasons import ExtractReason, extract_error
from ingest.submissions.model import RowProblem

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNT = re.compile(r"[0-9]{1,18}").fullmatch
_BHXH_CODE = re.compile(r"[0-9]{10}").fullmatch
_PERSONAL_ID = re.compile(r"(?:[0-9]{12})?").fullmatch
_SHOWABLE = re.compile(r"(?!.*[0-9]{6})[A-Za-z0-9_.:/-]{1,40}").fullmatch
"""A non-personal BHXH cell shown in quarantine as it is: a short code without spaces or long numbers."""
_CACHE_LIMIT = 100_000
_READ_CHARS = 1024 * 1024
"""Text read at a time (completed to the end of its row): one batch of rows."""
_DIGITS_MAX = 18
"""A count has 1 to 18 ASCII digits (formats.md §3: it fits a bigint)."""


class CivilRegistryCount(NamedTuple):
    """One row of a civil-registry sync extract (formats.md §3)."""

    row_no: int
    extract_date: str
    commune_code: str
    record_type: str
    records_total: int
    records_scanned: int
    records_entered: int
    records_synced: int


class BhxhVerification(NamedTuple):
    """One BHXH participant (formats.md §4), pseudonymised: no name, no birth date, no code."""

    row_no: int
    extract_date: str
    participant_key: str
    """HMAC-SHA256 (hex) of the social-insurance code."""
    person_key: str | None
    """HMAC-SHA256 (hex) of the personal ID number, when there is one."""
    birth_year: int | None
    commune_code: str
    status: str
    status_at: str | None


CivilRegistryRow = tuple[int, str, str, str, str, str, str, str]
"""A civil-registry row checked, as text: its row number, then :class:`CivilRegistryCount`'s
fields with the four counts in ASCII digits (what COPY reads, without a round trip through int)."""
Batch = tuple[list[Any], list[RowProblem]]
"""The rows of ~1 MB of an extract that load (records), and the problems of those that do not."""


@dataclass(frozen=True)
class ExtractHead:
    """What the header and first row of an extract say: enough to refuse it or name its month."""

    kind: ExtractKind
    period: str | None


class _Dates(dict[str, Any]):
    """``YYYY-MM-DD`` -> itself when it is a real date, else False; remembered (an extract holds
    a few thousand distinct dates at most, and the cache is bounded anyway)."""

    def __init__(self, empty: Any = False) -> None:
        super().__init__({"": empty})
        self._empty = empty

    def __missing__(self, text: str) -> Any:
        if len(self) > _CACHE_LIMIT:
            self.clear()
            self[""] = self._empty
        self[text] = value = text if _is_date(text) else False
        return value


class _Years(dict[str, Any]):
    """A birth date (``YYYY-MM-DD`` or ``YYYY``, or empty) -> its year, None, or False when invalid."""

    def __init__(self) -> None:
        super().__init__({"": None})

    def __missing__(self, text: str) -> Any:
        if len(self) > _CACHE_LIMIT:
            self.clear()
            self[""] = None
        self[text] = value = _birth_year(text)
        return value


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        return 1900 <= dt.date.fromisoformat(text).year <= 2200
    except ValueError:
        return False


def _birth_year(text: str) -> int | bool:
    year = text[:4]
    if not (len(text) == 4 and year.isascii() and year.isdigit()) and not _is_date(text):
        return False
    return int(year) if 1870 <= int(year) <= 2200 else False


# --- the header ---------------------------------------------------------------------------------


def _text(fp: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(fp, encoding="utf-8-sig", newline="")


def _header(text: io.TextIOWrapper, name: str, kind: ExtractKind) -> tuple[str, list[int], int]:
    """The delimiter, for each of the kind's columns its index in the file's rows, and how many
    columns the header has."""
    try:
        line = text.readline()
    except UnicodeDecodeError:
        raise extract_error(ExtractReason.UNDECODABLE_TEXT, name, row=1) from None
    if not line.strip():
        raise extract_error(ExtractReason.EMPTY_FILE, name)
    delimiter = header_delimiter(line)
    names = [normalise_name(label) for label in next(csv.reader([line], delimiter=delimiter))]
    for column in names:
        if column in COLUMNS[kind] and names.count(column) > 1:
            raise extract_error(ExtractReason.DUPLICATE_COLUMN, name, row=1, column=column)
    missing = [c for c in COLUMNS[kind] if c not in names]
    if missing:
        raise extract_error(ExtractReason.MISSING_COLUMN, name, row=1, missing=", ".join(missing))
    return delimiter, [names.index(c) for c in COLUMNS[kind]], len(names)


def _rows(fp: IO[bytes], name: str, kind: ExtractKind) -> tuple[Iterator[list[str]], list[int], int]:
    """The file's data rows (csv lists), where each column is in them, and how many fields a row has."""
    text = _text(fp)
    delimiter, order, width = _header(text, name, kind)
    return csv.reader(text, delimiter=delimiter, strict=True), order, width


def inspect_extract(fp: IO[bytes], *, name: str, kind: ExtractKind) -> ExtractHead:
    """Check an extract's header and read its first row's month, without reading the rest.

    Raises :class:`~ingest.extracts.reasons.ExtractError` for a file that cannot load at all."""
    reader, order, _ = _rows(fp, name, kind)
    try:
        first = next((row for row in reader if row), None)
    except (csv.Error, UnicodeDecodeError):
        return ExtractHead(kind, None)
    if first is None:
        raise extract_error(ExtractReason.NO_DATA_ROWS, name)
    day = first[order[0]].strip() if len(first) > order[0] else ""
    return ExtractHead(kind, day[:7] if _is_date(day) else None)


# --- the rows, ~1 MB at a time ------------------------------------------------------------------


class _Spill:
    """Lines for :mod:`csv` to parse one block with: the block's, then the stream's while a
    quoted field runs on past the block's end (``spilled``: the block's lines are used up)."""

    def __init__(self, block: str, text: IO[str]) -> None:
        self._lines, self._text, self.spilled = iter(io.StringIO(block, newline="")), text, False

    def __iter__(self) -> _Spill:
        return self

    def __next__(self) -> str:
        line = next(self._lines, None)
        if line is None:
            self.spilled = True
            return next(self._text)
        return line


def _split(block: str, delimiter: str) -> list[list[str]] | None:
    """The rows of a block of whole lines by ``str.split``, or None when only :mod:`csv` reads it
    alike: a quote, a carriage return that does not end a line, or a line over csv's field limit.
    A blank line is an empty row, as csv gives it."""
    if '"' in block:
        return None
    if "\r" in block:
        if block.count("\r") != block.count("\r\n"):
            return None
        block = block.replace("\r\n", "\n")
    lines = block.split("\n")
    if not lines[-1]:
        lines.pop()  # the block ends with its last line's newline
    if max(map(len, lines), default=0) > csv.field_size_limit():
        return None
    return [line.split(delimiter) if line else [] for line in lines]


def _csv_rows(block: str, text: IO[str], delimiter: str, name: str, first: int) -> list[list[str]]:
    """The rows of a block by :mod:`csv` (and of the stream's lines a quoted field spills into)."""
    spill, rows = _Spill(block, text), []
    try:
        for row in csv.reader(spill, delimiter=delimiter, strict=True):
            rows.append(row)
            if spill.spilled:
                break
    except csv.Error:
        raise extract_error(ExtractReason.MALFORMED_CSV, name, row=first + len(rows)) from None
    return rows


def _row_batches(text: IO[str], delimiter: str, name: str) -> Iterator[tuple[int, list[list[str]]]]:
    """(row number of the first, rows) for the data rows, ~1 MB of text at a time; a blank row is
    ``[]`` and still numbered (the header is row 1).  A block without quotes is split by
    ``str.split``, which reads it as csv does; any other by csv.  A CSV or encoding error refuses
    the file, naming the row (for an encoding error, the first row of its block)."""
    row_no = 2
    try:
        while block := text.read(_READ_CHARS):
            block += text.readline()  # to the end of the row
            rows = _split(block, delimiter)
            if rows is None:
                rows = _csv_rows(block, text, delimiter, name, row_no)
            yield row_no, rows
            row_no += len(rows)
    except UnicodeDecodeError:
        raise extract_error(ExtractReason.UNDECODABLE_TEXT, name, row=row_no) from None


def _batches(
    fp: IO[bytes], name: str, kind: ExtractKind
) -> tuple[Iterator[tuple[int, list[list[str]]]], list[int], int]:
    """The data rows in batches, where each column is in them, and how many fields a row has."""
    text = _text(fp)
    delimiter, order, width = _header(text, name, kind)
    return _row_batches(text, delimiter, name), order, width


def _in_row_order(batches: Iterable[Batch]) -> Iterator[Any]:
    """The records and problems of each batch, in the order of their rows."""
    for records, problems in batches:
        if problems:
            yield from sorted(
                [*records, *problems], key=lambda item: item[0] if isinstance(item, tuple) else item.row_no
            )
        else:
            yield from records


def _problem(
    reason: ExtractReason, row_no: int, column: str | None, raw_value: str | None, raw_row: dict[str, Any], **v: Any
) -> RowProblem:
    vi, en = reason.texts(column=column, **v)
    return RowProblem(row_no, column, raw_value, reason.code, vi, en, raw_row)


# --- civil registry (§3) --------------------------------------------------------------------------


def civil_registry_batches(fp: IO[bytes], *, name: str, communes: Collection[str]) -> Iterator[Batch]:
    """The rows of a civil-registry extract ~1 MB at a time: each row checked, as a
    :data:`CivilRegistryRow` or as the problem that keeps it out."""
    cells, order, width = _batches(fp, name, "civil_registry")
    pick, dates, types, top, seen = itemgetter(*order), _Dates(), RECORD_TYPES, _DIGITS_MAX, 0
    for first, rows in cells:
        records: list[CivilRegistryRow] = []
        problems: list[RowProblem] = []
        for row_no, row in enumerate(rows, first):
            if len(row) == width:
                d, commune, rtype, a, b, c, e = pick(row)
                ed = dates[d]
                if (
                    ed
                    and commune in communes
                    and rtype in types
                    and 0 < len(a) <= top
                    and 0 < len(b) <= top
                    and 0 < len(c) <= top
                    and 0 < len(e) <= top
                    and (digits := a + b + c + e).isascii()
                    and digits.isdigit()
                ):
                    records.append((row_no, ed, commune, rtype, a, b, c, e))
                    continue
            if row:
                item = _civil_slow(row_no, row, order, width, communes)
                (problems if isinstance(item, RowProblem) else records).append(item)  # type: ignore[arg-type]
        seen += len(records) + len(problems)
        yield records, problems
    if not seen:
        raise extract_error(ExtractReason.NO_DATA_ROWS, name)


def parse_civil_registry(
    fp: IO[bytes], *, name: str, communes: Collection[str]
) -> Iterator[CivilRegistryCount | RowProblem]:
    """Each row of a civil-registry extract, as a record or as the problem that keeps it out."""
    for item in _in_row_order(civil_registry_batches(fp, name=name, communes=communes)):
        if isinstance(item, RowProblem):
            yield item
        else:
            row_no, d, commune, rtype, a, b, c, e = item
            yield CivilRegistryCount(row_no, d, commune, rtype, int(a), int(b), int(c), int(e))


def _count_problem(column: str, value: str, row_no: int, raw_row: dict[str, Any]) -> RowProblem | None:
    if _COUNT(value):
        return None
    if not value:
        return _problem(ExtractReason.MISSING_VALUE, row_no, column, value, raw_row)
    digits = value.lstrip("-")
    if digits.isascii() and digits.isdigit():
        reason = ExtractReason.NEGATIVE_NUMBER if value.startswith("-") else ExtractReason.NUMBER_TOO_LARGE
        return _problem(reason, row_no, column, value, raw_row)
    return _problem(ExtractReason.NOT_A_WHOLE_NUMBER, row_no, column, value, raw_row)


def _civil_slow(
    row_no: int, row: list[str], order: list[int], width: int, communes: Collection[str]
) -> CivilRegistryRow | RowProblem:
    """A row the fast path refused: its cells stripped, then checked column by column."""
    if len(row) != width:
        raw = {"row": [cell[:100] for cell in row[:20]]}
        return _problem(ExtractReason.WRONG_FIELD_COUNT, row_no, None, None, raw, found=len(row), expected=width)
    values = [row[i].strip() for i in order]
    raw_row = dict(zip(CIVIL_REGISTRY_COLUMNS, values, strict=True))
    d, commune, rtype, *counts = values
    if not _is_date(d):
        return _problem(ExtractReason.INVALID_DATE, row_no, "extract_date", d, raw_row)
    if commune not in communes:
        return _problem(ExtractReason.UNKNOWN_COMMUNE, row_no, "commune_code", commune, raw_row)
    if rtype not in RECORD_TYPES:
        return _problem(ExtractReason.UNKNOWN_RECORD_TYPE, row_no, "record_type", rtype, raw_row)
    for column, value in zip(CIVIL_REGISTRY_COLUMNS[3:], counts, strict=True):
        problem = _count_problem(column, value, row_no, raw_row)
        if problem:
            return problem
    a, b, c, e = counts
    return (row_no, d, commune, rtype, a, b, c, e)


# --- BHXH (§4) ----------------------------------------------------------------------------------


@dataclass
class _BhxhChecks:
    """What a BHXH row is checked and pseudonymised with, for a whole file."""

    order: list[int]
    width: int
    communes: Collection[str]
    key: bytes
    dates: _Dates = field(default_factory=_Dates)
    optional_dates: _Dates = field(default_factory=lambda: _Dates(None))
    years: _Years = field(default_factory=_Years)

    def batch(self, first: int, rows: list[list[str]]) -> Batch:
        """The records and problems of one batch of rows (the fast path inline: two HMACs a row)."""
        pick, width, communes, statuses = itemgetter(*self.order), self.width, self.communes, STATUSES
        dates, optional_dates, years = self.dates, self.optional_dates, self.years
        (inner, outer), new, record = keyed_pads(self.key), tuple.__new__, BhxhVerification
        records: list[BhxhVerification] = []
        problems: list[RowProblem] = []
        digest = keyed_digest(self.key)
        for row_no, row in enumerate(rows, first):
            if len(row) == width:
                d, code, pid, _, born, commune, status, status_at = pick(row)
                ed, by, sa = dates[d], years[born], optional_dates[status_at]
                if (
                    ed
                    and len(code) == 10
                    and (len(pid) == 12 or not pid)
                    and (digits := code + pid).isascii()
                    and digits.isdigit()
                    and by is not False
                    and sa is not False
                    and commune in communes
                    and status in statuses
                ):
                    h = inner()  # pseudonymise(), inlined
                    h.update(code.encode())
                    o = outer()
                    o.update(h.digest())
                    person = None
                    if pid:
                        h = inner()
                        h.update(pid.encode())
                        p = outer()
                        p.update(h.digest())
                        person = p.hexdigest()
                    records.append(new(record, (row_no, ed, o.hexdigest(), person, by, commune, status, sa)))
                    continue
            if row:
                item = _bhxh_slow(row_no, row, self.order, width, communes, digest)
                (problems if isinstance(item, RowProblem) else records).append(item)  # type: ignore[arg-type]
        return records, problems


def bhxh_batches(fp: IO[bytes], *, name: str, communes: Collection[str], key: bytes) -> Iterator[Batch]:
    """The participants of a BHXH extract ~1 MB at a time, pseudonymised under ``key``: each
    row as a :class:`BhxhVerification` or as the problem that keeps it out."""
    cells, order, width = _batches(fp, name, "bhxh")
    checks, seen = _BhxhChecks(order, width, communes, key), 0
    for first, rows in cells:
        records, problems = checks.batch(first, rows)
        seen += len(records) + len(problems)
        yield records, problems
    if not seen:
        raise extract_error(ExtractReason.NO_DATA_ROWS, name)


def parse_bhxh(
    fp: IO[bytes], *, name: str, communes: Collection[str], key: bytes
) -> Iterator[BhxhVerification | RowProblem]:
    """Each BHXH participant, pseudonymised under ``key``, or the problem that keeps the row out."""
    return _in_row_order(bhxh_batches(fp, name=name, communes=communes, key=key))


def _safe(value: str) -> str | None:
    """A non-personal BHXH cell as quarantine may show it, or None (it might be a shifted personal value)."""
    return value if _SHOWABLE(value) else None


def _bhxh_slow(
    row_no: int,
    row: list[str],
    order: list[int],
    width: int,
    communes: Collection[str],
    digest: Callable[[str], str],
) -> BhxhVerification | RowProblem:
    """A row the fast path refused: stripped, then checked column by column.  Its problem holds
    the pseudonyms and the non-personal cells that are plausible codes, never a personal value."""
    if len(row) != width:  # cells out of place: none of them can be shown
        return _problem(ExtractReason.WRONG_FIELD_COUNT, row_no, None, None, {}, found=len(row), expected=width)
    d, code, pid, _, born, commune, status, status_at = (row[i].strip() for i in order)
    raw_row: dict[str, Any] = {
        "extract_date": _safe(d),
        "participant_key": digest(code) if code else None,
        "person_key": digest(pid) if pid else None,
        "commune_code": _safe(commune),
        "status": _safe(status),
        "status_at": _safe(status_at),
    }
    year = _birth_year(born) if born else None
    checks: list[tuple[bool, ExtractReason, str, str | None]] = [
        (_is_date(d), ExtractReason.INVALID_DATE, "extract_date", _safe(d)),
        (bool(_BHXH_CODE(code)), ExtractReason.INVALID_BHXH_CODE, "bhxh_code", raw_row["participant_key"]),
        (bool(_PERSONAL_ID(pid)), ExtractReason.INVALID_PERSONAL_ID, "personal_id", raw_row["person_key"]),
        (year is not False, ExtractReason.INVALID_BIRTH_DATE, "birth_date", None),
        (commune in communes, ExtractReason.UNKNOWN_COMMUNE, "commune_code", _safe(commune)),
        (status in STATUSES, ExtractReason.UNKNOWN_STATUS, "status", _safe(status)),
        (not status_at or _is_date(status_at), ExtractReason.INVALID_DATE, "status_at", _safe(status_at)),
    ]
    for ok, reason, column, shown in checks:
        if not ok:
            return _problem(reason, row_no, column, shown, raw_row)
    person = digest(pid) if pid else None
    birth_year = year if isinstance(year, int) and not isinstance(year, bool) else None
    return BhxhVerification(row_no, d, digest(code), person, birth_year, commune, status, status_at or None)
