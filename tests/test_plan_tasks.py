"""Plan tasks are reported, not frozen (issue 11 §4): a lead unit reports its tasks' statuses each
month on the second sheet (nhiem_vu) of its template; fct_plan_task keeps one row per task × month.

The expected tasks come from reading ingest/registry/plan_tasks.csv with the csv module (the
registry file is the input, not the code under test); every status, source and overdue flag is
worked out by hand from the rows the test writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.pipeline import build_models, prepare_warehouse
from ingest.registry import load_registry
from ingest.reporting.plan_tasks import overdue_tasks
from ingest.submissions.template import write_template
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[1]
UNIT = "AG.SYT"
TODAY = dt.date(2026, 11, 30)


def _lead_tasks(unit: str) -> list[dict[str, str]]:
    with (REPO / "ingest/registry/plan_tasks.csv").open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if unit in r["lead_unit_code"].split(";")]


TASKS = _lead_tasks(UNIT)


def _workbook(period: str, statuses: Mapping[str, tuple[str | None, str | None]]) -> bytes:
    """The unit's template for ``period``, its figures filled with 1/2 and its tasks as given."""
    out = io.BytesIO()
    write_template(load_registry(), UNIT, period, out)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    data = wb["du_lieu"]
    header = [c.value for c in data[1]]
    num, den = header.index("tu_so") + 1, header.index("mau_so") + 1
    for row in range(2, data.max_row + 1):
        if data.cell(row=row, column=1).value:
            data.cell(row=row, column=num, value=1)
            data.cell(row=row, column=den, value=2)
    tasks = wb["nhiem_vu"]
    for row in range(2, tasks.max_row + 1):
        status, note = statuses.get(tasks.cell(row=row, column=1).value, (None, None))
        tasks.cell(row=row, column=4, value=status)
        tasks.cell(row=row, column=5, value=note)
    saved = io.BytesIO()
    wb.save(saved)
    return saved.getvalue()


def _land(folder: Path, name: str, data: bytes, period: str) -> None:
    path = folder / name
    path.write_bytes(data)
    with connect() as conn:
        outcomes = land_paths(conn, [path], batch_id=name, ctx=LandingContext(load_registry(), TODAY, period))
    assert [o.status for o in outcomes] == ["loaded"], outcomes


def _rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with connect() as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> str:
    prepare_warehouse()
    return warehouse_dsn


def test_the_template_lists_the_units_lead_tasks() -> None:
    assert len(TASKS) >= 3, "the seed plan gives this unit three lead tasks"
    out = io.BytesIO()
    write_template(load_registry(), UNIT, "2026-03", out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["nhiem_vu"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("ma_nhiem_vu", "noi_dung", "thoi_han", "tinh_trang", "ghi_chu")
    assert [r[0] for r in rows[1:]] == [t["task_id"] for t in TASKS]
    assert [r[1] for r in rows[1:]] == [t["title_vi"] for t in TASKS]
    assert all(r[3] is None and r[4] is None for r in rows[1:])


def test_reported_statuses_make_a_monthly_history(warehouse: str, tmp_path: Path) -> None:
    done, behind, bad = (t["task_id"] for t in TASKS[:3])
    march = {done: ("Hoàn thành", None), behind: ("Chậm tiến độ", "Chờ kinh phí"), bad: ("xong rồi", None)}
    _land(tmp_path, f"{UNIT}_2026-03.xlsx", _workbook("2026-03", march), "2026-03")

    # Each row that states something is kept; the unknown status keeps its reason and no status.
    stored = _rows("select task_id, status, reason_code from raw.plan_task_status order by row_no")
    assert sorted(stored, key=str) == sorted(
        [(done, "done", None), (behind, "behind", None), (bad, None, "task_status_unknown")], key=str
    )
    # April: the unit reports only one task, which moves from behind to in progress.
    _land(tmp_path, f"{UNIT}_2026-04.xlsx", _workbook("2026-04", {behind: ("Đang thực hiện", None)}), "2026-04")
    build_models()

    history = {
        (task, period): (status, source, overdue)
        for task, period, status, source, overdue in _rows(
            """select task_id, period, status, status_source, is_overdue from marts.fct_plan_task
               where period in ('2026-03', '2026-04')"""
        )
    }
    plan = {t["task_id"]: t["status"] for t in TASKS}
    assert history[(done, "2026-03")][:2] == ("done", "reported")
    assert history[(done, "2026-04")][:2] == ("done", "carried")
    assert history[(behind, "2026-03")] == ("behind", "reported", True)
    assert history[(behind, "2026-04")][:2] == ("in_progress", "reported")
    assert history[(bad, "2026-03")][:2] == (plan[bad], "plan")
    # One row per task and month: every task of the plan, not only the reported ones.
    (count,) = _rows("select count(*) from marts.fct_plan_task where period = '2026-03'")[0]
    with (REPO / "ingest/registry/plan_tasks.csv").open(encoding="utf-8") as f:
        assert count == sum(1 for _ in csv.DictReader(f))

    with connect() as conn:
        march_overdue = overdue_tasks(conn, "2026-03", UNIT)
    assert behind in [t.task_id for t in march_overdue]
    assert [t.note_vi for t in march_overdue if t.task_id == behind] == ["Chờ kinh phí"]
    assert all(UNIT in (t.lead_unit_code or "") for t in march_overdue)
