"""Load the packaged registries into the warehouse's ``registry`` schema (truncate + COPY)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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


INDICATOR_COLUMNS = [
    "indicator_code", "name_vi", "name_en", "domain", "domain_name_vi", "numerator_definition",
    "denominator_definition", "denominator_kind", "measure_type", "count_unit", "has_service",
    "target_pct", "target_date",
]  # fmt: skip
UNIT_COLUMNS = [
    "unit_code", "unit_name", "unit_kind", "parent_code", "province_code", "gso_code", "valid_from",
    "valid_to", "contact_email",
]  # fmt: skip
INDICATOR_EXTRACT_COLUMNS = [
    "indicator_code", "extract_source", "numerator_measure", "denominator_measure", "tolerance_pct",
    "system_of_record",
]  # fmt: skip
CHECK_COLUMNS = ["check_code", "check_no", "severity", "scope", "title_vi", "title_en", "fix_vi"]


def _indicators(registry: Registry) -> Iterable[Sequence[object]]:
    for i in registry.indicators.values():
        definitions = (i.numerator, i.denominator, i.denominator_kind, i.measure_type, i.count_unit)
        yield (i.code, i.name_vi, i.name_en, i.domain, i.domain_name_vi, *definitions, i.has_service, i.target_pct,
               i.target_date)  # fmt: skip


def _reporters(registry: Registry) -> Iterable[Sequence[object]]:
    for i in registry.indicators.values():
        for role, services in i.reporters.items():
            for service in services:
                yield (i.code, role, service, i.province_source_role(service) == role)


def _services(registry: Registry) -> Iterable[Sequence[object]]:
    yield (NO_SERVICE, None, NO_SERVICE_NAME_VI)
    for s in registry.services.values():
        yield (s.code, s.number, s.name_vi)


def _units(registry: Registry) -> Iterable[Sequence[object]]:
    for u in registry.units.values():
        yield (u.code, u.name_vi, u.kind, u.parent_code, u.province_code, u.gso_code, u.valid_from, u.valid_to,
               u.contact_email)  # fmt: skip


def _successions(registry: Registry) -> Iterable[Sequence[object]]:
    return ((s.predecessor_code, s.successor_code, s.effective_date, s.share) for s in registry.successions)


def _indicator_extracts(registry: Registry) -> Iterable[Sequence[object]]:
    for i in registry.indicators.values():
        if (e := i.extract) is not None:
            yield (i.code, e.source, e.numerator, e.denominator, e.tolerance_pct, e.system_of_record)


def _checks(registry: Registry) -> Iterable[Sequence[object]]:
    for no, c in enumerate(registry.checks.values(), 1):
        yield (c.code, no, c.severity, c.scope, c.title_vi, c.title_en, c.fix_vi)


TABLES: dict[str, tuple[list[str], Callable[[Registry], Iterable[Sequence[object]]]]] = {
    "indicator": (INDICATOR_COLUMNS, _indicators),
    "indicator_reporter": (["indicator_code", "reporter_role", "service_code", "counts_for_province"], _reporters),
    "service": (["service_code", "service_no", "service_name_vi"], _services),
    "unit": (UNIT_COLUMNS, _units),
    "unit_succession": (["predecessor_code", "successor_code", "effective_date", "share"], _successions),
    "plan_task": (PLAN_TASK_COLUMNS, lambda _: (_plan_task_row(t) for t in load_plan_tasks())),
    "setting": (["key", "value"], lambda _: settings().items()),
    "quality_check": (CHECK_COLUMNS, _checks),
    "indicator_extract": (INDICATOR_EXTRACT_COLUMNS, _indicator_extracts),
}
"""Each registry table: its columns and its rows, from the registry."""


def sync_registry(conn: psycopg.Connection[Any], registry: Registry) -> dict[str, int]:
    """Replace the registry tables with ``registry``'s content in one transaction; return row counts."""
    conn.execute("truncate " + ", ".join(f"registry.{table}" for table in TABLES))
    return {
        table: copy_rows(conn, f"registry.{table}", columns, rows(registry))
        for table, (columns, rows) in TABLES.items()
    }
