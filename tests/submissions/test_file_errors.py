"""Whole-file failures raise SubmissionError naming the file (and row/column where known)."""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

from ingest.submissions import parse as parse_module
from ingest.submissions.model import SubmissionError
from ingest.submissions.parse import parse_submission

from .files import HEADER_EN, HEADER_VI, TODAY, csv_bytes, json_bytes, row, xlsx_bytes

MB = 1_000_000


def error(parse, data: bytes, name: str, **kwargs) -> SubmissionError:
    with pytest.raises(SubmissionError) as caught:
        parse(data, name, **kwargs)
    exc = caught.value
    assert exc.file == name
    assert exc.reason_vi and exc.reason_en
    assert name in str(exc)
    return exc


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx", "empty.json", "empty.txt"])
def test_empty_file(parse, name):
    assert error(parse, b"", name).reason_code == "empty_file"


@pytest.mark.parametrize(("data", "name"), [(b"\r\n\r\n  \r\n", "blank.csv"), (b"  \n ", "blank.json")])
def test_blank_file_is_empty(parse, data, name):
    assert error(parse, data, name).reason_code == "empty_file"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (csv_bytes([]), "header_only.csv"),
        (csv_bytes([["", "", "", "", "", "", "", ""], []]), "header_and_blank_rows.csv"),
        (xlsx_bytes([]), "header_only.xlsx"),
        (b"[]", "empty_list.json"),
        (b"[{}, {}]", "blank_objects.json"),
    ],
)
def test_header_without_data_rows_is_an_empty_submission(parse, data, name):
    assert error(parse, data, name).reason_code == "no_data_rows"


@pytest.mark.parametrize("name", ["bao_cao.xls", "bao_cao.pdf", "bao_cao.docx", "bao_cao", "bao_cao.ods"])
def test_unsupported_format(parse, name):
    exc = error(parse, csv_bytes([row()]), name)
    assert exc.reason_code == "unsupported_format"


def test_extension_is_confirmed_by_the_content(parse):
    assert error(parse, xlsx_bytes([row()]), "renamed.csv").reason_code == "content_mismatch"
    assert error(parse, csv_bytes([row()]), "renamed.xlsx").reason_code == "content_mismatch"
    assert error(parse, b"%PDF-1.7\n...", "scan.json").reason_code == "content_mismatch"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    assert error(parse, ole, "protected.xlsx").reason_code == "protected_or_legacy_excel"


def test_undecodable_text(parse):
    # Valid UTF-8 Vietnamese with one stray byte: refused rather than read as Windows-1258 mojibake.
    data = csv_bytes([row(note="Đã rà soát")]) + b"AG.STP,2026-03,HT_ENTERED,,1,2,,\xff\r\n"
    assert error(parse, data, "mixed.csv").reason_code == "undecodable_text"
    # Bytes that are neither UTF-8 nor Windows-1258 (0x81 is undefined there): the row is named.
    data = csv_bytes([row(), row(indicator="HT_ENTERED", note="x")]).replace(b",x\r\n", b",x\x81\r\n")
    exc = error(parse, data, "undefined.csv")
    assert (exc.reason_code, exc.row) == ("undecodable_text", 3)
    # NUL bytes that are not UTF-16.
    assert error(parse, b"ma_don_vi\x00\x00\x00,x\n" * 10, "nul.csv").reason_code == "undecodable_text"


def test_missing_required_column_is_named(parse):
    header = [h for h in HEADER_VI if h != "tu_so"]
    exc = error(parse, csv_bytes([row()[:4] + row()[5:]], header), "no_numerator.csv")
    assert (exc.reason_code, exc.column, exc.row) == ("missing_column", "numerator", 1)
    assert "tu_so" in exc.reason_vi and "Tử số" in exc.reason_vi


def test_missing_column_in_json(parse):
    objects = [{"unit_code": "AG.STP", "period": "2026-03", "numerator": 1}]
    exc = error(parse, json.dumps(objects).encode(), "no_indicator.json")
    assert (exc.reason_code, exc.column) == ("missing_column", "indicator_code")


def test_a_column_named_twice(parse):
    header = [*HEADER_VI, "unit_code"]
    exc = error(parse, csv_bytes([[*row(), "AG.STP"]], header), "twice.csv")
    assert (exc.reason_code, exc.column) == ("duplicate_column", "unit_code")


def test_wrong_sheet_names_the_sheets_found(parse):
    def scribble(ws):
        ws.delete_rows(1, ws.max_row)
        ws.append(["Số liệu tổng hợp"])
        ws.append(["Tử số", "Mẫu số"])

    data = xlsx_bytes([row()], sheet="Tổng hợp", other_sheets=[], edit=scribble)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook.create_sheet("Báo cáo")
    out = io.BytesIO()
    workbook.save(out)
    exc = error(parse, out.getvalue(), "sheets.xlsx")
    assert exc.reason_code == "wrong_sheet"
    assert "“Tổng hợp”, “Báo cáo”" in exc.reason_vi
    assert "du_lieu" in exc.reason_en


def test_du_lieu_sheet_without_the_columns(parse):
    exc = error(parse, xlsx_bytes([row()], header=HEADER_VI[:3]), "du_lieu_missing.xlsx")
    assert (exc.reason_code, exc.column) == ("missing_column", "numerator")


def test_oversized_file_is_not_read_beyond_the_limit(parse, registry):
    class Counting(io.BytesIO):
        bytes_read = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            self.bytes_read += len(data)
            return data

    fp = Counting(csv_bytes([row()] * 10_000))
    with pytest.raises(SubmissionError) as caught:
        list(parse_submission(fp, name="big.csv", registry=registry, today=TODAY, max_bytes=1000))
    assert caught.value.reason_code == "file_too_large"
    assert fp.bytes_read <= 1001


def test_too_many_rows(parse, monkeypatch):
    monkeypatch.setattr(parse_module, "MAX_ROWS", 3)
    rows = [row(indicator=i) for i in ("HT_SCANNED", "HT_ENTERED", "HT_SYNCED", "HN_CLEANED")]
    exc = error(parse, csv_bytes(rows), "many.csv")
    assert (exc.reason_code, exc.row) == ("too_many_rows", 5)


VALID = json.dumps(dict(zip(HEADER_EN, row(), strict=True))).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'[{"unit_code": "AG.STP",}]', "invalid_json"),
        (b"[" + VALID + b' {"a": 1}]', "invalid_json"),
        (b"[" + VALID + b"] trailing", "invalid_json"),
        (b"[" + VALID, "invalid_json"),
        (b'{"unit_code": "AG.STP"}', "json_not_list"),
        (b'"text"', "json_not_list"),
        (b"[1, 2]", "json_not_list"),
        (b'[["AG.STP", "2026-03"]]', "json_not_list"),
    ],
)
def test_invalid_json(parse, data, reason):
    assert error(parse, data, "bad.json").reason_code == reason


def test_json_error_after_valid_objects_names_the_object(parse, registry):
    data = json_bytes([row(), row(indicator="HT_ENTERED")], HEADER_EN)[:-1] + b', "oops"]'
    exc = error(parse, data, "late.json")
    assert (exc.reason_code, exc.row) == ("json_not_list", 3)


# --- XLSX archives --------------------------------------------------------------------------


def patch_central_directory(data: bytes, member: str, *, file_size: int, compress_size: int | None = None) -> bytes:
    """Make the central directory lie about a member's sizes (the local header is left alone)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46 : pos + 46 + name_len].decode() == member:
            if compress_size is not None:
                struct.pack_into("<I", out, pos + 20, compress_size)
            struct.pack_into("<I", out, pos + 24, file_size)
            return bytes(out)
        pos = out.find(b"PK\x01\x02", pos + 46)
    raise AssertionError(f"{member} not in archive")


def padded_workbook(padding_bytes: int) -> bytes:
    """A real workbook whose sheet XML carries ``padding_bytes`` of blanks (they compress ~1000:1)."""
    source = io.BytesIO(xlsx_bytes([row()]))
    target = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, tail = content.split(b"<sheetData>", 1)
                with zout.open(info.filename, "w") as member:
                    member.write(head + b"<sheetData>")
                    chunk = b" " * MB
                    for _ in range(padding_bytes // MB):
                        member.write(chunk)
                    member.write(tail)
            else:
                zout.writestr(info, content)
    return target.getvalue()


def bounded(parse, data: bytes, name: str) -> SubmissionError:
    """Parse under tracemalloc: the error must come fast and with little memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        exc = error(parse, data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 50 * MB, f"peak {peak / MB:.1f} MB"
    return exc


def test_zip_bomb_by_compression_ratio(parse):
    data = padded_workbook(30 * MB)
    assert len(data) < MB
    exc = bounded(parse, data, "bomb.xlsx")
    assert exc.reason_code == "archive_ratio"
    assert "xl/worksheets/sheet1.xml" in exc.reason_en


def test_zip_bomb_by_declared_size(parse):
    data = xlsx_bytes([row()])
    for member in ("xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/theme/theme1.xml"):
        data = patch_central_directory(data, member, file_size=90 * MB, compress_size=MB)
    assert bounded(parse, data, "claims.xlsx").reason_code == "archive_too_large"


def test_member_larger_than_declared_is_never_inflated(parse):
    """The directory says 2 KB and the ratio looks harmless; the data inflates to 30 MB.
    zipfile stops at the declared size, so the sheet is read as corrupt, cheaply."""
    data = padded_workbook(30 * MB)
    data = patch_central_directory(data, "xl/worksheets/sheet1.xml", file_size=2000)
    assert bounded(parse, data, "liar.xlsx").reason_code == "invalid_xlsx"


def test_too_many_archive_members(parse):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(parse_module.MAX_ARCHIVE_MEMBERS + 1):
            archive.writestr(f"x/{i}.xml", b"")
    assert bounded(parse, out.getvalue(), "members.xlsx").reason_code == "archive_members"


def test_corrupt_xlsx(parse):
    data = xlsx_bytes([row()])
    assert error(parse, data[: len(data) // 2], "truncated.xlsx").reason_code == "invalid_xlsx"
    not_a_workbook = io.BytesIO()
    with zipfile.ZipFile(not_a_workbook, "w") as archive:
        archive.writestr("word/document.xml", b"<w/>")
    assert error(parse, not_a_workbook.getvalue(), "document.xlsx").reason_code == "invalid_xlsx"


def test_sheet_rows_beyond_excel_limits_are_refused(parse):
    source, target = io.BytesIO(xlsx_bytes([row()])), io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(
                    b"</sheetData>", b'<row r="99999999"><c r="A99999999"><v>1</v></c></row></sheetData>'
                )
            zout.writestr(info, content)
    started = time.perf_counter()
    exc = error(parse, target.getvalue(), "far.xlsx")
    assert exc.reason_code == "too_many_rows"
    assert time.perf_counter() - started < 30
