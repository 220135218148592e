"""Load the packaged registries into the warehouse's ``registry`` schema (truncate + COPY)."""

from __future__ import annotations

from typing import Any

import psycopg

from ingest.config import report_deadline_day
from ingest.registry import NO_SERVICE, Registry
from ingest.registry.catalog import load_plan_tasks
from ingest.warehouse.db import copy_rows

PLAN_TASK_COLUMNS = [
    "task_id",
    "plan_code",
    "section",
    "task_no",
    "title_vi",
    "lead_unit_code",
    "lead_text",
    "coordinating_unit_codes",
    "coordinating_text",
    "deadline",
    "deadline_text",
    "recurring",
    "status",
    "status_as_of",
    "source_line",
]
NO_SERVICE_NAME_VI = "Không theo dịch vụ / tổng hợp"


def _plan_task_row(task: dict[str, str]) -> list[object]:
    """A CSV row of plan_tasks.csv as COPY values: empty text is NULL, the unit list an array."""
    return [
        [c for c in task[col].split(";") if c] if col == "coordinating_unit_codes" else (task[col] or None)
        for col in PLAN_TASK_COLUMNS
    ]


def settings() -> dict[str, str]:
    """The settings dbt reads from ``registry.setting`` instead of keeping its own default."""
    return {"report_deadline_day": str(report_deadline_day())}


def sync_registry(conn: psycopg.Connection[Any], registry: Registry) -> dict[str, int]:
    """Replace the registry tables with ``registry``'s content in one transaction; return row counts."""
    conn.execute("truncate registry.setting")
    conn.execute(
        "truncate registry.indicator, registry.indicator_reporter, registry.service, "
        "registry.unit, registry.unit_succession, registry.plan_task, registry.quality_check"
    )
    counts = {
        "indicator": copy_rows(
            conn,
            "registry.indicator",
            [
                "indicator_code",
                "name_vi",
                "name_en",
                "domain",
                "domain_name_vi",
                "numerator_definition",
                "denominator_definition",
                "denominator_kind",
                "measure_type",
                "count_unit",
                "has_service",
                "target_pct",
                "target_date",
            ],
            (
                (
                    i.code,
                    i.name_vi,
                    i.name_en,
                    i.domain,
                    i.domain_name_vi,
                    i.numerator,
                    i.denominator,
                    i.denominator_kind,
                    i.measure_type,
                    i.count_unit,
                    i.has_service,
                    i.target_pct,
                    i.target_date,
                )
                for i in registry.indicators.values()
            ),
        ),
        "indicator_reporter": copy_rows(
            conn,
            "registry.indicator_reporter",
            ["indicator_code", "reporter_role", "service_code", "counts_for_province"],
            (
                (i.code, role, service, i.province_source_role(service) == role)
                for i in registry.indicators.values()
                for role, services in i.reporters.items()
                for service in services
            ),
        ),
        "service": copy_rows(
            conn,
            "registry.service",
            ["service_code", "service_no", "service_name_vi"],
            [(NO_SERVICE, None, NO_SERVICE_NAME_VI)]
            + [(s.code, s.number, s.name_vi) for s in registry.services.values()],
        ),
        "unit": copy_rows(
            conn,
            "registry.unit",
            [
                "unit_code",
                "unit_name",
                "unit_kind",
                "parent_code",
                "province_code",
                "gso_code",
                "valid_from",
                "valid_to",
                "contact_email",
            ],
            (
                (
                    u.code,
                    u.name_vi,
                    u.kind,
                    u.parent_code,
                    u.province_code,
                    u.gso_code,
                    u.valid_from,
                    u.valid_to,
                    u.contact_email,
                )
                for u in registry.units.values()
            ),
        ),
        "unit_succession": copy_rows(
            conn,
            "registry.unit_succession",
            ["predecessor_code", "successor_code", "effective_date", "share"],
            ((s.predecessor_code, s.successor_code, s.effective_date, s.share) for s in registry.successions),
        ),
        "plan_task": copy_rows(
            conn,
            "registry.plan_task",
            PLAN_TASK_COLUMNS,
            (_plan_task_row(t) for t in load_plan_tasks()),
        ),
        "setting": copy_rows(conn, "registry.setting", ["key", "value"], settings().items()),
        "quality_check": copy_rows(
            conn,
            "registry.quality_check",
            ["check_code", "check_no", "severity", "scope", "title_vi", "title_en", "fix_vi"],
            (
                (c.code, no, c.severity, c.scope, c.title_vi, c.title_en, c.fix_vi)
                for no, c in enumerate(registry.checks.values(), 1)
            ),
        ),
    }
    return counts
