"""Plan-task statuses a lead unit reports each month, on the second sheet of its template.

The province plan (``registry.plan_task``, seed 003) names a lead unit for each task.  Each
month, the lead unit reports where each of its tasks stands (done, in progress, behind) with a
short note, on the sheet ``nhiem_vu`` of the template it downloads (:mod:`.template` writes it,
pre-filled with the unit's tasks).  This module reads that sheet and stores what it says in
``raw.plan_task_status``: one row per sheet row that states a status, valid or not; a row that
cannot count keeps its reason (Vietnamese and English) and no status.

>>> list(read_plan_statuses(fp, {"KH-AG-2025H2-01-01"}))
[PlanStatus(row_no=2, task_id='KH-AG-2025H2-01-01', status='done', note='…', reason=None)]
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import openpyxl

TASK_SHEET = "nhiem_vu"
TASK_COLUMNS = ("ma_nhiem_vu", "noi_dung", "thoi_han", "tinh_trang", "ghi_chu")
"""The sheet's header: task id, title and deadline (pre-filled), status and note (the unit's)."""
TASK_STATUSES = {"done": "Hoàn thành", "in_progress": "Đang thực hiện", "behind": "Chậm tiến độ"}
"""The statuses a unit reports, with the words the sheet offers for them."""
NOTE_MAX = 500
MAX_TASK_ROWS = 2000

_ALIASES = {
    **{label.casefold(): code for code, label in TASK_STATUSES.items()},
    **{code: code for code in TASK_STATUSES},
    "đã hoàn thành": "done",
    "hoàn thành": "done",
    "đang triển khai": "in_progress",
    "chậm": "behind",
    "chậm tiến độ": "behind",
    "chưa hoàn thành": "behind",
}


@dataclass(frozen=True)
class PlanStatus:
    """One reported row: a task's status and note, or why the row cannot count."""

    row_no: int
    task_id: str | None
    status: str | None
    note: str | None
    reason: tuple[str, str, str] | None = None
    """(code, Vietnamese, English) when the row cannot count."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def _status_code(text: str) -> str | None:
    return _ALIASES.get(" ".join(text.casefold().split()))


def _reason(code: str, vi: str, en: str) -> tuple[str, str, str]:
    return (code, vi, en)


def _check(
    row_no: int, task_id: str | None, status: str | None, note: str | None, tasks: Collection[str]
) -> PlanStatus:
    """A sheet row as a status, or with the reason it cannot count."""
    where_vi, where_en = f"dòng {row_no}", f"row {row_no}"
    if task_id is None:
        reason = _reason(
            "task_missing",
            f"{where_vi}, cột ma_nhiem_vu: thiếu mã nhiệm vụ",
            f"{where_en}, column ma_nhiem_vu: the task id is missing",
        )
        return PlanStatus(row_no, None, None, note, reason)
    if task_id not in tasks:
        reason = _reason(
            "task_not_led",
            f"{where_vi}, cột ma_nhiem_vu: nhiệm vụ “{task_id}” không có trong kế hoạch hoặc đơn vị không chủ trì",
            f"{where_en}, column ma_nhiem_vu: task {task_id!r} is not in the plan or not led by this unit",
        )
        return PlanStatus(row_no, task_id, None, note, reason)
    code = _status_code(status or "")
    if code is None:
        allowed = ", ".join(TASK_STATUSES.values())
        reason = _reason(
            "task_status_unknown",
            f"{where_vi}, cột tinh_trang: “{status}” không phải tình trạng hợp lệ ({allowed})",
            f"{where_en}, column tinh_trang: {status!r} is not a status ({', '.join(TASK_STATUSES)})",
        )
        return PlanStatus(row_no, task_id, None, note, reason)
    return PlanStatus(row_no, task_id, code, note[:NOTE_MAX] if note else None)


def _header_index(cells: tuple[Any, ...]) -> dict[str, int]:
    labels = [(_text(c) or "").casefold() for c in cells]
    return {name: labels.index(name) for name in TASK_COLUMNS if name in labels}


def _cell(cells: tuple[Any, ...], index: dict[str, int], name: str) -> str | None:
    i = index.get(name)
    return _text(cells[i]) if i is not None and i < len(cells) else None


def read_plan_statuses(fp: BinaryIO, tasks: Collection[str]) -> Iterator[PlanStatus]:
    """The reported rows of the workbook's ``nhiem_vu`` sheet; nothing when it has none.

    ``tasks`` are the ids of the tasks the file's unit leads.  A row with no status and no note
    reports nothing and is skipped (the unit left it as the template wrote it)."""
    try:
        workbook = openpyxl.load_workbook(fp, read_only=True, data_only=True)
    except Exception:  # not a workbook we can open: the data sheet's reader has said why
        return
    try:
        sheets = {s.title.casefold(): s for s in workbook.worksheets}
        sheet = sheets.get(TASK_SHEET)
        if sheet is None:
            return
        rows = sheet.iter_rows(values_only=True, max_row=MAX_TASK_ROWS + 1)
        index = _header_index(next(rows, ()))
        if "ma_nhiem_vu" not in index or "tinh_trang" not in index:
            return
        for row_no, cells in enumerate(rows, start=2):
            status, note = _cell(cells, index, "tinh_trang"), _cell(cells, index, "ghi_chu")
            if status is None and note is None:
                continue
            yield _check(row_no, _cell(cells, index, "ma_nhiem_vu"), status, note, tasks)
    finally:
        workbook.close()


def _file_unit(conn: Any, file_id: int) -> tuple[str, str] | None:
    """The unit and month most of a loaded file's rows are about."""
    found = conn.execute(
        """select unit_code, period from raw.submission_row where file_id = %s
           group by unit_code, period order by count(*) desc, unit_code limit 1""",
        (file_id,),
    ).fetchone()
    return (found[0], found[1]) if found else None


def _led_tasks(conn: Any, unit_code: str) -> set[str]:
    found = conn.execute(
        "select task_id from registry.plan_task where %s = any(string_to_array(lead_unit_code, ';'))",
        (unit_code,),
    ).fetchall()
    return {r[0] for r in found}


def store_plan_statuses(conn: Any, file_id: int, data: bytes) -> int:
    """Store the plan-task rows of a loaded template workbook; returns how many rows it reported."""
    unit = _file_unit(conn, file_id)
    if unit is None:
        return 0
    unit_code, period = unit
    rows = list(read_plan_statuses(io.BytesIO(data), _led_tasks(conn, unit_code)))
    with conn.cursor() as cur:
        for r in rows:
            code, vi, en = r.reason or (None, None, None)
            cur.execute(
                """insert into raw.plan_task_status (file_id, row_no, unit_code, period, task_id, status, note,
                       reason_code, reason_vi, reason_en)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (file_id, r.row_no, unit_code, period, r.task_id, r.status, r.note, code, vi, en),
            )
    return len(rows)
