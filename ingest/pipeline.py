"""The monthly load, step by step.  The Airflow DAG and `d06 run` call these functions.

Each step takes the period and the run id, writes to fixed partitions, and returns a small
dict of ids, counts and paths (what XCom may carry: never data, never personal data).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ingest.config import inbox_dir, reports_dir
from ingest.landing.adapters import LandingContext, is_received_file
from ingest.landing.land import land_paths
from ingest.registry import load_registry
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


PREPARE_LOCK = 0x0D06_0001
BUILD_LOCK = 0x0D06_0002
"""Held by each build step (stage, audit, build, quality_gate, publish) while it runs: two runs at
once (a re-run of a period while it runs, or a hand-run `d06 build`) take turns step by step, and
every step rebuilds from what the warehouse holds, so they converge to the same marts."""
"""Advisory-lock key that serialises :func:`prepare_warehouse`."""


def choose_period(requested: str | None, triggering_extras: Iterable[Mapping[str, Any] | None], day: dt.date) -> str:
    """A run's period: the one asked for, else the latest month the source-extract events that
    triggered it are for, else the month before ``day``."""
    from ingest.source_extracts import period_from_asset_events

    return validate_period(requested or period_from_asset_events(triggering_extras) or previous_month(day))


def prepare_warehouse() -> dict[str, int]:
    """Create the landing tables, the BI login (when a password is given) and reload the registries."""
    with connect() as conn:
        # Two landings started at once must not run the DDL and the registry reload together.
        conn.execute("select pg_advisory_xact_lock(%s)", (PREPARE_LOCK,))
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


STEPS = ("ingest", "stage", "audit", "build", "quality_gate", "publish", "render_report", "send_report")
"""The steps a monthly run must complete to succeed."""


def start_run(run_id: str, period: str) -> None:
    """Record a run as started.  An earlier run of the period still marked ``running`` was
    interrupted (its process killed before it could finish): it is closed as ``failed``."""
    with connect() as conn:
        conn.execute(
            """update audit.pipeline_run set status = 'failed', finished_at = now(),
                      error = coalesce(error, 'interrupted: superseded by run ' || %s)
               where period = %s and status = 'running' and run_id <> %s""",
            (run_id, period, run_id),
        )
        conn.execute(
            """insert into audit.pipeline_run (run_id, period) values (%s, %s)
               on conflict (run_id) do update set started_at = now(), finished_at = null, status = 'running',
                      steps_done = '{}', error = null, summary = null""",
            (run_id, period),
        )


@contextlib.contextmanager
def exclusive_build() -> Iterator[None]:
    """Hold the warehouse's build lock (:data:`BUILD_LOCK`) for the duration of the block."""
    with connect() as conn:
        conn.autocommit = True
        conn.execute("select pg_advisory_lock(%s)", (BUILD_LOCK,))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (BUILD_LOCK,))


@contextlib.contextmanager
def step(run_id: str, name: str) -> Iterator[None]:
    """Record that a step of a run completed, or why it failed (the run then ends ``failed``)."""
    try:
        yield
    except BaseException as exc:
        message = f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:1000]
        with connect() as conn:
            conn.execute(
                "update audit.pipeline_run set status = 'failed', error = coalesce(error, %s) where run_id = %s",
                (message, run_id),
            )
        raise
    with connect() as conn:
        conn.execute(
            "update audit.pipeline_run set steps_done = array_append(steps_done, %s) where run_id = %s",
            (name, run_id),
        )


def run_summary(conn: Any, run_id: str) -> dict[str, Any]:
    """What a run did, from the ledger and the run's record (counts only)."""
    row = conn.execute(
        """select r.period, r.steps_done, r.error,
                  count(l.file_id), count(*) filter (where l.status = 'loaded'),
                  count(*) filter (where l.status = 'rejected'), count(*) filter (where l.status = 'failed'),
                  coalesce(sum(l.rows_read), 0), coalesce(sum(l.rows_loaded), 0), coalesce(sum(l.rows_quarantined), 0)
           from audit.pipeline_run r left join audit.load_ledger l on l.batch_id = r.run_id
           where r.run_id = %s group by r.period, r.steps_done, r.error""",
        (run_id,),
    ).fetchone()
    if row is None:
        return {"run_id": run_id, "status": "failed", "error": "no such run"}
    keys = ["files", "loaded", "rejected", "failed", "rows_read", "rows_loaded", "rows_quarantined"]
    summary = {"run_id": run_id, "period": row[0], **dict(zip(keys, map(int, row[3:]), strict=True))}
    missing = [s for s in STEPS if s not in (row[1] or [])]
    problems = ([row[2]] if row[2] else []) + ([f"steps not completed: {', '.join(missing)}"] if missing else [])
    if summary["failed"] or summary["rejected"]:
        problems.append(f"{summary['failed']} files failed and {summary['rejected']} were rejected")
    summary |= _gate_counts(conn, summary["period"])
    summary["status"] = "failed" if problems else "success"
    summary["problems"] = problems
    return summary


def _gate_counts(conn: Any, period: str) -> dict[str, int]:
    """The quality gate's open findings for the period, and the unit-periods its errors hold."""
    row = conn.execute(
        """select count(*) filter (where severity = 'error'), count(*) filter (where severity = 'warning'),
                  count(distinct unit_code) filter (where severity = 'error')
           from audit.violation where period = %s and status in ('open', 'explained')""",
        (period,),
    ).fetchone()
    return {"open_errors": int(row[0]), "open_warnings": int(row[1]), "units_held": int(row[2])}


def finish_run(run_id: str) -> dict[str, Any]:
    """End a run as ``success`` or ``failed`` and store its summary.

    A run succeeds when every step completed and every file of its batch loaded (rows may be
    quarantined: that is the units' to fix).  A rejected or failed file fails the run, after
    the report went out, so that an engineer looks at it."""
    with connect() as conn:
        summary = run_summary(conn, run_id)
        conn.execute(
            "update audit.pipeline_run set finished_at = now(), status = %s, summary = %s where run_id = %s",
            (summary["status"], json.dumps(summary, ensure_ascii=False), run_id),
        )
    log.info("run %s: %s", run_id, summary)
    return summary


def summary_line(summary: dict[str, Any]) -> str:
    """One line for people: what the run did and, when it failed, why."""
    text = (
        f"run {summary['run_id']} {summary['status']}: {summary.get('files', 0)} files "
        f"({summary.get('loaded', 0)} loaded, {summary.get('rejected', 0)} rejected, "
        f"{summary.get('failed', 0)} failed), "
        f"{summary.get('rows_read', 0)} rows read = {summary.get('rows_loaded', 0)} loaded + "
        f"{summary.get('rows_quarantined', 0)} quarantined; quality gate: {summary.get('open_errors', 0)} open "
        f"errors ({summary.get('units_held', 0)} units held), {summary.get('open_warnings', 0)} warnings"
    )
    return text + ("; " + "; ".join(summary["problems"]) if summary.get("problems") else "")


def ingest_period(period: str, *, run_id: str, today: dt.date | None = None) -> dict[str, Any]:
    """Load every file in ``inbox/<period>/``; return counts per status."""
    validate_period(period)
    prepare_warehouse()
    start_run(run_id, period)
    with step(run_id, "ingest"):
        ctx = LandingContext(load_registry(), today or dt.date.today(), period)
        files = inbox_files(period)
        with connect() as conn:
            outcomes = land_paths(conn, files, batch_id=run_id, ctx=ctx)
        totals = {"files": len(files), "loaded": 0, "duplicate": 0, "rejected": 0, "failed": 0}
        totals |= {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "warnings": 0}
        for o in outcomes:
            totals[o.status] += 1
            totals["rows_read"] += o.rows_read
            totals["rows_loaded"] += o.rows_loaded
            totals["rows_quarantined"] += o.rows_quarantined
            totals["warnings"] += o.warnings
        log.info("ingest %s: %s", period, totals)
    return totals


def stage_models(run_id: str | None = None, *, full_refresh: bool = False) -> dict[str, Any]:
    """Write: ``dbt build`` of the audit stage (staging and intermediate models the checks read),
    for the months whose files or locks changed since it was last built (``ingest.transform.scope``)."""
    from ingest.transform.dbt_runner import run_dbt
    from ingest.transform.scope import build_scope, mark_built

    with step(run_id, "stage") if run_id else contextlib.nullcontext(), exclusive_build():
        with connect() as conn:  # the new month's rows, known to the planner before dbt joins them
            conn.execute("analyze raw.submission_row, audit.load_ledger, raw.quarantine")
        scope = build_scope("stage", full=full_refresh)
        args = ["build", *_selection("audit_stage", scope.periods), "--indirect-selection", "cautious"]
        result = run_dbt(args, env=scope.env(), build="stage")
        mark_built(scope)
        return {"dbt": _dbt_done(result), "periods": scope.describe()}


def _selection(selector: str, periods: tuple[str, ...] | None) -> list[str]:
    """dbt's selection for a build of every month (the incremental models made again from their
    definitions, which may have changed), or of some months: ``<selector>_by_month`` leaves the
    views as they are (their definitions did not change, or every month would be built)."""
    if periods is None:
        return ["--selector", selector, "--full-refresh"]
    return ["--selector", f"{selector}_by_month"]


def audit(period: str | None, *, run_id: str) -> dict[str, Any]:
    """Audit: the check catalogue on the stage, into the violation ledger (``ingest.quality.gate``)."""
    from ingest.quality.gate import audit_period

    with step(run_id, "audit"), exclusive_build():
        return audit_period(period, run_id=run_id).as_dict()


def build_publication(run_id: str | None = None, *, full_refresh: bool = False) -> dict[str, Any]:
    """``dbt build`` of the marts to publish, into a schema ``bi_reader`` cannot read: the
    months that changed since the last publication, over a copy of the official marts."""
    from ingest.quality.publish import STAGED, carry_over, discard_staged
    from ingest.transform.dbt_runner import run_dbt
    from ingest.transform.scope import build_scope, incremental_marts, mark_built

    with step(run_id, "build") if run_id else contextlib.nullcontext(), exclusive_build():
        discard_staged()
        scope = build_scope("publication", full=full_refresh)
        if scope.periods is not None:
            carry_over(incremental_marts())
        env = {"D06_MARTS_BUILD_SCHEMA": STAGED, **scope.env()}
        result = run_dbt(["build", *_selection("publication", scope.periods)], env=env, build="publication")
        mark_built(scope, staged=True)
        return {"dbt": _dbt_done(result), "schema": STAGED, "periods": scope.describe()}


def _dbt_done(result: Any) -> str:
    last = [line for line in result.output.splitlines() if "Done." in line]
    return last[-1].split("Done.", 1)[1].strip() if last else "ok"


class GateBlocked(RuntimeError):
    """The checkpoint failed on the marts about to be published; nothing was published."""


def quality_gate(period: str, *, run_id: str) -> dict[str, Any]:
    """Validate the staged marts with the GX checkpoint; an error-level failure blocks publication."""
    from ingest.quality.gx_checks import run_quality_gate
    from ingest.quality.publish import STAGED, staged_exists
    from ingest.transform.scope import publication_pending

    with step(run_id, "quality_gate"), exclusive_build():
        if not staged_exists() and not publication_pending():  # another run published this build
            log.info("quality_gate: the last publication build is already validated and published")
            return {"passed": 0, "failed": 0, "data_docs": None, "already_published": True}
        outcome = run_quality_gate(period, run_id=run_id, schema=STAGED)
        if outcome.blocking:
            names = ", ".join(r.check_name for r in outcome.blocking)
            raise GateBlocked(f"checkpoint failed on the marts to publish ({names}); the official marts are unchanged")
    return {"passed": outcome.passed, "failed": outcome.failed, "data_docs": outcome.data_docs_path}


def publish(run_id: str | None = None) -> dict[str, Any]:
    """Publish: swap the validated marts in, in one transaction.  Run again after it succeeded
    (a retried task whose success was not recorded), it finds nothing pending and changes nothing."""
    from ingest.quality.publish import PublishError
    from ingest.quality.publish import publish as swap
    from ingest.transform.scope import promote_staged_mark, publication_pending

    with step(run_id, "publish") if run_id else contextlib.nullcontext(), exclusive_build():
        try:
            return swap(before_commit=promote_staged_mark)
        except PublishError:
            if publication_pending():
                raise
            log.info("publish: the last publication build is already published; nothing to do")
            return {"published": 0, "schema": "marts", "already_published": True}


def build_models(run_id: str | None = None, period: str | None = None, *, full_refresh: bool = False) -> dict[str, Any]:
    """Stage, audit, build and publish: what an engineer runs after loading files by hand
    (``d06 build``).  Every unit-period whose values changed is checked, and what an error
    holds stays out of the official marts.  The monthly run also validates with the checkpoint
    before publishing, and reports."""
    from ingest.quality.gate import audit_period

    audit_id = run_id or f"build-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    staged = stage_models(run_id, full_refresh=full_refresh)
    audited = audit_period(period, run_id=audit_id)
    built = build_publication(run_id, full_refresh=full_refresh)
    return {"stage": staged["dbt"], "audit": audited.as_dict(), "dbt": built["dbt"], **publish(run_id)}


def render_report(period: str, *, run_id: str) -> str:
    from ingest.reporting.quality_report import write_report

    with step(run_id, "render_report"):
        return str(write_report(period, run_id=run_id, out_dir=reports_dir() / period))


def send_report(period: str, *, run_id: str, report_path: str) -> dict[str, Any]:
    from ingest.reporting.quality_report import deliver_report

    with step(run_id, "send_report"):
        return deliver_report(period, run_id=run_id, report_path=Path(report_path))
