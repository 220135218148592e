"""Hostile and odd input: every case ends as a row, a quarantined problem, a notice or a named
SubmissionError, never as an unexpected exception.  Expected outcomes are reasoned by hand."""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import random
import zipfile
from decimal import Decimal

import pytest

from ingest.archive_checks import XLSX_LIMITS
from ingest.submissions.model import FileNotice, RowProblem, SubmissionError, SubmissionRow
from ingest.submissions.parse import looks_like_table

from .files import HEADER_EN, HEADER_VI, csv_bytes, json_bytes, row, xlsx_bytes
from .test_file_errors import bounded, error, patch_central_directory

MB = 1_000_000
BIGINT_MAX = 9_223_372_036_854_775_807


def one_problem(items: list) -> RowProblem:
    (item,) = items
    assert isinstance(item, RowProblem), item
    return item


# --- 1. numbers the warehouse columns cannot hold --------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "column"),
    [
        ("1" * 30, "1.000", "numerator"),
        ("850", "9223372036854775808", "denominator"),  # bigint max + 1
        ("9" * 10_000, "1.000", "numerator"),  # beyond Python's 4300-digit int() limit
        ("850", "9.223.372.036.854.775.808", "denominator"),  # the same, grouped the Vietnamese way
    ],
)
def test_counts_beyond_bigint_are_quarantined(parse, numerator, denominator, column):
    problem = one_problem(parse(csv_bytes([row(numerator=numerator, denominator=denominator)]), "big.csv", rows=1))
    assert (problem.reason_code, problem.column) == ("number_too_large", column)
    assert problem.raw_value == (numerator if column == "numerator" else denominator)
    assert "9.223.372.036.854.775.807" in problem.reason_vi
    assert "9,223,372,036,854,775,807" in problem.reason_en


def test_bigint_max_itself_loads(parse):
    (loaded,) = parse(csv_bytes([row(numerator="850", denominator=str(BIGINT_MAX))]), "max.csv", rows=1)
    assert isinstance(loaded, SubmissionRow)
    assert loaded.denominator == BIGINT_MAX


def test_json_1e30_count_is_quarantined(parse):
    data = b'[{"unit_code": "AG.STP", "period": "2026-03", "indicator_code": "HT_SCANNED", "numerator": 1e30}]'
    problem = one_problem(parse(data, "e30.json", rows=1))
    assert (problem.reason_code, problem.column) == ("number_too_large", "numerator")


@pytest.mark.parametrize("rate", ["12345678901", "10000000", "9999999,996"])
def test_rate_too_large_for_numeric_9_2_on_a_target_indicator(parse, rate):
    # VNEID_REGISTERED counts against a target, so rates above 100 % are legitimate, but
    # numeric(9,2) holds less than 10^7 (9999999.996 rounds to 10000000.00).
    problem = one_problem(parse(csv_bytes([row(indicator="VNEID_REGISTERED", rate=rate)]), "rate.csv", rows=1))
    assert (problem.reason_code, problem.column, problem.raw_value) == ("rate_too_large", "reported_rate", rate)
    assert "9.999.999,99" in problem.reason_vi and "9,999,999.99" in problem.reason_en


def test_largest_storable_rate_loads(parse):
    (loaded,) = parse(csv_bytes([row(indicator="VNEID_REGISTERED", rate="9999999,99")]), "ok.csv", rows=1)
    assert isinstance(loaded, SubmissionRow)
    assert loaded.reported_rate == Decimal("9999999.99")


@pytest.mark.parametrize(
    ("field", "literal", "reason"),
    [
        ("numerator", "NaN", "not_a_whole_number"),
        ("numerator", "Infinity", "not_a_whole_number"),
        ("numerator", "-Infinity", "negative_number"),
        ("denominator", "NaN", "not_a_whole_number"),
        ("reported_rate", "NaN", "invalid_rate"),
        ("reported_rate", "Infinity", "invalid_rate"),
        ("reported_rate", "-Infinity", "rate_out_of_range"),
        ("reported_rate", "1e400", "invalid_rate"),  # a float literal that overflows to infinity
    ],
)
def test_json_non_finite_numbers_are_quarantined(parse, field, literal, reason):
    values = dict(zip(HEADER_EN, row(indicator="VNEID_REGISTERED", rate="50"), strict=True))
    values[field] = "@@"
    data = json.dumps([values]).replace('"@@"', literal).encode()
    problem = one_problem(parse(data, "nan.json", rows=1))
    assert (problem.reason_code, problem.column) == (reason, field)


# --- 2. JSON nesting ---------------------------------------------------------------------------


def test_json_nested_100000_levels_is_refused(parse):
    exc = error(parse, b"[" * 100_000 + b"]" * 100_000, "deep.json")
    assert exc.reason_code == "json_too_deep"


def test_json_deep_value_inside_a_row_is_refused(parse):
    values = dict(zip(HEADER_EN, row(), strict=True))
    text = json.dumps([values])[:-2] + ', "note2": ' + "[" * 200 + "]" * 200 + "}]"
    exc = error(parse, text.encode(), "deepcell.json")
    assert (exc.reason_code, exc.row) == ("json_too_deep", 1)


def test_json_shallow_list_in_a_cell_is_kept_as_text(parse):
    values = {**dict(zip(HEADER_EN, row(), strict=True)), "note": [1, [2]]}
    (loaded,) = parse(json.dumps([values]).encode(), "list.json", rows=1)
    assert isinstance(loaded, SubmissionRow)
    assert loaded.note == "[1, [2]]"


def test_json_lone_surrogate_is_undecodable(parse):
    data = b'[{"unit_code": "\\ud800", "period": "2026-03", "indicator_code": "HT_SCANNED", "numerator": 1}]'
    assert error(parse, data, "surrogate.json").reason_code == "undecodable_text"


# --- 3. unknown columns -------------------------------------------------------------------------


def test_unknown_columns_give_notices_before_the_rows(parse_all):
    header = [*HEADER_VI[:5], "Mẫu  sồ", "Tỷ lệ đạt", "ghi_chu"]
    items = parse_all(csv_bytes([row(), row(indicator="HT_ENTERED")], header), "typo.csv")
    notices, rows = items[:2], items[2:]
    assert all(isinstance(n, FileNotice) for n in notices)
    assert [(n.code, n.severity, n.column) for n in notices] == [
        ("unknown_column", "warning", "Mẫu  sồ"),
        ("unknown_column", "warning", "Tỷ lệ đạt"),
    ]
    assert "“Mẫu số” (mau_so)" in notices[0].message_vi and "“Mẫu số” (mau_so)" in notices[0].message_en
    assert "“Tỷ lệ” (ty_le)" in notices[1].message_vi and "Tỷ lệ đạt" in notices[1].message_en
    assert [type(r) for r in rows] == [SubmissionRow, SubmissionRow]
    assert rows[0].denominator is None, "an unknown column is not read as the denominator"


def test_unknown_column_far_from_any_alias_has_no_suggestion(parse_all):
    notice, _ = parse_all(csv_bytes([[*row(), "x"]], [*HEADER_VI, "Người lập biểu"]), "extra.csv")
    assert (notice.code, notice.column) == ("unknown_column", "Người lập biểu")
    assert "?" not in notice.message_en


def test_unknown_json_key_gives_one_notice_per_file(parse_all):
    objects = [
        {**dict(zip(HEADER_EN, row(indicator=i), strict=True)), "nguoi_lap": "A"} for i in ("HT_SCANNED", "HT_ENTERED")
    ]
    items = parse_all(json.dumps(objects).encode(), "keys.json")
    notices = [i for i in items if isinstance(i, FileNotice)]
    assert [(n.code, n.column) for n in notices] == [("unknown_column", "nguoi_lap")]
    assert isinstance(items[0], FileNotice)
    assert sum(isinstance(i, SubmissionRow) for i in items) == 2


def test_review_workbook_columns_are_known_and_fill_the_lineage(parse_all):
    header = [*HEADER_VI, "dong_trong_bao_cao", "do_tin_cay", "ly_do_can_ra_soat", "noi_dung_trich"]
    data = xlsx_bytes([[*row(), 17, 0.4, "cần rà soát", "850 hồ sơ số hóa/1.000 hồ sơ"]], header)
    (item,) = parse_all(data, "bc_ra_soat.xlsx")
    assert isinstance(item, SubmissionRow)
    assert (item.source_line, item.snippet) == (17, "850 hồ sơ số hóa/1.000 hồ sơ")


def test_source_line_beyond_integer_is_quarantined(parse):
    header = [*HEADER_VI, "dong_trong_bao_cao"]
    problem = one_problem(parse(csv_bytes([[*row(), "2147483648"]], header), "line.csv", rows=1))
    assert (problem.reason_code, problem.column) == ("number_too_large", "source_line")


def test_template_helper_columns_are_not_unknown():
    from ingest.submissions import template
    from ingest.submissions.parse import IGNORED_HEADERS

    assert {h.header for h in template._HELPERS} <= set(IGNORED_HEADERS)


def test_notices_are_capped_for_thousands_of_columns(parse_all):
    header = [*HEADER_VI, *(f"cot_{i}" for i in range(10_000))]
    items = parse_all(csv_bytes([[*row(), *("x" for _ in range(10_000))]], header), "wide.csv")
    notices = [i for i in items if isinstance(i, FileNotice)]
    assert len(notices) == 20
    assert sum(isinstance(i, SubmissionRow) for i in items) == 1


# --- 4. encodings -------------------------------------------------------------------------------

VI_NOTE = "Hòa Bình: đã số hóa, tỷ lệ đạt"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_needs_no_notice(parse_all, encoding):
    items = parse_all(csv_bytes([row(note=VI_NOTE)], encoding=encoding), "u8.csv")
    assert [type(i) for i in items] == [SubmissionRow]


@pytest.mark.parametrize(("encoding", "shown"), [("cp1258", "Windows-1258"), ("utf-16", "UTF-16")])
def test_other_encodings_are_announced(parse_all, encoding, shown):
    notice, loaded = parse_all(csv_bytes([row(note=VI_NOTE)], encoding=encoding), "enc.csv")
    assert (notice.code, notice.severity) == ("encoding_detected", "info")
    assert f"bảng mã {shown}" in notice.message_vi and shown in notice.message_en
    assert isinstance(loaded, SubmissionRow) and loaded.note == VI_NOTE


def test_latin1_is_not_taken_for_windows_1258(parse):
    data = csv_bytes([row(note="Hòa Bình")]).decode().encode("latin-1")
    # 0xF2 (ò) is a combining dot below in Windows-1258: "H" + it composes to "Ḥ".
    exc = error(parse, data, "latin1.csv")
    assert exc.reason_code == "implausible_encoding"
    assert "UTF-8" in exc.reason_vi and "Ḥ" in exc.reason_en


def test_windows_1252_french_accents_are_refused(parse):
    data = csv_bytes([row(note="Crème brûlée")]).decode().encode("cp1252")
    # "è" and "û" exist in Windows-1258 too, but "û" is not a Vietnamese letter.
    assert error(parse, data, "fr.csv").reason_code == "implausible_encoding"


def test_json_in_windows_1258_is_announced(parse_all):
    objects = [dict(zip(HEADER_EN, row(note=VI_NOTE), strict=True))]
    from .files import to_cp1258

    notice, loaded = parse_all(to_cp1258(json.dumps(objects, ensure_ascii=False)), "vi.json")
    assert (notice.code, loaded.note) == ("encoding_detected", VI_NOTE)


# --- 5. a .txt that is a table ------------------------------------------------------------------


def test_excel_unicode_text_export_looks_like_a_table():
    data = csv_bytes([row(note=VI_NOTE)], delimiter="\t", encoding="utf-16")
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert looks_like_table(data)


@pytest.mark.parametrize(
    "data",
    [
        csv_bytes(
            [row()],
            ["Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Mã dịch vụ", "Tử số", "Mẫu số", "Tỷ lệ", "Ghi chú"],
            delimiter=";",
        ),
        csv_bytes([row(note=VI_NOTE)], encoding="cp1258"),
        b"BAO CAO THANG 3\r\n\r\n" + csv_bytes([row()]),  # a title above the header
        csv_bytes([row()] * 5000)[: 64 * 1024],  # cut mid-row at 64 KiB
    ],
    ids=["vi-semicolon", "cp1258", "title", "cut"],
)
def test_other_tables_look_like_tables(data):
    assert looks_like_table(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        "BÁO CÁO\nKết quả thực hiện Đề án 06 tháng 3 năm 2026\nĐăng ký khai tử: 1.363 hồ sơ\n".encode(),
        csv_bytes([row()], HEADER_VI[:3]),  # a table, but not of the contract
        json_bytes([row()]),
        b"\x00\x01\x02\xff" * 100,
        "Hòa Bình,tu_so".encode("latin-1"),
    ],
    ids=["empty", "prose", "other-table", "json", "binary", "latin1"],
)
def test_non_tables_do_not(data):
    assert not looks_like_table(data)


def test_narrative_sample_is_not_a_table():
    from pathlib import Path

    sample = Path(__file__).parents[1] / "narrative" / "samples" / "000_912342d7bb84c32c.txt"
    with sample.open("rb") as fp:
        assert not looks_like_table(fp.read(64 * 1024))


# --- 6. bounded resources -------------------------------------------------------------------------


def workbook_with_shared_strings(size: int) -> bytes:
    """A real workbook whose ``sharedStrings.xml`` holds ``size`` bytes of distinct random text,
    written in chunks (compresslevel 9) so neither the test nor the archive holds it whole."""
    source, target = io.BytesIO(xlsx_bytes([row()])), io.BytesIO()
    rng = random.Random(6)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        with zout.open("xl/sharedStrings.xml", "w") as member:
            member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            written = 0
            while written < size:
                chunk = b"".join(b"<si><t>%s</t></si>" % rng.randbytes(24).hex().encode() for _ in range(20_000))
                member.write(chunk)
                written += len(chunk)
            member.write(b"</sst>")
    return target.getvalue()


def test_huge_shared_strings_are_refused_before_openpyxl_loads_them(parse):
    data = workbook_with_shared_strings(XLSX_LIMITS.max_part_bytes + MB)
    exc = bounded(parse, data, "strings.xlsx")
    assert exc.reason_code == "archive_part_too_large"
    assert "xl/sharedStrings.xml" in exc.reason_en and "xl/sharedStrings.xml" in exc.reason_vi


def test_a_large_declared_worksheet_is_not_held_to_the_part_cap(parse):
    """Worksheets stream in read-only mode: only the total and the ratio bound them."""
    data = patch_central_directory(xlsx_bytes([row()]), "xl/worksheets/sheet1.xml", file_size=20 * MB, compress_size=MB)
    (loaded,) = parse(data, "sheet.xlsx", rows=1)
    assert isinstance(loaded, SubmissionRow)


# --- 7. odd files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (codecs.BOM_UTF8, "bom.csv", "empty_file"),
        (codecs.BOM_UTF16_LE, "bom16.csv", "empty_file"),
        (codecs.BOM_UTF8, "bom.json", "empty_file"),
        (b"\x00" * 100, "nul.csv", "undecodable_text"),
        (csv_bytes([row()]).replace(b"850", b"8\x0050"), "nul_in_cell.csv", "undecodable_text"),
        (xlsx_bytes([row()])[:100], "truncated.xlsx", "invalid_xlsx"),
        (b'[{"unit_code": "AG', "truncated.json", "invalid_json"),
        (csv_bytes([row(note="x" * 200_000)]), "huge_cell.csv", "malformed_csv"),
        (b'{"a":' * 5000, "deep_object.json", "json_too_deep"),
    ],
)
def test_odd_files_raise_named_errors(parse, data, name, reason):
    assert error(parse, data, name).reason_code == reason


def test_json_integer_of_ten_thousand_digits(parse):
    data = json_bytes([row()]).replace(b'"850"', b"9" * 10_000)
    problem = one_problem(parse(data, "digits.json", rows=1))
    assert (problem.reason_code, problem.column) == ("number_too_large", "numerator")


def test_no_exception_escapes_on_random_bytes(parse):
    rng = random.Random(0)
    for _ in range(200):
        data = rng.randbytes(rng.randint(1, 400))
        for name in ("r.csv", "r.json", "r.xlsx"):
            with contextlib.suppress(SubmissionError):  # anything else fails the test
                parse(data, name)


def test_submission_error_is_raised_not_returned(parse):
    with pytest.raises(SubmissionError):
        parse(xlsx_bytes([row()])[:-40], "cut.xlsx")
