"""Happy paths in every accepted format, encoding and layout."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import re
import unicodedata
import zipfile
from decimal import Decimal

import pytest

from ingest.submissions.model import RowProblem, SubmissionRow

from .files import CORPUS, HEADER_EN, HEADER_VI, csv_bytes, json_bytes, loaded, row, xlsx_bytes

HEADER_VI_DIACRITICS = [
    "Mã đơn vị",
    "Kỳ báo cáo",
    "Mã chỉ tiêu",
    "Mã dịch vụ",
    "Tử số",
    "Mẫu số",
    "Tỷ lệ",
    "Ghi chú",
]
NOTE = "Đã rà soát, cập nhật đầy đủ dữ liệu hộ tịch"
ROWS = [
    row(indicator="DVC_ONLINE_RECEIVED", service="DV12", numerator="2.076", denominator="2.076", rate="100%"),
    row(indicator="HT_SCANNED", numerator="1.597.452", denominator="1.600.000", rate="99,84", note=NOTE),
]


def assert_rows(items):
    first, second = items
    assert isinstance(first, SubmissionRow) and isinstance(second, SubmissionRow)
    assert (first.service_code, first.numerator, first.denominator, first.reported_rate) == (
        "DV12",
        2076,
        2076,
        Decimal("100"),
    )
    assert (second.numerator, second.denominator, second.reported_rate) == (
        1597452,
        1600000,
        Decimal("99.84"),
    )
    assert second.note == NOTE
    assert unicodedata.is_normalized("NFC", second.note)


def test_formats_md_example_from_the_corpus(parse):
    items = parse((CORPUS / "example_vi_headers.csv").read_bytes(), "example_vi_headers.csv", rows=1)
    assert items == [
        SubmissionRow(2, "AG.STP", "2026-03", "DVC_ONLINE_RECEIVED", "DV12", 2076, 2076, Decimal("100"), None)
    ]


def test_officials_file_with_title_semicolons_and_diacritic_headers(parse):
    items = parse((CORPUS / "officials_semicolon.csv").read_bytes(), "officials_semicolon.csv", rows=3)
    assert [(i.row_no, i.indicator_code, i.numerator, i.flags) for i in loaded(items)] == [
        (4, "DVC_ONLINE_RECEIVED", 1234, ()),
        (5, "VNEID_REGISTERED", 12500, ()),
        (7, "HT_SCANNED", 850, ()),
    ]
    assert items[1].note == "vượt chỉ tiêu được giao"


@pytest.mark.parametrize("header", [HEADER_VI, HEADER_EN, HEADER_VI_DIACRITICS, [h.upper() for h in HEADER_EN]])
def test_header_names(parse, header):
    assert_rows(parse(csv_bytes(ROWS, header), "h.csv", rows=2))


@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1258"],
)
def test_encodings(parse, encoding):
    data = csv_bytes(ROWS, HEADER_VI_DIACRITICS, encoding=encoding)
    if encoding == "utf-16":
        assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if encoding == "cp1258":  # Windows-1258 writes most Vietnamese letters as base + combining mark
        assert data.decode("cp1258") != unicodedata.normalize("NFC", data.decode("cp1258"))
    assert_rows(parse(data, "enc.csv", rows=2))


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(parse, delimiter):
    assert_rows(parse(csv_bytes(ROWS, delimiter=delimiter), "d.csv", rows=2))


def test_excel_separator_hint_line(parse):
    data = b"sep=;\r\n" + csv_bytes(ROWS, delimiter=";")
    items = parse(data, "hint.txt", rows=2)
    assert_rows(items)
    assert [i.row_no for i in items] == [3, 4]


def test_whitespace_and_extra_columns(parse):
    header = [" ma_don_vi ", "STT", *HEADER_VI[1:], "nguoi_nhap"]
    rows = [[f" {r[0]} ", str(n), *(f" {c} " for c in r[1:]), "Trần Văn C"] for n, r in enumerate(ROWS, 1)]
    assert_rows(parse(csv_bytes(rows, header), "ws.csv", rows=2))


def test_xlsx(parse):
    assert_rows(parse(xlsx_bytes(ROWS), "AG.STP_2026-03.xlsx", rows=2))


def test_xlsx_typed_cells(parse):
    """Numbers stored as floats are whole; a percent-formatted 0.9984 is 99.84; an Excel date
    on the 1st is a month; a date is not a count."""
    rows = [
        row(indicator="HT_SCANNED", numerator=2076.0, denominator=2080, rate=0.9984),
        row(indicator="HT_ENTERED", period=dt.datetime(2026, 3, 1), numerator=5, denominator=5),
        row(indicator="HT_SYNCED", numerator=dt.datetime(2026, 3, 5), denominator=5),
    ]

    def percent(ws):
        ws["G2"].number_format = "0.00%"

    items = parse(xlsx_bytes(rows, edit=percent), "typed.xlsx", rows=3)
    first, second, third = items
    assert isinstance(first, SubmissionRow) and isinstance(second, SubmissionRow)
    assert (first.numerator, first.denominator, first.reported_rate) == (2076, 2080, Decimal("99.84"))
    assert second.period == "2026-03"
    assert isinstance(third, RowProblem)
    assert (third.reason_code, third.column, third.raw_value) == (
        "date_not_a_number",
        "numerator",
        "2026-03-05",
    )


def test_xlsx_prefers_the_du_lieu_sheet(parse):
    data = xlsx_bytes(ROWS, sheet="du_lieu", other_sheets=["Hướng dẫn"])
    assert_rows(parse(data, "two_sheets.xlsx", rows=2))


def test_xlsx_first_sheet_with_title_rows(parse):
    data = xlsx_bytes(ROWS, sheet="Tháng 3", above=[["BÁO CÁO THÁNG 3/2026"], []])
    items = parse(data, "title.xlsx", rows=2)
    assert_rows(items)
    assert [i.row_no for i in items] == [4, 5]


def test_xlsx_formula_without_cached_value(parse):
    def formula(ws):
        ws["E3"] = "=1597452"

    items = parse(xlsx_bytes(ROWS, edit=formula), "formula.xlsx", rows=2)
    problem = items[1]
    assert isinstance(problem, RowProblem)
    assert (problem.reason_code, problem.column, problem.raw_value) == (
        "formula_without_value",
        "numerator",
        "=1597452",
    )
    assert problem.reason_en == "formula without a cached value: open and save the file in Excel"


def test_xlsx_formula_with_a_cached_value_loads(parse):
    def formula(ws):
        ws["E3"] = "=1597000+452"

    data = xlsx_bytes(ROWS, edit=formula)
    source, target = io.BytesIO(data), io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb"(<f>1597000\+452</f>)<v\s*/?>(</v>)?", rb"\1<v>1597452</v>", content)
                assert b"<v>1597452</v>" in content
            zout.writestr(info, content)
    assert_rows(parse(target.getvalue(), "cached.xlsx", rows=2))


def test_json(parse):
    assert_rows(parse(json_bytes(ROWS), "AG.STP.json", rows=2))


def test_json_with_vietnamese_keys_numbers_and_nulls(parse):
    objects = [
        {"ma_don_vi": "AG.STP", "ky_bao_cao": "03/2026", "ma_chi_tieu": "DVC_ONLINE_RECEIVED",
         "ma_dich_vu": "DV12", "tu_so": 2076, "mau_so": 2076.0, "ty_le": 100, "ghi_chu": None},
        {},
        {"Mã đơn vị": "AG.STP", "Kỳ báo cáo": "2026-03", "Mã chỉ tiêu": "HT_SCANNED",
         "Tử số": "1.597.452", "Mẫu số": 1600000, "Tỷ lệ": "99,84%", "Ghi chú": NOTE, "extra": [1]},
    ]  # fmt: skip
    items = parse(json.dumps(objects, ensure_ascii=False).encode("utf-16"), "vi.json", rows=2)
    assert_rows(items)
    assert [i.row_no for i in items] == [1, 3]


def test_json_row_problem_keeps_raw_values(parse):
    objects = [{"unit_code": "AG.STP", "period": "2026-03", "indicator_code": "HT_SCANNED", "numerator": -5}]
    (problem,) = parse(json.dumps(objects).encode(), "neg.json", rows=1)
    assert isinstance(problem, RowProblem)
    assert (problem.reason_code, problem.raw_value, problem.row_no) == ("negative_number", "-5", 1)
    assert problem.raw_row == {
        "unit_code": "AG.STP",
        "period": "2026-03",
        "indicator_code": "HT_SCANNED",
        "numerator": "-5",
    }
