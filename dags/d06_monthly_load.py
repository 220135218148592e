"""
### Đề án 06 — monthly load

Loads one month of unit submissions into the warehouse and tells the province how good they are.

1. **ingest** — every file in `inbox/<period>/` is archived, parsed and loaded with COPY; bad rows
   go to quarantine; the load ledger records each file (sha256, rows read/loaded/quarantined).
2. **stage** — write: `dbt build` of the audit stage (staging and intermediate models), which
   `bi_reader` cannot read.
3. **audit** — the check catalogue (generated from the registry) runs on the stage; findings go
   to the violation ledger `audit.violation`.  An open error holds its unit × period.
4. **build** — `dbt build` of the marts into `marts_next`: checked values of unit-periods no
   error holds; held ones keep what was published before.
5. **quality_gate** — a Great Expectations checkpoint validates `marts_next`; an error-level
   failure stops the run before anything is published.
6. **publish** — `marts_next` becomes `marts` in one transaction: readers never see half a month.
7. **render_report** — the HTML quality report, in Vietnamese, grouped by check code.
8. **send_report** — each unit with something to fix gets its own e-mail (only its rows); the
   standing office gets the summary.  Each address once per run, also across task retries.
9. **finish** — always runs: the run ends `success` or `failed` in `audit.pipeline_run`, with
   its summary.  A rejected or failed file, or a failed step, fails the run (after the report).

**Period**: the run parameter `period` (`YYYY-MM`); empty means the month a triggering source
extract is for (the extracts DAG's asset events), else the month before the logical date.
**Schedule**: the 11th at 06:00 (Asia/Ho_Chi_Minh), and whenever `d06_source_extracts` lands a
civil-registry or BHXH extract (data-aware scheduling on its assets).
Re-running a period is safe: files already loaded (same sha256) are skipped.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, Param, TriggerRule, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ingest.assets import EXTRACT_ASSET_URIS, MARTS_URI
from ingest.orchestration import WAREHOUSE_POOL, default_args

MARTS = Asset(MARTS_URI)
CIVIL_REGISTRY, BHXH = (Asset(EXTRACT_ASSET_URIS[kind]) for kind in ("civil_registry", "bhxh"))


@dag(
    dag_id="d06_monthly_load",
    # The morning after the submission deadline (the 10th), and whenever a source extract lands.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 11 * *", timezone="Asia/Ho_Chi_Minh"),
        assets=CIVIL_REGISTRY | BHXH,
    ),
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["d06", "monthly", "ingest", "dbt", "quality"],
    doc_md=__doc__,
    params={
        "period": Param(
            "",
            type="string",
            pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$",
            description="Month to load, YYYY-MM. Empty: the month before the logical date.",
        )
    },
)
def d06_monthly_load() -> None:
    @task
    def resolve_period(
        params: dict | None = None, logical_date: dt.datetime | None = None, triggering_asset_events=None
    ) -> str:
        from ingest.pipeline import choose_period

        extras = [e.extra for events in (triggering_asset_events or {}).values() for e in events]
        return choose_period((params or {}).get("period"), extras, (logical_date or pendulum.now("UTC")).date())

    @task(pool=WAREHOUSE_POOL)
    def ingest(period: str, run_id: str | None = None) -> dict:
        from ingest.pipeline import ingest_period

        return ingest_period(period, run_id=str(run_id))

    @task(pool=WAREHOUSE_POOL)
    def stage(_: dict, run_id: str | None = None) -> dict:
        from ingest.pipeline import stage_models

        return stage_models(str(run_id))

    @task
    def audit(period: str, _: dict, run_id: str | None = None) -> dict:
        from ingest.pipeline import audit as run_audit

        return run_audit(period, run_id=str(run_id))

    @task(pool=WAREHOUSE_POOL)
    def build(_: dict, run_id: str | None = None) -> dict:
        from ingest.pipeline import build_publication

        return build_publication(str(run_id))

    @task
    def quality_gate(period: str, _: dict, run_id: str | None = None) -> dict:
        from ingest.pipeline import quality_gate as gate

        return gate(period, run_id=str(run_id))

    @task(outlets=[MARTS])
    def publish(_: dict, run_id: str | None = None) -> dict:
        from ingest.pipeline import publish as swap

        return swap(str(run_id))

    @task
    def render_report(period: str, _: dict, run_id: str | None = None) -> str:
        from ingest.pipeline import render_report as render

        return render(period, run_id=str(run_id))

    @task
    def send_report(period: str, report_path: str, run_id: str | None = None) -> dict:
        from ingest.pipeline import send_report as send

        return send(period, run_id=str(run_id), report_path=report_path)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def finish(run_id: str | None = None) -> dict:
        """Always runs: ends the run as success or failed with its summary (fails the DAG run if failed)."""
        from airflow.sdk.exceptions import AirflowFailException

        from ingest.pipeline import finish_run, summary_line

        summary = finish_run(str(run_id))
        if summary["status"] != "success":
            raise AirflowFailException(summary_line(summary))  # final: not retried (a DB error still is)
        return summary

    period = resolve_period()
    loaded = ingest(period)
    audited = audit(period, stage(loaded))
    checked = quality_gate(period, build(audited))
    report = render_report(period, publish(checked))
    send_report(period, report) >> finish()


d06_monthly_load()
