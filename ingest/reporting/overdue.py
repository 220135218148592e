"""Overdue tasks of the province plan, for the report and the e-mails, as the report shows them
(:mod:`ingest.reporting.plan_tasks` says which tasks are overdue in a month)."""

from __future__ import annotations

from typing import Any

from ingest.registry import Registry
from ingest.reporting import plan_tasks
from ingest.reporting.wording import date_vi


def overdue_tasks(conn: Any, period: str, registry: Registry | None = None) -> list[dict[str, Any]]:
    """The plan's tasks overdue in ``period`` (no person is named: tasks have lead units, named
    from ``registry``)."""
    return [
        {
            "task_id": t.task_id,
            "title_vi": t.title_vi,
            "lead_unit_code": t.lead_unit_code,
            "lead_unit_name": _unit_name(registry, t.lead_unit_code),
            "deadline": t.deadline,
            "deadline_vi": date_vi(t.deadline),
            "status": t.status,
            "status_vi": plan_tasks.STATUS_VI.get(t.status, t.status),
            "status_period": t.status_period,
            "note_vi": t.note_vi or "",
        }
        for t in plan_tasks.overdue_tasks(conn, period)
    ]


def _unit_name(registry: Registry | None, code: str | None) -> str:
    unit = registry.units.get(code or "") if registry is not None else None
    return unit.name_vi if unit is not None else (code or "")
