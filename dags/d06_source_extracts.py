"""
### Đề án 06 — source extracts

Lands the source systems' exports as soon as they are dropped in `inbox/extracts/`: the
civil-registry (hộ tịch) sync counts and the BHXH identity-verification extract
(`formats.md` §3, §4).  Nobody triggers anything: this DAG polls the folder every 10 minutes.

1. **land** — every file is archived (a BHXH extract encrypted), parsed as it streams, and loaded
   with COPY; personal ID numbers and BHXH codes are replaced by keyed HMAC digests on the way in,
   names and birth dates dropped.  Each file gets a ledger row; processed files move to
   `inbox/extracts/landed/<date>/`.
2. **civil_registry_landed**, **bhxh_landed** — an Airflow asset event per kind of extract that
   brought new values (with the months in its `extra`); skipped when none did.

The monthly build (`d06_monthly_load`) is scheduled on these assets as well as on its calendar:
a new extract rebuilds, audits and republishes the month it is for.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from ingest.assets import EXTRACT_ASSET_URIS
from ingest.orchestration import WAREHOUSE_POOL, default_args

CIVIL_REGISTRY = Asset(EXTRACT_ASSET_URIS["civil_registry"])
BHXH = Asset(EXTRACT_ASSET_URIS["bhxh"])


@dag(
    dag_id="d06_source_extracts",
    schedule="*/10 * * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["d06", "extracts", "ingest"],
    doc_md=__doc__,
)
def d06_source_extracts() -> None:
    @task(pool=WAREHOUSE_POOL)
    def land(run_id: str | None = None) -> dict:
        from ingest.source_extracts import land_extract_inbox

        return land_extract_inbox(run_id=str(run_id)).as_dict()

    def landed(kind: str, asset: Asset):  # type: ignore[no-untyped-def]
        @task(task_id=f"{kind}_landed", outlets=[asset])
        def emit(landing: dict, outlet_events=None) -> list[str]:  # type: ignore[no-untyped-def]
            from airflow.sdk.exceptions import AirflowSkipException

            periods = landing["periods"].get(kind) or []
            if not periods:
                raise AirflowSkipException(f"no new {kind} extract")
            outlet_events[asset].extra = {"periods": periods}
            return periods

        return emit

    landing = land()
    landed("civil_registry", CIVIL_REGISTRY)(landing)
    landed("bhxh", BHXH)(landing)


d06_source_extracts()
