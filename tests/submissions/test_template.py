"""The XLSX template: built from the registry, safe, and read back by the parser."""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal

import openpyxl
import pytest

from ingest.registry import NO_SERVICE, Registry
from ingest.submissions.model import SubmissionRow
from ingest.submissions.template import write_template

from .files import HEADER_VI

COMMUNE = "AG.X.CHAUDOC"


def template(registry: Registry, unit: str = "AG.STP", period: str = "2026-03") -> tuple[int, bytes]:
    out = io.BytesIO()
    count = write_template(registry, unit, period, out)
    return count, out.getvalue()


def test_layout(registry):
    count, data = template(registry)
    expected = list(registry.expected_rows("AG.STP"))
    assert count == len(expected) == 20
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    # AG.STP co-leads one task of the province plan (plan_tasks.csv): its statuses go on "nhiem_vu".
    assert workbook.sheetnames == ["du_lieu", "huong_dan", "nhiem_vu"]
    ws = workbook["du_lieu"]
    header = [c.value for c in ws[1]]
    assert header[:8] == HEADER_VI
    assert header[8:] == ["Tên chỉ tiêu", "Tên dịch vụ", "Đơn vị tính", "Cách tính số liệu", "Tử số là", "Mẫu số là"]
    assert ws.max_row == count + 1
    keys = [tuple(c.value for c in r[:4]) for r in ws.iter_rows(min_row=2)]
    assert keys == [("AG.STP", "2026-03", ind.code, svc) for ind, svc in expected]
    dv12 = next(r for r in ws.iter_rows(min_row=2) if r[3].value == "DV12")
    assert (dv12[8].value, dv12[9].value, dv12[10].value) == (
        "Hồ sơ tiếp nhận trực tuyến",
        "Đăng ký khai sinh",
        "hồ sơ",
    )
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold
    assert all(ws.column_dimensions[letter].width >= 10 for letter in "ABCDEFGHIJKLMN")


def test_protection_locks_keys_and_unlocks_values(registry):
    ws = openpyxl.load_workbook(io.BytesIO(template(registry)[1]))["du_lieu"]
    assert ws.protection.sheet
    for cells in ws.iter_rows(min_row=2):
        assert [c.protection.locked for c in cells] == [True] * 4 + [False] * 4 + [True] * 6
    assert ws["A1"].protection.locked


def test_data_validation(registry):
    ws = openpyxl.load_workbook(io.BytesIO(template(registry, COMMUNE)[1]))["du_lieu"]
    rules = {(v.type, v.operator, v.formula1, v.formula2): str(v.sqref) for v in ws.data_validations.dataValidation}
    count = ws.max_row - 1
    assert rules[("whole", "greaterThanOrEqual", "0", None)] == f"E2:E{count + 1} F2:F{count + 1}"
    target_rows = [r[0].row for r in ws.iter_rows(min_row=2) if r[2].value in ("VNEID_REGISTERED", "VNEID_ACTIVATED")]
    assert target_rows
    assert rules[("decimal", "greaterThanOrEqual", "0", None)].split() == [f"G{r}" for r in target_rows]
    assert len(rules[("decimal", "between", "0", "100")].split()) == count - len(target_rows)


@pytest.mark.parametrize(("period", "deadline"), [("2026-03", "10/04/2026"), ("12/2025", "10/01/2026")])
def test_guide_sheet_in_vietnamese_with_the_deadline(registry, period, deadline):
    ws = openpyxl.load_workbook(io.BytesIO(template(registry, COMMUNE, period)[1]))["huong_dan"]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert f"Hạn nộp: ngày {deadline}" in text
    assert "Phường Châu Đốc" in text
    assert "không dùng công thức" in text


def test_filled_template_parses_back(registry, parse):
    count, data = template(registry, COMMUNE)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    ws = workbook["du_lieu"]
    for n, cells in enumerate(ws.iter_rows(min_row=2), start=1):
        cells[4].value, cells[5].value, cells[6].value = 10 * n, 20 * n, 50
        cells[7].value = f"ghi chú {n}" if n == 1 else None
    out = io.BytesIO()
    workbook.save(out)
    items = parse(out.getvalue(), f"{COMMUNE}_2026-03.xlsx", rows=count, period="2026-03")
    assert all(isinstance(i, SubmissionRow) for i in items)
    expected = list(registry.expected_rows(COMMUNE))
    assert [(i.indicator_code, i.service_code) for i in items] == [(ind.code, svc) for ind, svc in expected]
    first = items[0]
    assert (first.unit_code, first.period, first.numerator, first.denominator) == (COMMUNE, "2026-03", 10, 20)
    assert (first.reported_rate, first.note, first.flags, first.row_no) == (Decimal(50), "ghi chú 1", (), 2)
    assert items[-1].numerator == 10 * count


def test_unfilled_template_asks_for_the_numerators(registry, parse):
    count, data = template(registry)
    items = parse(data, "blank_template.xlsx", rows=count)
    assert {(i.reason_code, i.column) for i in items} == {("missing_value", "numerator")}


def test_template_text_cannot_run_as_a_formula(registry):
    ind = registry.indicators["HT_SCANNED"]
    hostile = dataclasses.replace(
        ind, name_vi='=HYPERLINK("http://evil","x")', numerator="+cmd|' /C calc'!A0", denominator="@SUM(1+1)"
    )
    poisoned = dataclasses.replace(registry, indicators={**registry.indicators, ind.code: hostile})
    ws = openpyxl.load_workbook(io.BytesIO(template(poisoned)[1]))["du_lieu"]
    cells = next(r for r in ws.iter_rows(min_row=2) if r[2].value == "HT_SCANNED")
    assert [cells[i].value for i in (8, 12, 13)] == [
        '\'=HYPERLINK("http://evil","x")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(1+1)",
    ]
    assert all(cells[i].data_type == "s" for i in (8, 12, 13))
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)


def test_rejects_unknown_units_bad_periods_and_dissolved_units(registry):
    with pytest.raises(ValueError, match="unknown unit"):
        write_template(registry, "XX.STP", "2026-03", io.BytesIO())
    with pytest.raises(ValueError, match="not a period"):
        write_template(registry, "AG.STP", "2026-13", io.BytesIO())
    with pytest.raises(ValueError, match="not valid"):
        write_template(registry, "KG91.STP", "2026-03", io.BytesIO())


def test_service_rows_name_the_service(registry):
    ws = openpyxl.load_workbook(io.BytesIO(template(registry)[1]))["du_lieu"]
    for cells in ws.iter_rows(min_row=2):
        assert bool(cells[9].value) == (cells[3].value != NO_SERVICE)
