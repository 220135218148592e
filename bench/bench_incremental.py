"""`make bench`, part 8: a national month end to end, and the monthly build against a full refresh.

The country after the 2025 merger: 34 provinces (the registry's two and 32 synthetic copies of
An Giang's current units, as in part 4), ~3,800 reporting units.  Eleven months of history are
in the warehouse, built and published; then the twelfth national month arrives as files in the
inbox and goes through every step of the monthly run, each timed:
  * ingest (the landing path, every file);
  * stage (dbt: the audit stage, only the months whose files changed), audit (the check
    catalogue), build (dbt: the marts to publish, only the months that changed), the GX
    checkpoint on them, publish (the swap);
then the same twelve months are rebuilt with ``--full-refresh`` (stage, audit, build, publish).
Printed: each step's time, and the twelfth month's build (stage + audit + build + publish)
against the full refresh's.  Target: at most 0.2x.

The eleven months of history are the twelfth month's landed rows shifted back a month at a
time (file ids, hashes and receipt times shifted alike; numerators a little lower each month
back, so stocks grow): the history only has to be there, it is not what is measured.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from ingest.warehouse.db import scratch_database

MONTHS = int(os.environ.get("BENCH_INCREMENTAL_MONTHS", "12"))
LAST = "2026-07"
FILE_ID_STEP = 1_000_000
"""File ids of the history: the landed file's id plus this times the months back."""


def months_back(period: str, k: int) -> str:
    y, m = map(int, period.split("-"))
    index = y * 12 + m - 1 - k
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    schema, name = table.split(".")
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
        " order by ordinal_position",
        (schema, name),
    ).fetchall()
    return [r[0] for r in rows]


def _shifted(conn: psycopg.Connection[Any], table: str, k: int, changes: dict[str, str]) -> None:
    """Insert ``table``'s rows of the landed month again, ``k`` months back."""
    columns = _columns(conn, table)
    exprs = [changes.get(c, c) for c in columns]
    listed = ", ".join(columns)
    conn.execute(
        f"insert into {table} ({listed}) select {', '.join(exprs)} from {table} where batch_id = 'bench-seed'".replace(
            "{k}", str(k)
        )
    )


def history(conn: psycopg.Connection[Any], months: int) -> None:
    """The landed month's rows and files again for each of the ``months - 1`` months before it,
    then the landed month taken out (it arrives again, as files, in the run measured)."""
    month = "to_char((period || '-01')::date - interval '{k} months', 'YYYY-MM')"
    sha = "substr(md5(sha256 || '{k}') || md5('{k}' || sha256), 1, 64)"
    for k in range(1, months):
        _shifted(
            conn,
            "audit.load_ledger",
            k,
            {
                "file_id": f"file_id + {FILE_ID_STEP} * {{k}}",
                "batch_id": "'bench-history'",
                "sha256": sha,
                "period": month,
                "requested_period": month.replace("period", "requested_period"),
                "received_at": "received_at - interval '{k} months'",
                "loaded_at": "loaded_at - interval '{k} months'",
            },
        )
        _shifted(
            conn,
            "raw.submission_row",
            k,
            {
                "file_id": f"file_id + {FILE_ID_STEP} * {{k}}",
                "batch_id": "'bench-history'",
                "source_sha256": sha.replace("sha256", "source_sha256"),
                "period": month,
                "numerator": "floor(numerator * (1 - 0.01 * {k}))::bigint",
                "loaded_at": "loaded_at - interval '{k} months'",
            },
        )
    for table in ("raw.submission_row", "raw.quarantine", "audit.load_ledger"):
        conn.execute(f"delete from {table} where batch_id = 'bench-seed'")
    conn.execute("select setval('audit.load_ledger_file_id_seq', (select max(file_id) from audit.load_ledger))")


def timed(step: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def _land(period: str, run_id: str) -> dict[str, Any]:
    from ingest.pipeline import ingest_period

    return ingest_period(period, run_id=run_id)


def _month_end_to_end(period: str, run_id: str) -> dict[str, float]:
    """The twelfth month through every step of the monthly run, as the DAG runs them."""
    from ingest import pipeline

    out: dict[str, float] = {}
    out["ingest"] = timed(lambda: _land(period, run_id))
    out["stage"] = timed(lambda: pipeline.stage_models(run_id))
    out["audit"] = timed(lambda: pipeline.audit(period, run_id=run_id))
    out["build"] = timed(lambda: pipeline.build_publication(run_id))
    out["quality_gate"] = timed(lambda: pipeline.quality_gate(period, run_id=run_id))
    out["publish"] = timed(lambda: pipeline.publish(run_id))
    return out


def _full_refresh(period: str) -> dict[str, float]:
    from ingest import pipeline
    from ingest.quality.gate import audit_period

    out: dict[str, float] = {}
    out["stage"] = timed(lambda: pipeline.stage_models(None, full_refresh=True))
    out["audit"] = timed(lambda: audit_period(period, run_id="bench-full"))
    out["build"] = timed(lambda: pipeline.build_publication(None, full_refresh=True))
    out["publish"] = timed(lambda: pipeline.publish(None))
    return out


def prepare_history(dsn: str, inbox: Path) -> int:
    """The warehouse with the landed month's history built and published; the rows per month."""
    from ingest import pipeline
    from ingest.landing.adapters import LandingContext
    from ingest.landing.land import land_paths
    from ingest.registry import load_registry
    from ingest.warehouse.db import connect

    pipeline.prepare_warehouse()
    files = sorted(p for p in (inbox / LAST).iterdir())
    with connect() as conn:
        land_paths(conn, files, batch_id="bench-seed", ctx=LandingContext(load_registry(), dt.date.today(), LAST))
        (rows,) = conn.execute("select count(*) from raw.submission_row").fetchone()  # type: ignore[misc]
        history(conn, MONTHS)
    pipeline.build_models(None, months_back(LAST, 1))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    return int(rows)


def bench_incremental(server_dsn: str) -> dict[str, Any]:
    from bench_national import national_registry

    saved = {k: os.environ.get(k) for k in ("D06_REGISTRY_DIR", "D06_DATA_DIR", "WAREHOUSE_DSN")}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        national_registry(tmp / "registry")
        os.environ["D06_REGISTRY_DIR"] = str(tmp / "registry")
        os.environ["D06_DATA_DIR"] = str(tmp / "data")
        from ingest.demo import write_demo_inbox
        from ingest.registry import load_registry

        load_registry.cache_clear()
        write_demo_inbox(tmp / "data" / "inbox", LAST)
        try:
            with scratch_database(server_dsn, "d06_bench_incr") as dsn:
                os.environ["WAREHOUSE_DSN"] = dsn
                rows = prepare_history(dsn, tmp / "data" / "inbox")
                month = _month_end_to_end(LAST, "bench-month")
                full = _full_refresh(LAST)
        finally:
            load_registry.cache_clear()
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return report(rows, month, full)


BUILD = ("stage", "audit", "build", "publish")


def report(rows: int, month: dict[str, float], full: dict[str, float]) -> dict[str, Any]:
    incremental, refresh = sum(month[s] for s in BUILD), sum(full[s] for s in BUILD)
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in month.items())
    print(
        f"8. a national month end to end ({rows:,} rows; {MONTHS - 1} months of history): {steps};"
        f" total {sum(month.values()):.1f}s\n"
        f"   its build (stage + audit + build + publish) {incremental:.1f}s against a full refresh of the"
        f" {MONTHS} months {refresh:.1f}s ({', '.join(f'{k} {v:.1f}s' for k, v in full.items())})"
        f" -> {incremental / refresh:.2f}x (target <= 0.2)"
    )
    return {"national_month": month, "full_refresh": full, "incremental_to_full_ratio": incremental / refresh}


RESULTS = Path(__file__).with_name("results") / "latest.json"


def record(result: dict[str, Any]) -> None:
    """Add this part's measures to ``bench/results/latest.json`` (part 7 writes the file)."""
    import json

    data = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    data["incremental_to_full_ratio"] = result["incremental_to_full_ratio"]
    data["national_month_s"] = result["national_month"]
    data["full_refresh_s"] = result["full_refresh"]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main() -> int:
    server = os.environ.get("WAREHOUSE_DSN")
    if not server:
        print("WAREHOUSE_DSN is not set: run `make bench`")
        return 2
    record(bench_incremental(server))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
