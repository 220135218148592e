"""The XLSX template a unit fills in for one month, generated from the registry.

Sheet ``du_lieu`` holds the contract columns (``formats.md`` section 1, Vietnamese headers)
with the unit's expected rows pre-filled and locked, the value cells unlocked and validated,
and read-only helper columns to the right that explain each row; :func:`parse_submission`
ignores the helper columns.  Sheet ``huong_dan`` tells the official what to do, in Vietnamese.
Sheet protection has no password: it prevents slips, not tampering (the parser checks
every key cell against the registry anyway).

>>> with open("AG.STP_2026-03.xlsx", "wb") as fp:
...     write_template(load_registry(), "AG.STP", "2026-03", fp)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ingest.registry import NO_SERVICE, Indicator, Registry, Unit, load_plan_tasks
from ingest.safety import neutralise_formula
from ingest.submissions.parse import COLUMNS, DATA_SHEET, Column, normalise_period, unit_valid_in_period
from ingest.submissions.periods import deadline_day
from ingest.submissions.plan_status import TASK_COLUMNS, TASK_SHEET, TASK_STATUSES

__all__ = ["GUIDE_SHEET", "led_tasks", "write_template"]

GUIDE_SHEET = "huong_dan"

_VALUE_FORMATS = {"numerator": "#,##0", "denominator": "#,##0", "reported_rate": "0.00", "note": "@"}
"""The cells a unit fills in (unlocked), with their number formats."""
_MIN_WIDTH, _MAX_WIDTH = 10, 60

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_HELPER_HEADER_FILL = PatternFill("solid", fgColor="7F7F7F")
_KEY_FILL = PatternFill("solid", fgColor="F2F2F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")

_COLUMN_NOTES = {
    "unit_code": "Mã đơn vị báo cáo (đã điền sẵn, không sửa).",
    "period": "Kỳ báo cáo theo dạng YYYY-MM (đã điền sẵn, không sửa).",
    "indicator_code": "Mã chỉ tiêu (đã điền sẵn, không sửa).",
    "service_code": "Mã dịch vụ công thiết yếu; NA nếu chỉ tiêu không chia theo dịch vụ (không sửa).",
    "numerator": "Bắt buộc. Số nguyên không âm; nhập 0 nếu trong tháng không phát sinh.",
    "denominator": "Số nguyên không âm; để trống nếu chỉ tiêu không có mẫu số.",
    "reported_rate": "Tỷ lệ phần trăm (ví dụ 82,52), không cần ký hiệu %.",
    "note": "Ghi chú, giải thích khi số liệu bất thường.",
}


@dataclass(frozen=True, slots=True)
class _Helper:
    """A read-only column right of the contract columns, explaining the row."""

    header: str
    value: Callable[[Registry, Indicator, str], str]
    width: int


_HELPERS: tuple[_Helper, ...] = (
    _Helper("Tên chỉ tiêu", lambda reg, ind, svc: ind.name_vi, 40),
    _Helper(
        "Tên dịch vụ",
        lambda reg, ind, svc: "" if svc == NO_SERVICE else reg.services[svc].name_vi,
        40,
    ),
    _Helper("Đơn vị tính", lambda reg, ind, svc: ind.count_unit, 12),
    _Helper(
        "Cách tính số liệu",
        lambda reg, ind, svc: "Phát sinh trong tháng" if ind.measure_type == "flow" else "Lũy kế đến cuối tháng",
        22,
    ),
    _Helper("Tử số là", lambda reg, ind, svc: ind.numerator, 45),
    _Helper("Mẫu số là", lambda reg, ind, svc: ind.denominator, 45),
)


def _validation(kind: str, operator: str, formula1: str, formula2: str | None, error: str) -> DataValidation:
    return DataValidation(
        type=kind,
        operator=operator,
        formula1=formula1,
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Giá trị không hợp lệ",
        error=error,
    )


def _add_validations(ws: Worksheet, letters: dict[str, str], indicators: Sequence[Indicator]) -> None:
    """Whole numbers >= 0 for numerator and denominator; rate 0..100, or >= 0 for target kinds."""
    whole = _validation("whole", "greaterThanOrEqual", "0", None, "Chỉ nhập số nguyên không âm (ví dụ 2076).")
    rate_total = _validation("decimal", "between", "0", "100", "Tỷ lệ phải là số từ 0 đến 100 (ví dụ 82,52).")
    rate_target = _validation("decimal", "greaterThanOrEqual", "0", None, "Tỷ lệ phải là số không âm (ví dụ 105,3).")
    last = len(indicators) + 1
    for column in ("numerator", "denominator"):
        whole.add(f"{letters[column]}2:{letters[column]}{last}")
    for row, indicator in enumerate(indicators, start=2):
        target = rate_total if indicator.denominator_kind == "total" else rate_target
        target.add(f"{letters['reported_rate']}{row}")
    for validation in (whole, rate_total, rate_target):
        if validation.sqref:
            ws.add_data_validation(validation)


def _write_header(ws: Worksheet, contract: Sequence[Column]) -> None:
    headers = [c.alias for c in contract] + [h.header for h in _HELPERS]
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL if col <= len(contract) else _HELPER_HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = _BORDER
    for col, column in enumerate(contract, start=1):
        comment = Comment(f"{column.label_vi}: {_COLUMN_NOTES[column.name]}", "Đề án 06")
        comment.width, comment.height = 260, 90
        ws.cell(row=1, column=col).comment = comment


def _write_rows(ws: Worksheet, registry: Registry, unit: Unit, period: str) -> list[Indicator]:
    indicators: list[Indicator] = []
    for row, (indicator, service) in enumerate(registry.expected_rows(unit.code), start=2):
        indicators.append(indicator)
        keys = {
            "unit_code": unit.code,
            "period": period,
            "indicator_code": indicator.code,
            "service_code": service,
        }
        for col, column in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=row, column=col, value=neutralise_formula(keys.get(column.name)))
            cell.border = _BORDER
            if column.name in _VALUE_FORMATS:
                cell.protection = Protection(locked=False)
                cell.fill = _INPUT_FILL
                cell.number_format = _VALUE_FORMATS[column.name]
            else:
                cell.fill = _KEY_FILL
                cell.number_format = "@"  # text, so Excel never turns 2026-03 into a date
        for col, helper in enumerate(_HELPERS, start=len(COLUMNS) + 1):
            cell = ws.cell(row=row, column=col, value=neutralise_formula(helper.value(registry, indicator, service)))
            cell.alignment = _WRAP
            cell.border = _BORDER
    return indicators


def _set_widths(ws: Worksheet) -> None:
    for col, column in enumerate(COLUMNS, start=1):
        values = [
            column.alias,
            *(str(c.value or "") for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col)),
        ]
        width = max(len(v) for v in values) + 2
        ws.column_dimensions[get_column_letter(col)].width = min(max(width, _MIN_WIDTH), _MAX_WIDTH)
    for col, helper in enumerate(_HELPERS, start=len(COLUMNS) + 1):
        ws.column_dimensions[get_column_letter(col)].width = helper.width


def _protect(ws: Worksheet) -> None:
    """Lock everything but the value cells; still let people resize rows and columns."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _write_guide(ws: Worksheet, unit: Unit, period: str, rows: int) -> None:
    year, month = period.split("-")
    deadline = deadline_day(period)
    lines = [
        ("HƯỚNG DẪN NHẬP BÁO CÁO ĐỊNH KỲ HẰNG THÁNG – ĐỀ ÁN 06", True),
        (f"Đơn vị báo cáo: {unit.name_vi} (mã {unit.code})", False),
        (f"Kỳ báo cáo: tháng {month}/{year}", False),
        (
            f"Hạn nộp: ngày {deadline:%d/%m/%Y} (hết ngày {deadline.day} của tháng liền sau kỳ báo cáo, giờ Việt Nam)",
            True,
        ),
        (f"Số dòng cần báo cáo: {rows}", False),
        ("", False),
        ("Cách nhập số liệu", True),
        (
            f"1. Nhập số liệu vào trang tính “{DATA_SHEET}”. Mỗi dòng là một chỉ tiêu (và một dịch vụ "
            "công, nếu chỉ tiêu chia theo dịch vụ).",
            False,
        ),
        (
            "2. Các cột ma_don_vi, ky_bao_cao, ma_chi_tieu, ma_dich_vu và dòng tiêu đề đã được điền sẵn "
            "và khóa; không sửa, xóa hay đổi tên các cột này.",
            False,
        ),
        (
            "3. Cột tu_so (tử số) là bắt buộc: nhập số nguyên không âm, ví dụ 2076. Nếu trong tháng không "
            "phát sinh, nhập 0, không để trống.",
            False,
        ),
        (
            "4. Cột mau_so (mẫu số): số nguyên không âm theo định nghĩa ở cột “Mẫu số là”; để trống nếu "
            "chỉ tiêu không có mẫu số.",
            False,
        ),
        (
            "5. Cột ty_le (tỷ lệ): tỷ lệ phần trăm của tử số trên mẫu số, từ 0 đến 100, ví dụ 82,52 "
            "(không cần ký hiệu %). Với chỉ tiêu có mẫu số là chỉ tiêu được giao, tỷ lệ có thể vượt 100.",
            False,
        ),
        ("6. Cột ghi_chu (ghi chú): giải thích khi số liệu bất thường, ví dụ tử số lớn hơn mẫu số.", False),
        (
            "7. Cột “Cách tính số liệu” cho biết nhập số phát sinh trong tháng hay số lũy kế đến cuối "
            "tháng. Các cột bên phải cột ghi_chu chỉ để tham khảo, không cần nhập.",
            False,
        ),
        (
            "8. Nhập giá trị trực tiếp, không dùng công thức. Nếu có dùng công thức, hãy mở và lưu lại "
            "tệp bằng Excel trước khi nộp.",
            False,
        ),
        (
            f"9. Lưu tệp ở định dạng .xlsx, giữ nguyên tên trang tính “{DATA_SHEET}” và nộp trước hạn nêu trên.",
            False,
        ),
        (
            f"10. Nếu đơn vị chủ trì nhiệm vụ của Kế hoạch tỉnh, trang tính “{TASK_SHEET}” liệt kê các nhiệm vụ đó: "
            "chọn tình trạng trong tháng (Hoàn thành, Đang thực hiện, Chậm tiến độ) và ghi chú ngắn.",
            False,
        ),
    ]
    ws.column_dimensions["A"].width = 110
    for row, (text, bold) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.font = Font(bold=bold, size=13 if row == 1 else 11)


_TASK_HEADERS = {
    "ma_nhiem_vu": "Mã nhiệm vụ (đã điền sẵn, không sửa).",
    "noi_dung": "Nội dung nhiệm vụ theo kế hoạch của tỉnh (đã điền sẵn).",
    "thoi_han": "Thời hạn theo kế hoạch (đã điền sẵn).",
    "tinh_trang": "Chọn: " + ", ".join(TASK_STATUSES.values()) + ".",
    "ghi_chu": "Ghi chú ngắn về kết quả hoặc lý do chậm (tối đa 500 ký tự).",
}


def led_tasks(unit_code: str) -> list[dict[str, str]]:
    """The plan tasks ``unit_code`` leads (alone or as a co-lead), in plan order."""
    return [t for t in load_plan_tasks() if unit_code in (t.get("lead_unit_code") or "").split(";")]


def _write_tasks(ws: Worksheet, tasks: Sequence[dict[str, str]]) -> None:
    """Sheet ``nhiem_vu``: the unit's lead tasks, with the status and note cells to fill in."""
    for col, name in enumerate(TASK_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _BORDER
        cell.comment = Comment(_TASK_HEADERS[name], "Đề án 06")
    for row, task in enumerate(tasks, start=2):
        deadline = task.get("deadline") or ("Thường xuyên" if task.get("recurring") == "true" else "")
        values = (task["task_id"], neutralise_formula(task["title_vi"]), neutralise_formula(deadline), None, None)
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.border, cell.alignment = _BORDER, _WRAP
            cell.fill = _KEY_FILL if col <= 3 else _INPUT_FILL
            cell.protection = Protection(locked=col <= 3)
    if tasks:
        choices = DataValidation(type="list", formula1='"' + ",".join(TASK_STATUSES.values()) + '"', allow_blank=True)
        choices.add(f"D2:D{len(tasks) + 1}")
        ws.add_data_validation(choices)
    for letter, width in zip("ABCDE", (24, 80, 16, 18, 50), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    _protect(ws)


def write_template(registry: Registry, unit_code: str, period: str, fp: BinaryIO) -> int:
    """Write the XLSX template of ``unit_code`` for ``period`` (``YYYY-MM``) to ``fp``.

    Returns the number of pre-filled rows (the unit's expected (indicator, service) rows).
    Raises ``ValueError`` for an unknown unit, a malformed period, or a unit not valid in it.
    """
    unit = registry.units.get(unit_code)
    if unit is None:
        raise ValueError(f"unknown unit {unit_code!r}")
    period = normalise_period(period)
    if not unit_valid_in_period(unit, period):
        raise ValueError(f"unit {unit_code} is not valid in {period}")

    workbook = Workbook()
    ws = workbook.active
    ws.title = DATA_SHEET
    _write_header(ws, COLUMNS)
    indicators = _write_rows(ws, registry, unit, period)
    letters = {c.name: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    if indicators:
        _add_validations(ws, letters, indicators)
    _set_widths(ws)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 32
    _protect(ws)
    _write_guide(workbook.create_sheet(GUIDE_SHEET), unit, period, len(indicators))
    tasks = led_tasks(unit.code)
    if tasks:
        _write_tasks(workbook.create_sheet(TASK_SHEET), tasks)
    workbook.properties.title = f"Báo cáo Đề án 06 – {unit.code} – {period}"
    workbook.properties.creator = "d06-warehouse"
    workbook.active = 0
    workbook.save(fp)
    return len(indicators)
