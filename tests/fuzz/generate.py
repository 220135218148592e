"""Hypothesis strategies for monthly submissions (``formats.md`` §1) that know their ground truth.

:func:`submissions` draws one file, CSV, JSON or XLSX, with random encodings, header spellings,
column order, optional and unknown columns, Vietnamese and plain numbers, title and blank rows,
duplicates, truncation.  Beside the bytes it returns, for every non-blank data row written, what
the contract says must happen to it:

* ``valid``: the row must load, with exactly the values written;
* ``invalid``: the row must be quarantined (unknown code, negative, a fraction, text, NaN or
  Infinity, above PostgreSQL's bigint, a future month ...; a rate above 100 % of a total loads);
* ``unsure``: the contract leaves it open (``1,500``, ``2076.0``, a duplicate of a row that did
  not load), so only the counting invariants apply.

Valid rows are drawn conservatively: only spellings the contract names and that have one reading.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import openpyxl
from hypothesis import strategies as st

from ingest.registry import Registry, load_registry

Status = Literal["valid", "invalid", "unsure"]
Format = Literal["csv", "json", "xlsx"]
_RANK: dict[Status, int] = {"valid": 0, "unsure": 1, "invalid": 2}

TODAY = dt.date(2026, 11, 30)
"""October 2026 is the last month that has ended."""
BIGINT_MAX = 2**63 - 1
REGISTRY: Registry = load_registry()

# The contract's columns, written out from formats.md §1 (English name, Vietnamese alias, label).
COLUMNS: dict[str, tuple[str, str, str]] = {
    "unit_code": ("unit_code", "ma_don_vi", "Mã đơn vị"),
    "period": ("period", "ky_bao_cao", "Kỳ báo cáo"),
    "indicator_code": ("indicator_code", "ma_chi_tieu", "Mã chỉ tiêu"),
    "service_code": ("service_code", "ma_dich_vu", "Mã dịch vụ"),
    "numerator": ("numerator", "tu_so", "Tử số"),
    "denominator": ("denominator", "mau_so", "Mẫu số"),
    "reported_rate": ("reported_rate", "ty_le", "Tỷ lệ"),
    "note": ("note", "ghi_chu", "Ghi chú"),
}
REQUIRED = ("unit_code", "period", "indicator_code", "numerator")
OPTIONAL = ("service_code", "denominator", "reported_rate", "note")
UNKNOWN_COLUMNS = ("STT", "Người lập biểu", "Đơn vị tính", "Số điện thoại liên hệ", "extra_col")
TITLES = (
    "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06",
    "Sở Tư pháp tỉnh An Giang",
    "Tháng 3 năm 2026",
    "Kèm theo Công văn số 123/STP-VP",
)
WORDS = ("đã", "cập nhật", "số liệu", "tháng", "hồ sơ", "trực tuyến", "ghi chú", "Quý I", "đúng hạn", "OK")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1258")

# --- the registry, as the generator's ground truth ---------------------------------------------


def _months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _unit_months(unit_valid_from: dt.date, unit_valid_to: dt.date | None) -> list[str]:
    """Months wholly inside a unit's validity and ended before TODAY's month (from 2024)."""
    months = _months("2024-01", "2026-10")
    out = []
    for m in months:
        first = dt.date.fromisoformat(f"{m}-01")
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if unit_valid_from <= first and (unit_valid_to is None or last <= unit_valid_to):
            out.append(m)
    return out


UNIT_MONTHS: dict[str, list[str]] = {
    code: ms for code, u in sorted(REGISTRY.units.items()) if (ms := _unit_months(u.valid_from, u.valid_to))
}
UNIT_CODES = sorted(UNIT_MONTHS)
INDICATORS = sorted(REGISTRY.indicators)
SERVICES = sorted(REGISTRY.services)
ALL_MONTHS = _months("2024-01", "2026-10")

# --- cells -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One cell as each format writes it, with what the contract says about it."""

    csv: str
    json: Any = None
    xlsx: Any = None
    xlsx_format: str | None = None
    status: Status = "valid"
    value: Any = None
    """What loads, when valid (``None`` for an empty optional cell)."""


def text_cell(text: str, status: Status = "valid", value: Any = None) -> Cell:
    return Cell(text, text, text, None, status, value)


EMPTY = Cell("", None, None, None, "valid", None)


def _blank(cell: Cell, fmt: Format) -> bool:
    raw = cell.csv if fmt == "csv" else (cell.json if fmt == "json" else cell.xlsx)
    return raw is None or (isinstance(raw, str) and not raw.strip())


def grouped(n: int, sep: str) -> str:
    """``1597452`` → ``1.597.452`` (by hand: groups of three from the right)."""
    digits = str(n)
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


@st.composite
def counts(draw: st.DrawFn, fmt: Format, *, optional: bool, clean: bool = False) -> Cell:
    """A numerator or denominator cell (a valid one when ``clean``)."""
    kinds = ["valid"] * 6 + ["empty", "negative", "fraction", "bad_group", "text", "huge", "special", "unsure"]
    kind = draw(st.sampled_from(["valid"] * 9 + ["empty"] if clean else kinds))
    if kind == "empty" and clean and not optional:
        kind = "valid"
    small = st.integers(0, 10_000_000)
    if kind == "valid":
        n = draw(st.one_of(small, small, st.integers(0, BIGINT_MAX)))
        forms = [str(n), grouped(n, "."), grouped(n, " "), grouped(n, "\u00a0")]
        text = draw(st.sampled_from(forms))
        if fmt == "csv":
            return text_cell(text, "valid", n)
        # An XLSX number is a double (openpyxl writes 2**53 + 1 as 2**53): only JSON keeps big ints.
        exact = n < 2**53
        native_json = draw(st.sampled_from([n, text] + ([float(n)] if exact else [])))
        native_xlsx = draw(st.sampled_from([n, float(n), text] if exact else [text]))
        return Cell(text, native_json, native_xlsx, None, "valid", n)
    if kind == "empty":
        return EMPTY if optional else Cell("", None, None, None, "invalid")
    if kind == "negative":
        n = draw(st.integers(1, 10**9))
        text = draw(st.sampled_from([f"-{n}", f"−{grouped(n, '.')}", f"- {n}", f"–{n}"]))
        native = draw(st.sampled_from([-n, float(-n), text]))
        return Cell(text, native, native, None, "invalid")
    if kind == "fraction":
        whole, frac = draw(st.integers(0, 10**6)), draw(st.integers(1, 99))
        text = draw(st.sampled_from([f"{whole},{frac:02d}", f"{whole}.{frac:02d}"]))
        native = draw(st.sampled_from([whole + frac / 100, text]))
        return Cell(text, native, native, None, "invalid")
    if kind == "bad_group":
        # "12.34" (two digits after the dot) and "1.50.000" (a group of two) are no grouped count.
        text = draw(st.sampled_from(["12.34", "1.50.000", "1.5000", "1.597.45", "1..000", ".500", "1.000."]))
        return text_cell(text, "invalid")
    if kind == "text":
        text = draw(st.sampled_from(["abc", "N/A", "không", "1e5", "x12", "12 hồ sơ", "#REF!", "?", "0x10"]))
        return text_cell(text, "invalid")
    if kind == "huge":
        n = draw(st.integers(BIGINT_MAX + 1, 10**30))
        text = draw(st.sampled_from([str(n), grouped(n, ".")]))
        native = draw(st.sampled_from([n, text]))
        return Cell(text, native, native, None, "invalid")
    if kind == "special":
        if fmt == "json":
            native = draw(st.sampled_from([float("nan"), float("inf"), float("-inf"), True, False, [1, 2], {"a": 1}]))
            return Cell("", native, None, None, "invalid")
        text = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "inf"]))
        return text_cell(text, "invalid")
    # unsure: spellings the contract leaves open
    n = draw(st.integers(1000, 10**7))
    return text_cell(draw(st.sampled_from([grouped(n, ","), f"{n}.0", f"{n},0", f"00{n}"])), "unsure")


def _rate_texts(r: Decimal) -> list[str]:
    plain = format(r, "f")
    comma = plain.replace(".", ",")
    return [plain, comma, f"{comma}%", f"{comma} %", f"{plain}%"]


@st.composite
def rates(draw: st.DrawFn, fmt: Format, kind: str, *, clean: bool = False) -> Cell:
    """A reported-rate cell for an indicator whose denominator is a ``total`` or a ``target``."""
    choices = ["valid"] * 5 + ["empty"] + ([] if clean else ["negative", "text", "above", "special"])
    choice = draw(st.sampled_from(choices))
    top = 10_000 if kind == "total" else 99_999
    if choice == "valid":
        hundredths = draw(st.integers(0, top))
        r = Decimal(hundredths) / 100
        text = draw(st.sampled_from(_rate_texts(r)))
        if fmt == "csv":
            return text_cell(text, "valid", r)
        if fmt == "xlsx" and draw(st.booleans()):
            return Cell(text, None, float(r / 100), "0.00%", "valid", r)
        native = draw(st.sampled_from([float(r), text] + ([int(r)] if r == int(r) else [])))
        return Cell(text, native, native, None, "valid", r)
    if choice == "empty":
        return EMPTY
    if choice == "negative":
        return text_cell(draw(st.sampled_from(["-5", "-5%", "−12,5%", "-0,5"])), "invalid")
    if choice == "text":
        return text_cell(draw(st.sampled_from(["abc", "n/a", "12,5,3", "%", "tỷ lệ"])), "invalid")
    if choice == "above":
        if kind != "total":
            return text_cell("-1", "invalid")
        # Above 100 % of a total: readable, so it loads (flagged) and the quality gate judges it.
        r = Decimal(draw(st.integers(10_001, 1_000_000))) / 100
        return text_cell(draw(st.sampled_from(_rate_texts(r))), "valid", r)
    if fmt == "json":
        native = draw(st.sampled_from([float("nan"), float("inf"), float("-inf"), True]))
        return Cell("", native, None, None, "invalid")
    return text_cell(draw(st.sampled_from(["NaN", "Infinity", "inf"])), "invalid")


def period_cell(draw: st.DrawFn, fmt: Format, month: str, status: Status) -> Cell:
    year, mon = int(month[:4]), int(month[5:])
    text = draw(st.sampled_from([month, f"{year}-{mon}", f"{mon:02d}/{year}", f"{mon}/{year}"]))
    if fmt == "xlsx" and draw(st.integers(0, 3)) == 0:
        return Cell(text, None, dt.datetime(year, mon, 1), None, status, month)
    return text_cell(text, status, month)


# --- rows --------------------------------------------------------------------------------------


@dataclass
class Row:
    cells: dict[str, Cell]
    status: Status
    key: tuple[str, str, str, str] | None
    expected: dict[str, Any] = field(default_factory=dict)


def _unit_and_period(
    draw: st.DrawFn, fmt: Format, cells: dict[str, Cell], ok: list[str], clean: bool
) -> tuple[str, str, bool]:
    """Draw the unit and period cells; return the unit, the month, and whether the key is valid."""
    unit = draw(st.sampled_from(UNIT_CODES))
    unit_choice = draw(
        st.sampled_from(ok + ([] if clean else ["unknown", "out_of_validity", "bad_period", "future", "empty"]))
    )
    month = draw(st.sampled_from(UNIT_MONTHS[unit]))
    cells["unit_code"] = text_cell(unit, "valid", unit)
    cells["period"] = period_cell(draw, fmt, month, "valid")
    if unit_choice == "unknown":
        cells["unit_code"] = text_cell(draw(st.sampled_from(["XX.KHONG", "AG.STP2", "A G.STP", "AG-STP"])), "invalid")
    elif unit_choice == "out_of_validity":
        outside = [m for m in ALL_MONTHS if m not in UNIT_MONTHS[unit] and m[:7] not in ("2025-06", "2025-07")]
        if outside:
            cells["period"] = period_cell(draw, fmt, draw(st.sampled_from(outside)), "invalid")
    elif unit_choice == "bad_period":
        cells["period"] = text_cell(
            draw(st.sampled_from(["13/2026", "2026-00", "2026/03", "tháng 3", "03-2026", "1899-12", "2026-13"])),
            "invalid",
        )
    elif unit_choice == "future":
        cells["period"] = text_cell(draw(st.sampled_from(["2026-11", "2026-12", "01/2027", "2030-1"])), "invalid")
    elif unit_choice == "empty":
        which = draw(st.sampled_from(["unit_code", "period"]))
        cells[which] = Cell("", None, None, None, "invalid")
    key_ok = unit_choice in ("ok", "out_of_validity") and cells["period"].status != "invalid"
    return unit, month, key_ok


def _indicator(draw: st.DrawFn, cells: dict[str, Cell], ok: list[str], clean: bool) -> tuple[str, bool]:
    """Draw the indicator cell; return its code and whether it is valid."""
    code = draw(st.sampled_from(INDICATORS))
    ind_choice = draw(st.sampled_from(ok + ([] if clean else ["unknown", "empty"])))
    cells["indicator_code"] = text_cell(code, "valid", code)
    if ind_choice == "unknown":
        cells["indicator_code"] = text_cell(
            draw(st.sampled_from(["DVC_ONLINE", "HT_SCANNED_X", "CHI_TIEU_1"])), "invalid"
        )
    elif ind_choice == "empty":
        cells["indicator_code"] = Cell("", None, None, None, "invalid")
    return code, ind_choice == "ok"


def _service(draw: st.DrawFn, cells: dict[str, Cell], has_service: bool, clean: bool) -> tuple[str, bool]:
    """Draw the service cell (the column is present); return the service and whether it is valid."""
    svc_choice = draw(st.sampled_from(["empty", "na", "service", "service"] + ([] if clean else ["wrong"])))
    if svc_choice == "empty":
        cells["service_code"] = EMPTY
    elif svc_choice == "na":
        cells["service_code"] = text_cell("NA", "valid", "NA")
    elif svc_choice == "service" and has_service:
        service = draw(st.sampled_from(SERVICES))
        cells["service_code"] = text_cell(service, "valid", service)
        return service, True
    elif svc_choice == "service" and clean:
        cells["service_code"] = EMPTY
    elif svc_choice == "service" or not has_service:
        # a service on an indicator without a service dimension
        cells["service_code"] = text_cell(draw(st.sampled_from(SERVICES)), "invalid")
        return "NA", False
    else:
        cells["service_code"] = text_cell(draw(st.sampled_from(["DV99", "DV0", "XX"])), "invalid")
        return "NA", False
    return "NA", True


def _figures(draw: st.DrawFn, fmt: Format, cells: dict[str, Cell], columns: list[str], kind: str, clean: bool) -> None:
    """Draw the numerator, and the denominator, rate and note when their columns are present."""
    cells["numerator"] = draw(counts(fmt, optional=False, clean=clean))
    if "denominator" in columns:
        cells["denominator"] = draw(counts(fmt, optional=True, clean=clean))
    if "reported_rate" in columns:
        cells["reported_rate"] = draw(rates(fmt, kind, clean=clean))
    if "note" in columns:
        note = draw(st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join))
        cells["note"] = text_cell(note, "valid", note or None)


@st.composite
def data_rows(draw: st.DrawFn, fmt: Format, columns: list[str]) -> Row:
    """One data row for the contract ``columns`` present in the file, with its ground truth.

    Half the rows are drawn clean (every cell valid), so that many files hold several valid rows.
    """
    clean = draw(st.booleans())
    ok = ["ok"] if clean else ["ok"] * 8
    cells: dict[str, Cell] = {}
    unit, month, key_ok = _unit_and_period(draw, fmt, cells, ok, clean)
    code, code_ok = _indicator(draw, cells, ok, clean)
    indicator = REGISTRY.indicators[code]
    service, service_ok = "NA", True
    if "service_code" in columns:
        service, service_ok = _service(draw, cells, indicator.has_service, clean)
    _figures(draw, fmt, cells, columns, indicator.denominator_kind, clean)
    status = max((c.status for c in cells.values()), key=_RANK.__getitem__)
    key = (unit, month, code, service) if key_ok and code_ok and service_ok else None
    expected = {
        "unit_code": unit,
        "period": month,
        "indicator_code": code,
        "service_code": service,
        "numerator": cells["numerator"].value,
        "denominator": cells["denominator"].value if "denominator" in cells else None,
        "reported_rate": cells["reported_rate"].value if "reported_rate" in cells else None,
    }
    return Row(cells, status, key, expected)


# --- headers -----------------------------------------------------------------------------------


@st.composite
def header_text(draw: st.DrawFn, column: str) -> str:
    """One accepted spelling of a contract column's header, in random case and spacing."""
    text = draw(st.sampled_from(COLUMNS[column]))
    if column == "reported_rate" and text == "Tỷ lệ" and draw(st.booleans()):
        text += " (%)"
    cases: list[Callable[[str], str]] = [str, str.upper, str.lower, str.title]
    case = draw(st.sampled_from(cases))
    text = case(text)
    spacing = draw(st.sampled_from(["same", "space", "underscore", "double"]))
    if spacing == "space":
        text = text.replace("_", " ")
    elif spacing == "underscore":
        text = text.replace(" ", "_")
    elif spacing == "double":
        text = text.replace(" ", "  ").replace("_", " _ ")
    pad = draw(st.sampled_from(["", " ", "  "]))
    return pad + text + draw(st.sampled_from(["", " "]))


# --- files -------------------------------------------------------------------------------------


@dataclass
class Written:
    row_no: int
    row: Row


@dataclass
class Case:
    name: str
    data: bytes
    fmt: Format
    rows: list[Written]
    """The non-blank data rows written, with their row number as the parser numbers them."""
    may_refuse: bool = False
    """The file may be refused whole (truncated, or text whose encoding is ambiguous)."""
    must_refuse: bool = False
    """The file must be refused whole (no data row, a required column missing, only a BOM)."""
    exact_count: bool = True
    """rows read must equal the data rows written (false once the file is truncated)."""
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        head = self.data[:600]
        return f"{self.name} ({self.fmt}, {len(self.data)} bytes; {', '.join(self.notes)}): {head!r}"


def _vietnamese_1258(text: str) -> str:
    """Text as Windows-1258 writes Vietnamese: base letters with a tone mark as a combining character."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tone = "".join(p for p in parts if p in tones)
        out.append(unicodedata.normalize("NFC", "".join(p for p in parts if p not in tones)) + tone)
    return "".join(out)


def encode(text: str, encoding: str) -> tuple[bytes, bool]:
    """The bytes, and whether a reader can only take them one way.

    A Windows-1258 file is unambiguous for the contract only when it is not valid UTF-8 and
    everything before its first non-UTF-8 byte is ASCII (the parser's documented rule).
    """
    if encoding != "cp1258":
        return text.encode(encoding), True
    try:
        data = _vietnamese_1258(text).encode("cp1258")
    except UnicodeEncodeError:
        return text.encode("utf-8"), True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data, data[: exc.start].isascii()
    return data, data.isascii()


def _cells_in_order(row: Row, order: list[str], unknown_values: dict[str, Cell]) -> list[Cell]:
    return [row.cells.get(c, EMPTY) if c in COLUMNS else unknown_values[c] for c in order]


@st.composite
def submissions(draw: st.DrawFn) -> Case:
    """One submission file with its ground truth (see the module docstring)."""
    fmt: Format = draw(st.sampled_from(["csv", "csv", "json", "xlsx"]))
    delimiter = draw(st.sampled_from([",", ";", "\t"])) if fmt == "csv" else ","
    optional = [c for c in OPTIONAL if draw(st.booleans())]
    unknown = draw(st.lists(st.sampled_from(UNKNOWN_COLUMNS), unique=True, max_size=2))
    columns = list(REQUIRED) + optional
    order = draw(st.permutations(columns + unknown))
    dropped = None
    if draw(st.integers(0, 19)) == 0:
        dropped = draw(st.sampled_from(REQUIRED))
        order = [c for c in order if c != dropped]
    headers = {c: draw(header_text(c)) if c in COLUMNS else c for c in order}

    # the body: data rows, blank rows and exact duplicates, in order
    body: list[Row | None] = []
    for _ in range(draw(st.integers(0, 8))):
        what = draw(st.sampled_from(["row"] * 6 + ["blank", "duplicate"]))
        if what == "blank":
            body.append(None)
        elif what == "duplicate" and any(body):
            body.append(draw(st.sampled_from([r for r in body if r is not None])))
        else:
            body.append(draw(data_rows(fmt, columns)))
    case = Case(name=f"AG.STP_2026-03.{fmt}", data=b"", fmt=fmt, rows=[])
    if dropped:
        case.must_refuse = True
        case.notes.append(f"required column {dropped} missing")

    # ground truth of duplicates: a key seen before never loads twice
    seen: dict[tuple[str, str, str, str], Status] = {}
    truths: list[Row | None] = []
    for row in body:
        if row is None:
            truths.append(None)
            continue
        status = row.status
        if row.key is not None:
            if row.key in seen:
                status = "invalid" if seen[row.key] == "valid" or status == "invalid" else "unsure"
            else:
                seen[row.key] = status
        truths.append(Row(row.cells, status, row.key, row.expected))

    unknown_values = {c: text_cell(draw(st.sampled_from(["", "1", "Nguyễn Văn A", "hồ sơ"]))) for c in unknown}
    if fmt == "csv":
        _write_csv(draw, case, order, headers, truths, unknown_values, delimiter)
    elif fmt == "json":
        _write_json(draw, case, order, headers, truths, unknown_values)
    else:
        _write_xlsx(draw, case, order, headers, truths, unknown_values)

    if not case.rows:
        case.must_refuse = True
    structure = draw(st.sampled_from(["whole"] * 12 + ["truncated", "bom_only"]))
    if structure == "truncated" and len(case.data) > 1:
        cut = draw(st.integers(1, len(case.data) - 1))
        case.data = case.data[:cut]
        case.may_refuse, case.must_refuse, case.exact_count = True, False, False
        case.notes.append(f"truncated at byte {cut}")
    elif structure == "bom_only":
        case.data = draw(st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]))
        case.rows, case.must_refuse, case.may_refuse = [], True, False
        case.name = f"AG.STP_2026-03.{'json' if fmt == 'json' else 'csv'}"
        case.notes.append("BOM only")
    return case


def _write_csv(
    draw: st.DrawFn,
    case: Case,
    order: list[str],
    headers: dict[str, str],
    body: list[Row | None],
    unknown_values: dict[str, Cell],
    delimiter: str,
) -> None:
    out = io.StringIO()
    quoting: Literal[0, 1] = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\r\n", "\n"])), quoting=quoting)
    record = 0
    if delimiter != "," and draw(st.integers(0, 4)) == 0:
        out.write(f"sep={delimiter}\n")
        record += 1
    for title in draw(st.lists(st.sampled_from(TITLES), max_size=3)):
        writer.writerow([title])
        record += 1
        if draw(st.booleans()):
            writer.writerow([])
            record += 1
    writer.writerow([headers[c] for c in order])
    record += 1
    for row in body:
        record += 1
        if row is None:
            writer.writerow(draw(st.sampled_from([[], [""] * len(order), [" "] * len(order)])))
            continue
        cells = _cells_in_order(row, order, unknown_values)
        writer.writerow([c.csv for c in cells])
        if not all(_blank(c, "csv") for c in cells):
            case.rows.append(Written(record, row))
    text = out.getvalue()
    encoding = draw(st.sampled_from(ENCODINGS))
    case.data, unambiguous = encode(text, encoding)
    # The contract allows `,` `;` or tab; a `;` file whose lines hold as many decimal commas as
    # semicolons cannot be told from a `,` file, so it may be refused.
    delimiters = len(order) - 1
    comma_heavy = delimiter != "," and any(line.count(",") >= delimiters for line in text.splitlines())
    case.may_refuse = not unambiguous or comma_heavy
    case.notes.append(f"encoding {encoding}, delimiter {delimiter!r}" + (", comma-heavy" if comma_heavy else ""))


def _write_json(
    draw: st.DrawFn,
    case: Case,
    order: list[str],
    headers: dict[str, str],
    body: list[Row | None],
    unknown_values: dict[str, Cell],
) -> None:
    objects: list[dict[str, Any]] = []
    for index, row in enumerate(body, start=1):
        if row is None:
            objects.append(draw(st.sampled_from([{}, {headers[c]: None for c in order}])))
            continue
        cells = _cells_in_order(row, order, unknown_values)
        objects.append({headers[c]: cell.json for c, cell in zip(order, cells, strict=True)})
        if not all(_blank(c, "json") for c in cells):
            case.rows.append(Written(index, row))
    text = json.dumps(objects, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1, 2])))
    encoding = draw(st.sampled_from(ENCODINGS))
    case.data, unambiguous = encode(text, encoding)
    case.may_refuse = not unambiguous
    case.notes.append(f"encoding {encoding}")


def _write_xlsx(
    draw: st.DrawFn,
    case: Case,
    order: list[str],
    headers: dict[str, str],
    body: list[Row | None],
    unknown_values: dict[str, Cell],
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    if draw(st.booleans()):
        sheet.title = "Hướng dẫn"
        sheet["A1"] = "Điền số liệu vào trang du_lieu"
        sheet = workbook.create_sheet("du_lieu")
    else:
        sheet.title = draw(st.sampled_from(["du_lieu", "Sheet1", "Báo cáo"]))
    excel_row = 0
    for title in draw(st.lists(st.sampled_from(TITLES), max_size=3)):
        excel_row += 1
        sheet.cell(row=excel_row, column=1, value=title)
        excel_row += draw(st.integers(0, 1))
    excel_row += 1
    for col, c in enumerate(order, start=1):
        sheet.cell(row=excel_row, column=col, value=headers[c])
    for row in body:
        excel_row += 1
        if row is None:
            if draw(st.booleans()):
                for col in range(1, len(order) + 1):
                    sheet.cell(row=excel_row, column=col, value=draw(st.sampled_from([None, "", " "])))
            continue
        cells = _cells_in_order(row, order, unknown_values)
        for col, cell in enumerate(cells, start=1):
            if cell.xlsx is None or cell.xlsx == "":
                continue
            target = sheet.cell(row=excel_row, column=col)
            target.value = cell.xlsx
            if isinstance(cell.xlsx, str):
                target.data_type = "s"  # text stays text, even "=..." or "1e5"
            if cell.xlsx_format:
                target.number_format = cell.xlsx_format
        if not all(_blank(c, "xlsx") for c in cells):
            case.rows.append(Written(excel_row, row))
    out = io.BytesIO()
    workbook.save(out)
    case.data = out.getvalue()
    case.notes.append(f"sheet {sheet.title!r}")
