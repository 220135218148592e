"""The end-of-run summary that `make demo` prints: every number comes from a warehouse query."""

from __future__ import annotations

from typing import Any

from ingest.config import outbox_dir
from ingest.reporting.quality_report import MART_TABLES
from ingest.warehouse.db import connect


def period_summary(period: str) -> dict[str, Any]:
    with connect() as conn:
        files, units, read, loaded, quarantined, rejected = conn.execute(  # type: ignore[misc]
            """select count(*), count(distinct unit_code), coalesce(sum(rows_read), 0),
                      coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0),
                      count(*) filter (where status = 'rejected')
               from audit.load_ledger where period = %s""",
            (period,),
        ).fetchone()
        run = conn.execute(
            "select run_id, status, summary->'problems' from audit.pipeline_run where period = %s "
            "order by started_at desc limit 1",
            (period,),
        ).fetchone()
        run_id = run[0] if run else None
        passed, failed = conn.execute(  # type: ignore[misc]
            "select count(*) filter (where success), count(*) filter (where not success) "
            "from audit.check_result where run_id = %s",
            (run_id,),
        ).fetchone()
        delivery = conn.execute(
            "select report_path, message_id from audit.report_delivery where run_id = %s order by sent_at desc limit 1",
            (run_id,),
        ).fetchone()
        marts = {
            t: conn.execute(f"select count(*) from marts.{t}").fetchone()[0]  # type: ignore[index]
            for t in MART_TABLES
        }
        findings = dict(
            conn.execute(
                """select severity, count(*) from audit.violation
                   where period = %s and status in ('open', 'explained') group by severity""",
                (period,),
            ).fetchall()
        )
        held = conn.execute(
            """select count(distinct unit_code) from audit.violation
               where period = %s and severity = 'error' and status in ('open', 'explained')""",
            (period,),
        ).fetchone()[0]  # type: ignore[index]
        marts_period = conn.execute(
            "select count(*) from marts.fct_indicator_monthly where period = %s", (period,)
        ).fetchone()[0]  # type: ignore[index]
        mails = dict(
            conn.execute(
                """select kind, count(*) from audit.mail_delivery
                   where run_id = %s and status = 'sent' group by kind""",
                (run_id,),
            ).fetchall()
        )
    eml = None
    if delivery:
        ident = "".join(c if c.isalnum() or c in "._-" else "_" for c in delivery[1].strip("<>"))
        found = sorted(outbox_dir().glob(f"*_{ident}.eml"))
        eml = str(found[-1]) if found else None
    return {
        "period": period,
        "run_id": run_id,
        "run_status": run[1] if run else None,
        "run_problems": (run[2] or []) if run else [],
        "files": files,
        "files_rejected": rejected,
        "units": units,
        "rows_read": read,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "checks_passed": passed,
        "checks_failed": failed,
        "marts": marts,
        "fct_indicator_monthly_rows_for_period": marts_period,
        "open_findings": {k: findings.get(k, 0) for k in ("error", "warning", "info")},
        "units_held": held,
        "report_path": delivery[0] if delivery else None,
        "email_path": eml,
        "emails_to_units": mails.get("unit", 0),
        "email_summaries": mails.get("summary", 0),
    }


def print_summary(period: str) -> int:
    s = period_summary(period)
    print(f"\nĐề án 06 monthly load — period {s['period']} (run {s['run_id']}: {s['run_status']})")
    for problem in s["run_problems"]:
        print(f"  run problem        {problem}")
    print(f"  files loaded       {s['files']} from {s['units']} units ({s['files_rejected']} rejected)")
    print(
        f"  rows               {s['rows_read']} read = {s['rows_loaded']} loaded + {s['rows_quarantined']} quarantined"
    )
    print(f"  quality checks     {s['checks_passed']} passed, {s['checks_failed']} failed (checkpoint)")
    open_findings = s["open_findings"]
    print(
        f"  quality gate       {open_findings['error']} errors ({s['units_held']} units held out of the marts), "
        f"{open_findings['warning']} warnings, {open_findings['info']} infos  (d06 violations --period {period})"
    )
    print("  marts              " + ", ".join(f"{k}={v}" for k, v in s["marts"].items()))
    print(f"  facts this period  {s['fct_indicator_monthly_rows_for_period']}")
    print(f"  quality report     {s['report_path']}")
    print(
        f"  e-mails sent       {s['emails_to_units']} to units (each its own rows), "
        f"{s['email_summaries']} province summaries; outbox {outbox_dir()}"
    )
    return 0 if s["report_path"] and s["email_summaries"] else 1
