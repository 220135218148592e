"""Parse a monthly submission (CSV, XLSX or JSON, ``formats.md`` section 1) into typed rows.

Every non-blank data row yields exactly one item: a :class:`SubmissionRow` that can load, or a
:class:`RowProblem` that goes to quarantine.  So rows read = rows loaded + rows quarantined.
A row whose cells are all empty is skipped and counted nowhere.  A file that cannot be read as
a whole raises :class:`SubmissionError`; as parsing is lazy, that can happen after some items
were yielded (a decoding error near the end of a CSV, say), so a loader must treat the file as
failed as a whole and roll back what it took from it.

Files are checked before anything is trusted: the extension must name a supported format and
the first bytes must agree with it; at most ``max_bytes`` are read; an XLSX archive's central
directory is checked (member count, expanded size, compression ratio) before openpyxl opens it,
in read-only mode so memory stays bounded.

>>> with open("AG.STP_2026-03.xlsx", "rb") as fp:
...     items = list(parse_submission(fp, name=fp.name, registry=load_registry(), today=date.today()))
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import difflib
import functools
import io
import itertools
import json
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, BinaryIO, Literal

import openpyxl
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils import get_column_letter

from ingest.archive_checks import XLSX_LIMITS, ArchiveProblem, check_archive
from ingest.numbers import MAX_COUNT, MAX_RATE, NumberFormatError, NumberTooLargeError, parse_count, parse_rate
from ingest.registry import NO_SERVICE, Indicator, Registry, Unit
from ingest.submissions.model import FileNotice, RowProblem, SubmissionError, SubmissionRow
from ingest.submissions.reasons import Reason, file_notice, row_problem, submission_error
from ingest.vietnamese_text import first_implausible

__all__ = [
    "COLUMNS",
    "DATA_SHEET",
    "IGNORED_HEADERS",
    "REVIEW_COLUMNS",
    "Column",
    "looks_like_table",
    "normalise_period",
    "parse_submission",
    "unit_valid_in_period",
]

DATA_SHEET = "du_lieu"
"""Name of the XLSX sheet that holds the data (else the first visible sheet is read)."""

MAX_ROWS = 200_000
"""Non-blank data rows per file."""
MAX_COLUMNS = 100
"""Columns read per row; the header must name the required columns within these."""
HEADER_SEARCH_ROWS = 10
"""Non-empty rows searched for the header (title lines may sit above it)."""
MAX_ARCHIVE_MEMBERS = XLSX_LIMITS.max_members
MAX_UNCOMPRESSED_BYTES = XLSX_LIMITS.max_total_bytes
MAX_PART_BYTES = XLSX_LIMITS.max_part_bytes
"""Uncompressed bytes of an XLSX part other than a worksheet (shared strings, styles ...):
openpyxl loads those whole (see :mod:`ingest.archive_checks`)."""
MAX_JSON_DEPTH = 32
"""Nesting levels a JSON value inside a row object may have before the file is refused."""
MAX_SOURCE_LINE = 2**31 - 1
"""``source_line`` is an ``integer`` column."""
MAX_UNKNOWN_COLUMN_NOTICES = 20
"""Unknown-column notices per file; a hostile file with thousands of keys gets no more."""
TABLE_HEAD_BYTES = 64 * 1024
"""What :func:`looks_like_table` needs to see of a file."""
EXCEL_MAX_ROW = 1_048_576

_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the contract: English ``name``, Vietnamese ``alias`` and label for people."""

    name: str
    alias: str
    label_vi: str
    required: bool
    extra_aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every header text accepted for this column (matched by :func:`_header_key`)."""
        return (self.name, self.alias, self.label_vi, *self.extra_aliases)


COLUMNS: tuple[Column, ...] = (
    Column("unit_code", "ma_don_vi", "Mã đơn vị", True),
    Column("period", "ky_bao_cao", "Kỳ báo cáo", True, ("Tháng báo cáo",)),
    Column("indicator_code", "ma_chi_tieu", "Mã chỉ tiêu", True),
    Column("service_code", "ma_dich_vu", "Mã dịch vụ", False, ("Mã DVC",)),
    Column("numerator", "tu_so", "Tử số", True),
    Column("denominator", "mau_so", "Mẫu số", False),
    Column("reported_rate", "ty_le", "Tỷ lệ", False, ("Tỉ lệ", "ti_le", "rate")),
    Column("note", "ghi_chu", "Ghi chú", False),
)
"""The contract columns, in template order."""
REVIEW_COLUMNS: tuple[Column, ...] = (
    Column("source_line", "dong_trong_bao_cao", "Dòng trong báo cáo", False),
    Column("snippet", "noi_dung_trich", "Nội dung trích", False),
)
"""Optional lineage columns of a narrative report's review workbook (``ingest.narrative.review``):
they fill :attr:`SubmissionRow.source_line` and :attr:`SubmissionRow.snippet`."""
IGNORED_HEADERS: tuple[str, ...] = (
    # the review workbook's confidence and reason for review
    "do_tin_cay",
    "ly_do_can_ra_soat",
    # the read-only helper columns of the XLSX template (ingest.submissions.template._HELPERS)
    "Tên chỉ tiêu",
    "Tên dịch vụ",
    "Đơn vị tính",
    "Cách tính số liệu",
    "Tử số là",
    "Mẫu số là",
)
"""Known columns that are for people, not loaded; they raise no unknown-column notice."""
_ALL_COLUMNS = COLUMNS + REVIEW_COLUMNS
_BY_NAME: Mapping[str, Column] = {c.name: c for c in _ALL_COLUMNS}
_REQUIRED = tuple(c for c in COLUMNS if c.required)

# --- cells ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Formula:
    """An XLSX formula with no cached value: nobody has calculated it yet."""

    text: str


Cell = str | int | float | bool | dt.date | dt.time | dt.timedelta | _Formula | None
"""A cell as read: text from CSV, typed values from XLSX and JSON."""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _raw_text(value: Cell) -> str | None:
    """A cell as a person would read it; ``None`` when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, _Formula):
        return value.text
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _text(value: Cell) -> str | None:
    """A cell as text to match: NFC, stripped, ``None`` when empty."""
    if value is None:
        return None
    if type(value) is str and value.isascii():  # the common case, and NFC leaves ASCII alone
        return value.strip() or None
    raw = _raw_text(value)
    text = None if raw is None else _nfc(raw).strip()
    return text or None


def _is_blank(cells: Sequence[Cell]) -> bool:
    for c in cells:
        if c is None or (type(c) is str and (not c or c.isspace())):
            continue
        if _text(c) is not None:
            return False
    return True


# --- headers ----------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    """``"Mã đơn vị"`` → ``"mã_đơn_vị"``; ``"Tỷ lệ (%)"`` → ``"tỷ_lệ"``; ``"Unit Code"`` → ``"unit_code"``."""
    return re.sub(r"[\W_]+", "_", _nfc(text).casefold()).strip("_")


_ALIASES: Mapping[str, str] = {_header_key(n): c.name for c in _ALL_COLUMNS for n in c.names}


@functools.lru_cache(maxsize=1024)
def _column_for(label: str) -> str | None:
    return _ALIASES.get(_header_key(label))


_IGNORED_KEYS = frozenset(_header_key(h) for h in IGNORED_HEADERS)
_ALIAS_TEXTS: Mapping[str, tuple[str, Column]] = {_header_key(n): (n, c) for c in _ALL_COLUMNS for n in c.names}


def _fold(key: str) -> str:
    """``mẫu_số`` → ``mau_so``: a header key without diacritics."""
    decomposed = unicodedata.normalize("NFD", key.replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_FOLDED_KEYS: Mapping[str, tuple[str, ...]] = {
    folded: tuple(k for k in _ALIAS_TEXTS if _fold(k) == folded) for folded in map(_fold, _ALIAS_TEXTS)
}


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _nearest_alias(label: str) -> tuple[str, Column] | None:
    """The contract header text closest to ``label`` (difflib on header keys, as written and
    with diacritics folded), ``None`` when nothing is close."""
    key = _header_key(label)
    if not key:
        return None
    scored = [(_similarity(key, k), k) for k in difflib.get_close_matches(key, _ALIAS_TEXTS, n=1, cutoff=0.6)]
    folded = _fold(key)
    for match in difflib.get_close_matches(folded, _FOLDED_KEYS, n=1, cutoff=0.6):
        # Of the keys that fold alike ("mẫu_số", "mau_so"), the one closest to what was written.
        closest = max(_FOLDED_KEYS[match], key=lambda k: _similarity(key, k))
        scored.append((_similarity(folded, match), closest))
    return _ALIAS_TEXTS[max(scored)[1]] if scored else None


def _is_unknown(label: str | None) -> bool:
    return bool(label) and _column_for(label or "") is None and _header_key(label or "") not in _IGNORED_KEYS


class _UnknownColumns:
    """Turns header texts the contract does not know into notices, once per text per file
    and at most :data:`MAX_UNKNOWN_COLUMN_NOTICES` of them."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def notices(self, labels: Iterable[str | None]) -> Iterator[FileNotice]:
        for label in labels:
            if label is None or label in self.seen or not _is_unknown(label):
                continue
            if len(self.seen) >= MAX_UNKNOWN_COLUMN_NOTICES:
                return
            self.seen.add(label)
            yield _unknown_column_notice(label)


def _unknown_column_notice(label: str) -> FileNotice:
    nearest = _nearest_alias(label)
    hint_vi = hint = ""
    if nearest is not None:
        text, column = nearest
        shown = f"“{text}”" + (f" ({column.alias})" if text != column.alias else "")
        hint_vi, hint = f"; có phải là cột {shown}?", f"; did you mean {shown}?"
    return file_notice(Reason.UNKNOWN_COLUMN, column=label, label=label, hint_vi=hint_vi, hint=hint)


@dataclass(frozen=True, slots=True)
class _Header:
    labels: tuple[str, ...]
    """Header texts as written (stripped), made unique; the keys of ``RowProblem.raw_row``."""
    columns: Mapping[int, str]
    """Position → contract column."""
    texts: tuple[str | None, ...] = ()
    """Header texts as written (NFC, stripped), ``None`` for an empty cell."""


@dataclass(frozen=True, slots=True)
class _NoHeader:
    row_no: int | None
    """The non-empty row that came closest to a header, ``None`` when there was no row at all."""
    missing: tuple[Column, ...]


def _map_header(labels: Sequence[str | None]) -> tuple[dict[int, str], str | None]:
    """Positions of the contract columns, and the first contract column named twice (if any)."""
    columns: dict[int, str] = {}
    duplicate = None
    for i, label in enumerate(labels):
        column = _column_for(label) if label else None
        if column is None:
            continue
        if column in columns.values() and duplicate is None:
            duplicate = column
        columns[i] = column
    return columns, duplicate


def _missing(columns: Mapping[int, str]) -> tuple[Column, ...]:
    return tuple(c for c in _REQUIRED if c.name not in columns.values())


def _unique_labels(labels: Sequence[str | None]) -> tuple[str, ...]:
    out: list[str] = []
    for i, label in enumerate(labels):
        text = (label or "").strip() or get_column_letter(i + 1)
        out.append(text if text not in out else f"{text} ({get_column_letter(i + 1)})")
    return tuple(out)


def _missing_values(missing: Sequence[Column]) -> dict[str, str]:
    return {
        "missing": ", ".join(f"{c.name} ({c.alias})" for c in missing),
        "missing_vi": ", ".join(f"“{c.label_vi}” ({c.alias})" for c in missing),
    }


def _locate_header(rows: Iterator[tuple[int, list[Cell]]], name: str) -> _Header | _NoHeader:
    """Consume ``rows`` up to and including the header.

    The header is the first non-empty row, or, when that is a title, the first of the first
    :data:`HEADER_SEARCH_ROWS` non-empty rows that names every required column.
    """
    closest: _NoHeader = _NoHeader(None, _REQUIRED)
    searched = 0
    for row_no, cells in rows:
        if _is_blank(cells):
            continue
        texts = [_text(c) for c in cells]
        columns, duplicate = _map_header(texts)
        missing = _missing(columns)
        if not missing:
            if duplicate:
                raise submission_error(
                    Reason.DUPLICATE_COLUMN,
                    name,
                    row=row_no,
                    column=duplicate,
                    column_vi=_BY_NAME[duplicate].label_vi,
                )
            while texts[-1] is None:  # XLSX rows are padded to MAX_COLUMNS
                texts.pop()
            return _Header(_unique_labels(texts), columns, tuple(texts))
        if closest.row_no is None or len(missing) < len(closest.missing):
            closest = _NoHeader(row_no, missing)
        searched += 1
        if searched == HEADER_SEARCH_ROWS:
            break
    return closest


def _require_header(found: _Header | _NoHeader, name: str) -> _Header:
    if isinstance(found, _Header):
        return found
    if found.row_no is None:
        raise submission_error(Reason.EMPTY_FILE, name)
    raise submission_error(
        Reason.MISSING_COLUMN,
        name,
        row=found.row_no,
        column=found.missing[0].name,
        **_missing_values(found.missing),
    )


# --- records: one non-blank data row with its cells by contract column -------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    row_no: int
    values: Mapping[str, Cell]
    raw_cells: Callable[[], dict[str, str | None]]
    """The row's cell texts by header label, made only for a row that goes to quarantine."""

    @property
    def raw(self) -> dict[str, str | None]:
        return self.raw_cells()


class _RowCount:
    """Counts non-blank data rows, enforcing :data:`MAX_ROWS` and at least one row."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    def add(self, row_no: int) -> None:
        self.count += 1
        if self.count > MAX_ROWS:
            raise submission_error(Reason.TOO_MANY_ROWS, self.name, row=row_no, limit=MAX_ROWS)

    def finish(self) -> None:
        if self.count == 0:
            raise submission_error(Reason.NO_DATA_ROWS, self.name)


def _records(header: _Header, rows: Iterator[tuple[int, list[Cell]]], name: str) -> Iterator[_Record]:
    """The data rows under ``header``; blank rows are skipped."""
    counter = _RowCount(name)
    for row_no, cells in rows:
        if _is_blank(cells):
            continue
        counter.add(row_no)
        values = {column: cells[i] if i < len(cells) else None for i, column in header.columns.items()}
        yield _Record(row_no, values, functools.partial(_raw_row, header.labels, cells))
    counter.finish()


def _raw_json(obj: Mapping[str, object], cells: Sequence[Cell]) -> dict[str, str | None]:
    return {k: _raw_text(c) for k, c in zip(obj, cells, strict=True)}


def _raw_row(labels: Sequence[str], cells: Sequence[Cell]) -> dict[str, str | None]:
    """Cell texts by header label; cells right of the header appear (by column letter) only when filled."""
    raw: dict[str, str | None] = dict.fromkeys(labels)
    for i, cell in enumerate(cells):
        text = _raw_text(cell)
        if i < len(labels):
            raw[labels[i]] = text
        elif text is not None:
            raw.setdefault(get_column_letter(i + 1), text)
    return raw


# --- reading the bytes ------------------------------------------------------------------------

Format = Literal["csv", "xlsx", "json"]
_EXTENSIONS: Mapping[str, Format] = {"csv": "csv", "txt": "csv", "xlsx": "xlsx", "json": "json"}
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "ZIP/XLSX"),
    (b"PK\x05\x06", "ZIP"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls/.doc (OLE)"),
    (b"%PDF", "PDF"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
)
_OLE = _SIGNATURES[2][0]


def _extension(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rpartition(".")[2].casefold() if "." in base else ""


def _format_of(name: str) -> Format:
    extension = _extension(name)
    if extension not in _EXTENSIONS:
        shown = f".{extension}" if extension else ""
        raise submission_error(Reason.UNSUPPORTED_FORMAT, name, extension=shown)
    return _EXTENSIONS[extension]


def _spool(fp: BinaryIO, name: str, max_bytes: int) -> IO[bytes]:
    """Copy at most ``max_bytes`` of ``fp`` to a seekable file (in memory while small)."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115  # returned
    total = 0
    while chunk := fp.read(min(_CHUNK, max_bytes + 1 - total)):
        total += len(chunk)
        if total > max_bytes:
            spool.close()
            raise submission_error(Reason.FILE_TOO_LARGE, name, limit_mb=f"{max_bytes / 1_000_000:g}")
        spool.write(chunk)
    if total == 0:
        spool.close()
        raise submission_error(Reason.EMPTY_FILE, name)
    spool.seek(0)
    return spool


def _check_signature(spool: IO[bytes], fmt: Format, name: str) -> None:
    head = spool.read(16)
    spool.seek(0)
    detected = next((label for magic, label in _SIGNATURES if head.startswith(magic)), None)
    extension = f".{_extension(name)}"
    if fmt == "xlsx":
        if head.startswith(_OLE):
            raise submission_error(Reason.PROTECTED_OR_LEGACY_EXCEL, name)
        if not head.startswith(b"PK\x03\x04"):
            raise submission_error(Reason.CONTENT_MISMATCH, name, extension=extension, detected=detected or "CSV/TXT")
    elif detected is not None:
        raise submission_error(Reason.CONTENT_MISMATCH, name, extension=extension, detected=detected)


# --- text (CSV and JSON) ----------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _text_encoding(spool: IO[bytes], name: str, *, rows_are_lines: bool = True) -> str:
    """The encoding of a text file: a BOM's, UTF-16 without BOM, UTF-8, else Windows-1258.

    Windows-1258 is chosen only when the bytes before the first invalid UTF-8 sequence are all
    ASCII (a UTF-8 file with one stray byte is refused, not turned into mojibake) and the
    decoded text is plausibly Vietnamese (:func:`ingest.vietnamese_text.first_implausible`: a
    Latin-1 or Windows-1252 file is refused rather than loaded as mojibake).  Errors name the
    line of the bad byte when ``rows_are_lines`` (CSV).
    """
    head = spool.read(_CHUNK)
    spool.seek(0)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        return _utf16_without_bom(head, name)
    utf8_error = _utf8_error_offset(spool)
    if utf8_error is None:
        return "utf-8"
    ascii_before, line = _scan_prefix(spool, utf8_error)
    if ascii_before:
        cp1258_error = _cp1258_error_offset(spool)
        if cp1258_error is None:
            _check_cp1258_plausible(spool, name)
            return "cp1258"
        line = _scan_prefix(spool, cp1258_error)[1]
    raise submission_error(Reason.UNDECODABLE_TEXT, name, row=line if rows_are_lines else None)


def _utf8_error_offset(spool: IO[bytes]) -> int | None:
    """Offset of the first byte that is not valid UTF-8, ``None`` when the whole file is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = 0
    try:
        while chunk := spool.read(_CHUNK):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return consumed - pending + exc.start
            consumed += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return consumed - len(exc.object) + exc.start
        return None
    finally:
        spool.seek(0)


_CP1258_UNDEFINED = re.compile(rb"[\x81\x8a\x8d-\x90\x9a\x9d\x9e]")


def _cp1258_error_offset(spool: IO[bytes]) -> int | None:
    """Offset of the first byte Windows-1258 leaves undefined, ``None`` when there is none."""
    consumed = 0
    try:
        while chunk := spool.read(_CHUNK):
            match = _CP1258_UNDEFINED.search(chunk)
            if match:
                return consumed + match.start()
            consumed += len(chunk)
        return None
    finally:
        spool.seek(0)


def _cp1258_chunks(spool: IO[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("cp1258")(errors="replace")
    try:
        while chunk := spool.read(_CHUNK):
            yield decoder.decode(chunk)
    finally:
        spool.seek(0)


def _check_cp1258_plausible(spool: IO[bytes], name: str) -> None:
    """Refuse a file whose Windows-1258 reading is not Vietnamese (see :mod:`ingest.vietnamese_text`)."""
    found = first_implausible(_cp1258_chunks(spool))
    spool.seek(0)
    if found is not None:
        sample = f"\u25cc{found}" if unicodedata.combining(found) else found  # ◌ carries a lone mark
        raise submission_error(Reason.IMPLAUSIBLE_ENCODING, name, sample=sample)


_ENCODING_NAMES: Mapping[str, str] = {
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32": "UTF-32",
    "cp1258": "Windows-1258",
}


def _encoding_notices(encoding: str) -> Iterator[FileNotice]:
    """An ``encoding_detected`` notice unless the file is UTF-8 (with or without BOM)."""
    if encoding in _ENCODING_NAMES:
        yield file_notice(Reason.ENCODING_DETECTED, severity="info", encoding=_ENCODING_NAMES[encoding])


def _scan_prefix(spool: IO[bytes], end: int) -> tuple[bool, int]:
    """Whether the first ``end`` bytes are ASCII, and the line number of byte ``end``.

    Bytes before a UTF-8 error that are not ASCII are valid multi-byte UTF-8 characters: such
    a file is UTF-8 with bad bytes, not Windows-1258.
    """
    is_ascii, newlines = True, 0
    try:
        while end > 0 and (chunk := spool.read(min(_CHUNK, end))):
            is_ascii = is_ascii and chunk.isascii()
            newlines += chunk.count(b"\n")
            end -= len(chunk)
        return is_ascii, newlines + 1
    finally:
        spool.seek(0)


def _utf16_without_bom(head: bytes, name: str) -> str:
    """ASCII-heavy UTF-16 has a NUL in every other byte: odd positions in LE, even in BE."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    pairs = max(len(head) // 2, 1)
    if odd > pairs * 0.3 and even * 10 < odd:
        return "utf-16-le"
    if even > pairs * 0.3 and odd * 10 < even:
        return "utf-16-be"
    raise submission_error(Reason.UNDECODABLE_TEXT, name)


def _decode_head(spool: IO[bytes], encoding: str) -> str:
    head = spool.read(_CHUNK)
    spool.seek(0)
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)


def _sniff_delimiter(head: str) -> tuple[str, bool]:
    """The delimiter, and whether the first line is Excel's ``sep=;`` hint (to be skipped)."""
    first_line = head.split("\n", 1)[0].strip()
    hint = re.fullmatch(r"sep=(.)", first_line, re.IGNORECASE)
    if hint:
        return hint.group(1), True
    lines = [line for line in head.splitlines() if line.strip()][:HEADER_SEARCH_ROWS]
    return max(_DELIMITERS, key=lambda d: max((line.count(d) for line in lines), default=0)), False


def _csv_rows(spool: IO[bytes], name: str, encoding: str) -> Iterator[tuple[int, list[Cell]]]:
    """Records of a CSV file numbered from 1 (a record is a line unless a quoted cell spans lines)."""
    delimiter, skip_hint = _sniff_delimiter(_decode_head(spool, encoding))
    text = io.TextIOWrapper(spool, encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    row_no = 0
    try:
        for fields in reader:
            row_no += 1
            if row_no == 1 and skip_hint:
                continue
            yield row_no, list(fields[:MAX_COLUMNS])
    except UnicodeDecodeError as exc:  # UTF-16/32 only; decoding reads ahead, so no row
        raise submission_error(Reason.UNDECODABLE_TEXT, name) from exc
    except csv.Error as exc:
        raise submission_error(Reason.MALFORMED_CSV, name, row=row_no + 1) from exc


def _header_notices(header: _Header) -> Iterator[FileNotice]:
    return _UnknownColumns().notices(header.texts)


def _csv_records(spool: IO[bytes], name: str) -> Iterator[_Record | FileNotice]:
    """The encoding notice, the unknown-column notices, then the records."""
    encoding = _text_encoding(spool, name)
    yield from _encoding_notices(encoding)
    rows = _csv_rows(spool, name, encoding)
    header = _require_header(_locate_header(rows, name), name)
    yield from _header_notices(header)
    yield from _records(header, rows, name)


def _head_text(head: bytes) -> str | None:
    """``head`` (possibly cut mid-character) decoded as :func:`_text_encoding` would, or ``None``."""
    encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
    if encoding is None and b"\x00" in head:
        try:
            encoding = _utf16_without_bom(head, "")
        except SubmissionError:
            return None
    if encoding is not None:
        return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        pass
    if _CP1258_UNDEFINED.search(head):
        return None
    text = head.decode("cp1258")
    return text if first_implausible([text]) is None else None


def looks_like_table(head: bytes) -> bool:
    r"""Whether ``head``, the first :data:`TABLE_HEAD_BYTES` of a file (or all of a smaller
    one), is a delimited table whose header names every required contract column.

    It reads the encodings and delimiters :func:`parse_submission` reads in a CSV: UTF-8 with
    or without BOM, UTF-16/32 (Excel's "Unicode Text" export is UTF-16 LE with BOM and tabs),
    plausible Windows-1258; ``,`` ``;`` or tab.  A landing layer uses it to send a ``.txt``
    that is really a table to the structured parser rather than to the narrative reader.
    It never raises; a narrative report gives ``False``.

    >>> looks_like_table("ma_don_vi\tky_bao_cao\tma_chi_tieu\ttu_so\nAG.STP\t2026-03\tHT\t1".encode("utf-16"))
    True
    """
    text = _head_text(head[:TABLE_HEAD_BYTES])
    if text is None:
        return False
    delimiter, skip_hint = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: Iterator[tuple[int, list[Cell]]] = (
        (i, list(fields[:MAX_COLUMNS])) for i, fields in enumerate(reader, 1) if not (skip_hint and i == 1)
    )
    try:
        return isinstance(_locate_header(rows, "head"), _Header)
    except csv.Error:
        return False
    except SubmissionError as exc:  # a column named twice: a table all the same
        return exc.reason_code == Reason.DUPLICATE_COLUMN.code


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    match = _JSON_SPACE.match(text, pos)
    return match.end() if match else pos


def _json_error(name: str, text: str, pos: int, index: int | None = None) -> SubmissionError:
    line = text.count("\n", 0, pos) + 1
    col = pos - text.rfind("\n", 0, pos)
    return submission_error(Reason.INVALID_JSON, name, row=index, line=line, col=col)


_JSON_INT_DIGITS = 40
"""Longer JSON integers stay text: ``int()`` of thousands of digits is slow, then refused."""


def _json_int(text: str) -> int | str:
    return int(text) if len(text) <= _JSON_INT_DIGITS else text


def _json_decode(decoder: json.JSONDecoder, name: str, text: str, pos: int, index: int | None) -> tuple[object, int]:
    """One JSON value at ``pos``; a syntax error or nesting deeper than Python recurses is the file's."""
    try:
        return decoder.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _json_error(name, text, exc.pos, index) from exc
    except RecursionError as exc:
        raise submission_error(Reason.JSON_TOO_DEEP, name, row=index, limit=MAX_JSON_DEPTH) from exc


def _json_objects(spool: IO[bytes], name: str, encoding: str) -> Iterator[tuple[int, dict[str, object]]]:
    """The objects of a top-level JSON list, decoded one at a time, numbered from 1."""
    wrapper = io.TextIOWrapper(spool, encoding=encoding)
    try:
        text = wrapper.read()  # bounded by max_bytes; the objects are decoded one by one
    except UnicodeDecodeError as exc:
        raise submission_error(Reason.UNDECODABLE_TEXT, name) from exc
    finally:
        wrapper.detach()
    decoder = json.JSONDecoder(parse_int=_json_int)
    pos = _skip_space(text, 0)
    if pos == len(text):
        raise submission_error(Reason.EMPTY_FILE, name)
    if text[pos] != "[":
        _json_decode(decoder, name, text, pos, None)
        raise submission_error(Reason.JSON_NOT_LIST, name)
    pos = _skip_space(text, pos + 1)
    index = 0
    while text[pos : pos + 1] != "]":
        index += 1
        obj, pos = _json_decode(decoder, name, text, pos, index)
        if not isinstance(obj, dict):
            raise submission_error(Reason.JSON_NOT_LIST, name, row=index)
        yield index, obj
        pos = _skip_space(text, pos)
        if text[pos : pos + 1] == ",":
            pos = _skip_space(text, pos + 1)
        elif text[pos : pos + 1] != "]":
            raise _json_error(name, text, pos, index)
    if _skip_space(text, pos + 1) != len(text):
        raise _json_error(name, text, pos + 1)


def _too_deep(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


_SURROGATE = re.compile("[\ud800-\udfff]")
"""A ``\\ud800`` escape without its pair decodes to a lone surrogate, which no database takes."""


def _json_cell(value: object, name: str, index: int) -> Cell:
    """A JSON value as a cell: scalars as they are, lists and objects as JSON text."""
    if isinstance(value, str) and _SURROGATE.search(value):
        raise submission_error(Reason.UNDECODABLE_TEXT, name, row=index)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if _too_deep(value, MAX_JSON_DEPTH):
        raise submission_error(Reason.JSON_TOO_DEEP, name, row=index, limit=MAX_JSON_DEPTH)
    return _json_cell(json.dumps(value, ensure_ascii=False), name, index)


def _json_records(spool: IO[bytes], name: str) -> Iterator[_Record | FileNotice]:
    """Each object is matched by its own keys; the first non-blank one must name every required
    column (a later one without a required key gives a missing-value problem).  A key the
    contract does not know gives one notice, before the first row that has it."""
    encoding = _text_encoding(spool, name, rows_are_lines=False)
    yield from _encoding_notices(encoding)
    counter = _RowCount(name)
    unknown = _UnknownColumns()
    for index, obj in _json_objects(spool, name, encoding):
        labels = [_nfc(k).strip() for k in obj]
        if any(_SURROGATE.search(k) for k in labels):
            raise submission_error(Reason.UNDECODABLE_TEXT, name, row=index)
        columns, duplicate = _map_header(labels)
        if duplicate:
            raise submission_error(
                Reason.DUPLICATE_COLUMN,
                name,
                row=index,
                column=duplicate,
                column_vi=_BY_NAME[duplicate].label_vi,
            )
        cells = [_json_cell(v, name, index) for v in obj.values()]
        if _is_blank(cells):
            continue
        if counter.count == 0 and _missing(columns):
            _require_header(_NoHeader(index, _missing(columns)), name)
        counter.add(index)
        yield from unknown.notices(labels)
        values = {column: cells[i] for i, column in columns.items()}
        yield _Record(index, values, functools.partial(_raw_json, obj, cells))
    counter.finish()


# --- XLSX -------------------------------------------------------------------------------------


def _check_archive(spool: IO[bytes], name: str) -> None:
    """Refuse zip bombs from the central directory alone, before anything is decompressed
    (:data:`ingest.archive_checks.XLSX_LIMITS`)."""
    try:
        check_archive(spool, XLSX_LIMITS)
    except ArchiveProblem as problem:
        raise _archive_error(problem, name) from problem


def _archive_error(problem: ArchiveProblem, name: str) -> SubmissionError:
    if problem.kind == "members":
        return submission_error(Reason.ARCHIVE_MEMBERS, name, limit=problem.limit)
    if problem.kind == "ratio":
        return submission_error(Reason.ARCHIVE_RATIO, name, member=problem.member, ratio=problem.ratio)
    if problem.kind == "total":
        return submission_error(Reason.ARCHIVE_TOO_LARGE, name, limit_mb=f"{problem.limit / 1_000_000:g}")
    if problem.kind == "part":
        limit_mb = f"{problem.limit / 1_000_000:g}"
        return submission_error(Reason.ARCHIVE_PART_TOO_LARGE, name, member=problem.member, limit_mb=limit_mb)
    return submission_error(Reason.INVALID_XLSX, name)


def _open_workbook(spool: IO[bytes], name: str, *, data_only: bool) -> openpyxl.Workbook:
    spool.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            return openpyxl.load_workbook(spool, read_only=True, data_only=data_only, keep_links=False)
    except Exception as exc:  # openpyxl fails in many ways on a corrupt file; all mean the same
        raise submission_error(Reason.INVALID_XLSX, name) from exc


def _data_sheet(workbook: openpyxl.Workbook) -> tuple[str, bool]:
    """The sheet to read and whether it was found by name (``du_lieu``)."""
    for sheet in workbook.worksheets:
        if _header_key(sheet.title) == DATA_SHEET:
            return sheet.title, True
    visible = [s for s in workbook.worksheets if getattr(s, "sheet_state", "visible") == "visible"]
    return (visible or workbook.worksheets)[0].title, False


def _percent_text(value: float) -> str:
    return f"{Decimal(str(value)).scaleb(2).normalize():f}%"


def _xlsx_cell(cell: object, formula: object) -> Cell:
    """The cached value; a formula marker when there is none; ``82.5%`` for a percent-formatted 0.825."""
    value: Cell = getattr(cell, "value", None)
    if value is None and formula is not None:
        return _Formula(formula if isinstance(formula, str) else str(getattr(formula, "text", formula)))
    percent = "%" in (getattr(cell, "number_format", None) or "")
    if percent and isinstance(value, int | float) and not isinstance(value, bool):
        return _percent_text(value)
    return value


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(spool: IO[bytes], name: str) -> bool:
    """Whether any worksheet holds a formula (streamed; the archive was checked for bombs)."""
    try:
        with zipfile.ZipFile(spool) as archive:
            for info in archive.infolist():
                if not info.filename.startswith("xl/worksheets/"):
                    continue
                with archive.open(info) as member:
                    tail = b""
                    while chunk := member.read(_CHUNK):
                        if _FORMULA_TAG.search(tail + chunk):
                            return True
                        tail = chunk[-16:]
        return False
    except Exception as exc:  # bad CRC, truncated or undecompressable member
        raise submission_error(Reason.INVALID_XLSX, name) from exc
    finally:
        spool.seek(0)


def _padding_only(cells: tuple[object, ...]) -> bool:
    """Whether openpyxl made up the whole row (the file has no cell in it).

    Tested at C speed, as a hostile sheet may declare rows a million apart."""
    return set(map(id, cells)) == {id(EMPTY_CELL)}


def _sheet_rows(
    values: openpyxl.Workbook, formulas: openpyxl.Workbook | None, sheet: str, name: str
) -> Iterator[tuple[int, list[Cell]]]:
    """Rows of ``sheet`` that hold cells, numbered as Excel shows them.

    ``formulas`` is the same workbook read with ``data_only=False``, needed only when the file
    has formulas: it tells a formula nobody calculated from an empty cell.
    """
    value_sheet = values[sheet]
    value_sheet.reset_dimensions()  # do not trust the declared dimension; read what is there
    formula_rows: Iterator[tuple[object, ...] | None] = itertools.repeat(None)
    if formulas is not None:
        formula_sheet = formulas[sheet]
        formula_sheet.reset_dimensions()
        formula_rows = formula_sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    pairs = zip(value_sheet.iter_rows(max_col=MAX_COLUMNS), formula_rows, strict=False)
    row_no = 0
    padding: object = None
    while True:
        try:
            pair = next(pairs, None)
        except Exception as exc:  # a corrupt or lying part surfaces only while streaming
            raise submission_error(Reason.INVALID_XLSX, name, row=row_no + 1) from exc
        if pair is None:
            return
        row_no += 1
        if row_no > EXCEL_MAX_ROW:
            raise submission_error(Reason.TOO_MANY_ROWS, name, row=row_no, limit=EXCEL_MAX_ROW)
        cells, formula_row = pair
        if cells is padding:
            continue
        if _padding_only(cells):
            padding = cells  # openpyxl repeats one padding tuple for a gap: skip it by identity
            continue
        yield row_no, [_xlsx_cell(c, formula_row[i] if formula_row else None) for i, c in enumerate(cells)]


def _xlsx_records(spool: IO[bytes], name: str) -> Iterator[_Record | FileNotice]:
    """Rows of the ``du_lieu`` sheet, else of the first visible sheet (which must then have the
    header: otherwise the error names the sheets found)."""
    _check_archive(spool, name)
    with contextlib.ExitStack() as opened:
        values = _open_workbook(spool, name, data_only=True)
        opened.callback(values.close)
        formulas = None
        if _has_formulas(spool, name):
            formulas = _open_workbook(spool, name, data_only=False)
            opened.callback(formulas.close)
        if not values.worksheets:
            raise submission_error(Reason.EMPTY_FILE, name)
        sheet, by_name = _data_sheet(values)
        rows = _sheet_rows(values, formulas, sheet, name)
        found = _locate_header(rows, name)
        if isinstance(found, _NoHeader) and not by_name and (found.row_no or len(values.sheetnames) > 1):
            raise submission_error(
                Reason.WRONG_SHEET,
                name,
                row=found.row_no,
                column=found.missing[0].name,
                sheets=", ".join(f"“{s}”" for s in values.sheetnames),
                **_missing_values(found.missing),
            )
        header = _require_header(found, name)
        yield from _header_notices(header)
        yield from _records(header, rows, name)


_READERS: Mapping[Format, Callable[[IO[bytes], str], Iterator[_Record | FileNotice]]] = {
    "csv": _csv_records,
    "xlsx": _xlsx_records,
    "json": _json_records,
}

# --- validating a row -------------------------------------------------------------------------

_PERIOD_ISO = re.compile(r"(\d{4})-(\d{1,2})")
_PERIOD_VN = re.compile(r"(\d{1,2})/(\d{4})")
_NEGATIVE = re.compile(r"[-−–]\s*\d")


def normalise_period(text: str) -> str:
    """``2026-03``, ``2026-3``, ``03/2026`` or ``3/2026`` → ``2026-03``; ``ValueError`` otherwise."""
    text = text.strip()
    iso, vn = _PERIOD_ISO.fullmatch(text), _PERIOD_VN.fullmatch(text)
    if iso:
        year, month = int(iso.group(1)), int(iso.group(2))
    elif vn:
        year, month = int(vn.group(2)), int(vn.group(1))
    else:
        raise ValueError(f"not a period: {text!r}")
    if not 1 <= month <= 12 or year < 1900:
        raise ValueError(f"not a period: {text!r}")
    return f"{year:04d}-{month:02d}"


def unit_valid_in_period(unit: Unit, period: str) -> bool:
    """Whether ``unit`` exists on at least one day of ``period`` (``YYYY-MM``).

    A unit dissolved or created mid-month still reports that month.
    """
    first = dt.date.fromisoformat(f"{period}-01")
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return unit.valid_from <= last and (unit.valid_to is None or unit.valid_to >= first)


class _Invalid(Exception):
    """Raised inside :class:`_RowChecker` to stop at a row's first problem."""

    def __init__(self, reason: Reason, column: str | None, **values: object) -> None:
        super().__init__(reason.code)
        self.reason = reason
        self.column = column
        self.values = values


def _number_or_text(value: Cell, reason: Reason, column: str) -> int | float | str:
    """A number as it is, anything else as text; dates and booleans are not numbers."""
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        raise _Invalid(reason, column)
    if isinstance(value, bool):
        raise _Invalid(Reason.NOT_A_WHOLE_NUMBER if reason is Reason.DATE_NOT_A_NUMBER else reason, column)
    if isinstance(value, int | float):
        return value
    return _text(value) or ""


def _is_negative(value: int | float | str) -> bool:
    return value < 0 if isinstance(value, int | float) else bool(_NEGATIVE.match(value))


def _count(value: Cell, column: str, limit: int = MAX_COUNT) -> int:
    """A non-negative whole number that fits the warehouse column (``bigint`` unless ``limit``)."""
    if type(value) is str and len(value) < 19 and value.isascii() and value.isdigit() and int(value) <= limit:
        return int(value)  # plain digits within the limit: the common case, without the general parse
    number = _number_or_text(value, Reason.DATE_NOT_A_NUMBER, column)
    if _is_negative(number):
        raise _Invalid(Reason.NEGATIVE_NUMBER, column)
    try:
        count = parse_count(number)
    except NumberTooLargeError as exc:
        raise _too_large(column, limit) from exc
    except NumberFormatError as exc:
        raise _Invalid(Reason.NOT_A_WHOLE_NUMBER, column) from exc
    if count > limit:
        raise _too_large(column, limit)
    return count


def _too_large(column: str, limit: int) -> _Invalid:
    return _Invalid(Reason.NUMBER_TOO_LARGE, column, limit=f"{limit:,}", limit_vi=_vi_number(limit))


def _vi_number(number: int | Decimal) -> str:
    """``9999999.99`` → ``9.999.999,99`` (Vietnamese marks)."""
    return f"{number:,}".translate(str.maketrans(",.", ".,"))


@dataclass(frozen=True, slots=True)
class _Lookups:
    """The registry's codes, case-folded: built once per registry, not once per file."""

    registry: Registry
    units: Mapping[str, Unit]
    indicators: Mapping[str, Indicator]
    services: Mapping[str, str]


_LOOKUPS: dict[int, _Lookups] = {}


def _lookups(registry: Registry) -> _Lookups:
    found = _LOOKUPS.get(id(registry))
    if found is None or found.registry is not registry:
        found = _Lookups(
            registry,
            {code.casefold(): unit for code, unit in registry.units.items()},
            {code.casefold(): ind for code, ind in registry.indicators.items()},
            {code.casefold(): code for code in registry.services},
        )
        _LOOKUPS.clear()  # one registry at a time; a reloaded one replaces it
        _LOOKUPS[id(registry)] = found
    return found


class _RowChecker:
    """Validates records against the registry, remembering keys to find duplicates."""

    def __init__(self, registry: Registry, today: dt.date, expected_period: str | None) -> None:
        lookups = _lookups(registry)
        self.rate_tolerance = lambda code: registry.tolerances.for_indicator(code).rate_mismatch_pp
        self.units = lookups.units
        self.indicators = lookups.indicators
        self.services = lookups.services
        self.current_month = f"{today.year:04d}-{today.month:02d}"
        self.expected_period = expected_period
        self.first_rows: dict[tuple[str, str, str, str], int] = {}
        self.valid_units: dict[tuple[str, str], bool] = {}
        self.periods: dict[str, str] = {}
        """Whether a unit exists in a month: asked once per unit and month, not once per row."""

    def __call__(self, record: _Record) -> SubmissionRow | RowProblem:
        try:
            return self._check(record)
        except _Invalid as problem:
            column = problem.column
            return row_problem(
                problem.reason,
                record.row_no,
                column=column,
                raw_value=_raw_text(record.values.get(column)) if column else None,
                raw_row=record.raw,
                column_vi=_BY_NAME[column].label_vi if column else "",
                **problem.values,
            )

    def _check(self, record: _Record) -> SubmissionRow:
        values = record.values
        for column, value in values.items():
            if isinstance(value, _Formula):
                raise _Invalid(Reason.FORMULA_WITHOUT_VALUE, column)
        texts = {c.name: _text(values.get(c.name)) for c in _REQUIRED}
        for required in _REQUIRED:
            if texts[required.name] is None:
                raise _Invalid(Reason.MISSING_VALUE, required.name)
        period = self._period(values["period"])
        unit = self._unit(texts["unit_code"] or "", period)
        indicator = self._indicator(texts["indicator_code"] or "")
        service = self._service(_text(values.get("service_code")), indicator)
        key = (unit.code, period, indicator.code, service)
        first_row = self.first_rows.setdefault(key, record.row_no)
        if first_row != record.row_no:
            raise _Invalid(Reason.DUPLICATE_ROW, None, first_row=first_row)
        numerator = _count(values["numerator"], "numerator")
        denominator_value = values.get("denominator")
        denominator = None if _text(denominator_value) is None else _count(denominator_value, "denominator")
        rate = self._rate(values.get("reported_rate"))
        return SubmissionRow(
            row_no=record.row_no,
            unit_code=unit.code,
            period=period,
            indicator_code=indicator.code,
            service_code=service,
            numerator=numerator,
            denominator=denominator,
            reported_rate=rate,
            note=_text(values.get("note")),
            flags=_flags(indicator, numerator, denominator, rate, self.rate_tolerance(indicator.code)),
            source_line=_source_line(values.get("source_line")),
            snippet=_text(values.get("snippet")),
        )

    def _period(self, value: Cell) -> str:
        if isinstance(value, dt.date) and value.day == 1:
            # Excel turns a typed "03/2026" into the date 2026-03-01.
            if not isinstance(value, dt.datetime) or value.time() == dt.time():
                period = f"{value.year:04d}-{value.month:02d}"
            else:
                raise _Invalid(Reason.INVALID_PERIOD, "period")
        else:
            period = self._period_text(_text(value) or "")
        if self.expected_period and period != self.expected_period:
            raise _Invalid(Reason.PERIOD_MISMATCH, "period", period=period, expected=self.expected_period)
        if period >= self.current_month:
            raise _Invalid(Reason.FUTURE_PERIOD, "period", period=period)
        return period

    def _period_text(self, text: str) -> str:
        """A written month, normalised; remembered, as a file repeats it on every row."""
        period = self.periods.get(text)
        if period is None:
            try:
                period = self.periods[text] = normalise_period(text)
            except ValueError as exc:
                raise _Invalid(Reason.INVALID_PERIOD, "period") from exc
        return period

    def _unit(self, code: str, period: str) -> Unit:
        unit = self.units.get(code.casefold())
        if unit is None:
            raise _Invalid(Reason.UNKNOWN_UNIT, "unit_code")
        valid = self.valid_units.get((unit.code, period))
        if valid is None:
            valid = self.valid_units[(unit.code, period)] = unit_valid_in_period(unit, period)
        if not valid:
            until = unit.valid_to.strftime("%d/%m/%Y") if unit.valid_to else "…"
            raise _Invalid(
                Reason.UNIT_NOT_VALID_IN_PERIOD,
                "unit_code",
                unit=unit.code,
                period=period,
                valid=f"{unit.valid_from:%d/%m/%Y} – {until}",
            )
        return unit

    def _indicator(self, code: str) -> Indicator:
        indicator = self.indicators.get(code.casefold())
        if indicator is None:
            raise _Invalid(Reason.UNKNOWN_INDICATOR, "indicator_code")
        return indicator

    def _service(self, code: str | None, indicator: Indicator) -> str:
        """``NA`` when empty; any known service for a service indicator (units may report more
        services than the registry expects of them); an empty or ``NA`` service code on a
        service indicator is its all-services total."""
        if code is None or code.casefold() == NO_SERVICE.casefold():
            return NO_SERVICE
        if not indicator.has_service:
            raise _Invalid(Reason.UNEXPECTED_SERVICE, "service_code", indicator=indicator.code)
        service = self.services.get(code.casefold())
        if service is None:
            raise _Invalid(Reason.UNKNOWN_SERVICE, "service_code")
        return service

    @staticmethod
    def _rate(value: Cell) -> Decimal | None:
        text = _text(value)
        if text is None:
            return None
        number = _number_or_text(value, Reason.INVALID_RATE, "reported_rate")
        if _is_negative(number):
            raise _Invalid(Reason.RATE_OUT_OF_RANGE, "reported_rate", rate=text)
        try:
            rate = parse_rate(number)
        except NumberTooLargeError as exc:
            raise _Invalid(
                Reason.RATE_TOO_LARGE, "reported_rate", limit=f"{MAX_RATE:,}", limit_vi=_vi_number(MAX_RATE)
            ) from exc
        except NumberFormatError as exc:
            raise _Invalid(Reason.INVALID_RATE, "reported_rate") from exc
        # A total-kind rate above 100 % can be read: it loads, flagged, and the quality gate
        # decides (quarantine is for what cannot be read, not for what breaks a rule).
        return rate


def _source_line(value: Cell) -> int | None:
    """The report line a reviewed figure came from (review workbook), when given."""
    return None if _text(value) is None else _count(value, "source_line", MAX_SOURCE_LINE)


def _flags(
    indicator: Indicator, numerator: int, denominator: int | None, rate: Decimal | None, tolerance: Decimal
) -> tuple[str, ...]:
    """Soft findings: the row loads, the report shows them."""
    flags: list[str] = []
    above = denominator is not None and numerator > denominator
    if indicator.denominator_kind == "total" and (above or (rate is not None and rate > 100)):
        flags.append(Reason.NUMERATOR_ABOVE_DENOMINATOR.code)  # what the unit claims exceeds its whole
    computed = Decimal(100 * numerator) / denominator if denominator else None
    if rate is not None and computed is not None and abs(rate - computed) > tolerance:
        flags.append(Reason.RATE_MISMATCH.code)
    return tuple(flags)


# --- the entry point --------------------------------------------------------------------------


def parse_submission(
    fp: BinaryIO,
    *,
    name: str,
    registry: Registry,
    today: dt.date,
    period: str | None = None,
    max_bytes: int = 50_000_000,
) -> Iterator[SubmissionRow | RowProblem | FileNotice]:
    """Yield one :class:`SubmissionRow` or :class:`RowProblem` per non-blank data row of ``fp``,
    and :class:`FileNotice` items about the file as a whole.

    Notices are not rows (they count in neither rows read nor rows loaded): the text encoding
    when it is not UTF-8 (``encoding_detected``, severity ``info``), then one per header text
    the contract does not know (``unknown_column``, with the nearest known alias), all before
    the first row; a JSON key first seen in a later object gets its notice before that row.

    ``name`` is the file name as uploaded: its extension picks the format (``.csv``/``.txt``,
    ``.xlsx``, ``.json``) and it is quoted in errors.  ``today`` decides which months have
    ended (a period is reportable once its month is over); ``period`` (``YYYY-MM``), when
    given, is the month this submission is for, and rows of another month become problems.

    Raises :class:`SubmissionError` (while iterating) when the file cannot be read as a whole:
    empty or header only, unsupported or disguised format, undecodable text, no sheet with the
    required columns, a required column missing, larger than ``max_bytes``, a suspicious
    XLSX archive, invalid or too deeply nested JSON, JSON that is not a list of objects, or
    text that is not UTF-8 and not plausibly Vietnamese in Windows-1258.

    >>> with open("AG.STP_2026-03.csv", "rb") as fp:
    ...     items = list(parse_submission(fp, name=fp.name, registry=load_registry(), today=date.today()))
    """
    fmt = _format_of(name)
    expected = None if period is None else normalise_period(period)
    checker = _RowChecker(registry, today, expected)
    with _spool(fp, name, max_bytes) as spool:
        _check_signature(spool, fmt, name)
        for item in _READERS[fmt](spool, name):
            yield item if isinstance(item, FileNotice) else checker(item)
