"""The monthly load, step by step.  The Airflow DAG and `d06 run` call these functions.

Each step takes the period and the run id, writes to fixed partitions, and returns a small
dict of ids, counts and paths (what XCom may carry: never data, never personal data).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from typing import Any

from ingest.config import inbox_dir, reports_dir
from ingest.registry import load_registry
from ingest.submissions.load import ingest_path, is_received_file
from ingest.warehouse.db import connect, ensure_bi_login, init_schema
from ingest.warehouse.registry_sync import sync_registry

log = logging.getLogger(__name__)

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def validate_period(period: str) -> str:
    if not _PERIOD.match(period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return period


def previous_month(day: dt.date) -> str:
    """The period a run on ``day`` reports: the month before it."""
    first = day.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def prepare_warehouse() -> dict[str, int]:
    """Create the landing tables, the BI login (when a password is given) and reload the registries."""
    with connect() as conn:
        init_schema(conn)
        password = os.environ.get("D06_BI_READER_PASSWORD")
        if password:
            ensure_bi_login(conn, password)
        return sync_registry(conn, load_registry())


def inbox_files(period: str) -> list[Path]:
    folder = inbox_dir() / period
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if is_received_file(p))


def start_run(run_id: str, period: str) -> None:
    with connect() as conn:
        conn.execute(
            """insert into audit.pipeline_run (run_id, period) values (%s, %s)
               on conflict (run_id) do update set started_at = now(), finished_at = null, status = 'running'""",
            (run_id, period),
        )


def finish_run(run_id: str, status: str) -> None:
    with connect() as conn:
        conn.execute(
            "update audit.pipeline_run set finished_at = now(), status = %s where run_id = %s",
            (status, run_id),
        )


def ingest_period(period: str, *, run_id: str, today: dt.date | None = None) -> dict[str, Any]:
    """Load every submission in ``inbox/<period>/``; return counts per status."""
    validate_period(period)
    prepare_warehouse()
    start_run(run_id, period)
    registry = load_registry()
    files = inbox_files(period)
    totals = {
        "files": len(files),
        "loaded": 0,
        "duplicate": 0,
        "rejected": 0,
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
    }
    with connect() as conn:
        for i, path in enumerate(files, 1):
            outcome = ingest_path(conn, path, batch_id=run_id, registry=registry, period=period, today=today)
            totals[outcome.status] += 1
            totals["rows_read"] += outcome.rows_read
            totals["rows_loaded"] += outcome.rows_loaded
            totals["rows_quarantined"] += outcome.rows_quarantined
            if i % 25 == 0 or i == len(files):
                log.info("ingest %s: %d/%d files", period, i, len(files))
    log.info("ingest %s: %s", period, totals)
    return totals


def build_models() -> dict[str, Any]:
    from ingest.transform.dbt_runner import run_dbt

    result = run_dbt(["build"])
    last = [line for line in result.output.splitlines() if "Done." in line]
    return {"dbt": last[-1].split("Done.", 1)[1].strip() if last else "ok"}


def quality_gate(period: str, *, run_id: str) -> dict[str, Any]:
    from ingest.quality.gx_checks import run_quality_gate

    outcome = run_quality_gate(period, run_id=run_id)
    return {"passed": outcome.passed, "failed": outcome.failed, "data_docs": outcome.data_docs_path}


def render_report(period: str, *, run_id: str) -> str:
    from ingest.reporting.quality_report import write_report

    return str(write_report(period, run_id=run_id, out_dir=reports_dir() / period))


def send_report(period: str, *, run_id: str, report_path: str) -> dict[str, Any]:
    from ingest.reporting.quality_report import deliver_report

    result = deliver_report(period, run_id=run_id, report_path=Path(report_path))
    finish_run(run_id, "success")
    return result
