"""Overdue tasks of the province plan, for the report and the e-mails.

``ingest.reporting.plan_tasks`` (written separately) says which tasks are overdue in a period.
Until that module exists, there are none to report.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from ingest.registry import Registry
from ingest.reporting.wording import date_vi

log = logging.getLogger(__name__)

STATUS_VI = {
    "not_started": "Chưa triển khai",
    "in_progress": "Đang thực hiện",
    "behind": "Chậm tiến độ",
    "done": "Hoàn thành",
    "overdue": "Quá hạn",
}
"""How the plan's statuses read when ``plan_tasks`` does not say; a status not listed shows as it is."""


def overdue_tasks(conn: Any, period: str, registry: Registry | None = None) -> list[dict[str, Any]]:
    """The plan's tasks overdue in ``period``, as the report shows them (no person is named:
    tasks have lead units, named from ``registry``).  An empty list while
    ``ingest.reporting.plan_tasks`` does not exist."""
    try:
        plan_tasks = importlib.import_module("ingest.reporting.plan_tasks")
    except ImportError:
        log.info("ingest.reporting.plan_tasks is not installed: no overdue tasks are reported")
        return []
    words = {**STATUS_VI, **getattr(plan_tasks, "STATUS_VI", {})}
    return [
        {
            "task_id": t.task_id,
            "title_vi": t.title_vi,
            "lead_unit_code": t.lead_unit_code,
            "lead_unit_name": _unit_name(registry, t.lead_unit_code),
            "deadline": t.deadline,
            "deadline_vi": date_vi(t.deadline),
            "status": t.status,
            "status_vi": words.get(t.status, t.status),
            "status_period": t.status_period,
            "note_vi": t.note_vi or "",
        }
        for t in plan_tasks.overdue_tasks(conn, period)
    ]


def _unit_name(registry: Registry | None, code: str | None) -> str:
    unit = registry.units.get(code or "") if registry is not None else None
    return unit.name_vi if unit is not None else (code or "")
