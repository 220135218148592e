"""Overdue plan tasks of a month, from the official ``fct_plan_task`` (one row per task × month).

What the lead unit's e-mail, its reminders and the province summary list under "Nhiệm vụ quá
hạn": tasks reported behind, or not done past their deadline, as of the month.

>>> [t.task_id for t in overdue_tasks(conn, "2026-03")]
['KH-AG-2025H2-03.01-02', …]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from ingest.submissions.plan_status import TASK_STATUSES


@dataclass(frozen=True)
class OverdueTask:
    """A plan task overdue as of a month (no personal data: ids, titles, dates, statuses)."""

    task_id: str
    title_vi: str
    lead_unit_code: str | None
    deadline: dt.date | None
    status: str
    status_period: str | None
    note_vi: str | None


STATUS_VI = {
    **TASK_STATUSES,  # the words units choose on the template's sheet nhiem_vu
    "overdue": "Quá hạn",
    "not_started": "Chưa triển khai",
    "recurring": "Thường xuyên",
}


def overdue_tasks(conn: psycopg.Connection[Any], period: str, unit_code: str | None = None) -> list[OverdueTask]:
    """The tasks overdue as of ``period`` (of the lead unit ``unit_code`` when given), by deadline.

    Empty when the marts have not been published yet."""
    table = "marts.fct_plan_task"
    if conn.execute("select to_regclass(%s)", (table,)).fetchone() == (None,):
        return []
    found = conn.execute(
        """select task_id, title_vi, lead_unit_code, deadline, status, status_period, note_vi
            from marts.fct_plan_task
            where period = %s and is_overdue
              and (%s::text is null or %s::text = any(lead_unit_codes))
            order by deadline nulls last, task_id""",
        (period, unit_code, unit_code),
    ).fetchall()
    return [OverdueTask(*row) for row in found]
