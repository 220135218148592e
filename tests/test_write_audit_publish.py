"""Write-audit-publish against the real warehouse (issue 9): what an error holds never reaches the
official marts until it is corrected or accepted; a failed build or checkpoint changes nothing;
a reader never sees half a month.

Every expected value is written by hand from the files the tests build.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest import pipeline
from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.pipeline import build_models, prepare_warehouse
from ingest.quality import violations
from ingest.registry import load_registry
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
HEADER = ["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator", "reported_rate"]
TODAY = dt.date(2026, 11, 30)
UNIT = "AG.CAT"
# A total-kind flow indicator that a department reports for one service, and one without services.
SERVICE_INDICATOR, SERVICE = "DVC_ONLINE_RECEIVED", "DV01"
PLAIN = "TTHC_DIGITISED_DOSSIER"


def _file(folder: Path, name: str, rows: list[list[Any]]) -> Path:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _land(path: Path, period: str, batch: str) -> None:
    with connect() as conn:
        outcomes = land_paths(conn, [path], batch_id=batch, ctx=LandingContext(load_registry(), TODAY, period))
    assert [o.status for o in outcomes] == ["loaded"]


def _one(sql: str, *params: Any) -> Any:
    with connect() as conn:
        row = conn.execute(sql, params).fetchone()
    return None if row is None else (row[0] if len(row) == 1 else row)


def _fact(unit: str, indicator: str, service: str, period: str) -> Any:
    return _one(
        """select numerator, denominator, publication_status from marts.fct_indicator_monthly
           where unit_code = %s and indicator_code = %s and service_code = %s and period = %s""",
        unit,
        indicator,
        service,
        period,
    )


def _violation(check: str, unit: str, indicator: str, period: str) -> Any:
    return _one(
        """select violation_id, status, severity from audit.violation
           where check_code = %s and unit_code = %s and indicator_code = %s and period = %s""",
        check,
        unit,
        indicator,
        period,
    )


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> str:
    prepare_warehouse()
    return warehouse_dsn


def test_numerator_above_denominator_is_held_until_corrected(warehouse: str, tmp_path: Path) -> None:
    period = "2026-04"
    _land(_file(tmp_path, "v1.csv", [[UNIT, period, SERVICE_INDICATOR, SERVICE, 700, 849, "82,45%"]]), period, "b1")
    build_models()
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) == (700, 849, "published")

    # The unit resends with a numerator above its denominator, and the rate it computed.
    _land(_file(tmp_path, "v2.csv", [[UNIT, period, SERVICE_INDICATOR, SERVICE, 856, 849, "100,82%"]]), period, "b2")
    build_models()
    assert _violation("numerator_exceeds_denominator", UNIT, SERVICE_INDICATOR, period)[1:] == ("open", "error")
    # The figure is loaded (never quarantined) but not published: the previous value stays, marked held.
    assert _one("select count(*) from raw.submission_row where numerator = 856") == 1
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) == (700, 849, "held")
    reason = _one(
        "select held_reason_vi from marts.fct_indicator_monthly where unit_code = %s and period = %s", UNIT, period
    )
    assert "numerator_exceeds_denominator" in reason
    for mart in ("mart_unit_scorecard_monthly", "mart_province_scorecard_monthly"):
        assert _one(f"select count(*) from marts.{mart} where numerator = 856") == 0, mart
    assert _one(
        "select is_held, open_errors from marts.mart_unit_quality_monthly where unit_code = %s and period = %s",
        UNIT,
        period,
    ) == (True, 1)

    # A re-run updates the ledger and never duplicates it; the value stays held.
    ledger = "select count(*), max(last_run_id) from audit.violation where unit_code = %s and period = %s"
    rows_before, run_before = _one(ledger, UNIT, period)
    build_models(period=period)
    rows_after, run_after = _one(ledger, UNIT, period)
    assert rows_after == rows_before and run_after != run_before
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) == (700, 849, "held")

    # Corrected: the next file's rows pass, so it is published and the finding closes by itself.
    _land(_file(tmp_path, "v3.csv", [[UNIT, period, SERVICE_INDICATOR, SERVICE, 801, 849, "94,35%"]]), period, "b3")
    build_models()
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) == (801, 849, "published")
    assert _violation("numerator_exceeds_denominator", UNIT, SERVICE_INDICATOR, period)[1] == "corrected"


def test_accepted_error_is_published_and_a_new_held_unit_shows_as_held(warehouse: str, tmp_path: Path) -> None:
    period, unit = "2026-05", "AG.SYT"
    # Never published before: held with no previous values, so no fact row at all.
    _land(_file(tmp_path, "a.csv", [[unit, period, PLAIN, "NA", 1200, 1000, ""]]), period, "c1")
    indicator = load_registry().indicators[PLAIN]
    assert indicator.denominator_kind == "total", "the test needs a total-kind indicator"
    build_models()
    assert _fact(unit, PLAIN, "NA", period) is None
    held = _one(
        "select is_held, held_reason_vi from marts.mart_unit_quality_monthly where unit_code = %s and period = %s",
        unit,
        period,
    )
    assert held[0] is True and "Tử số lớn hơn mẫu số" in held[1]

    finding = _violation("numerator_exceeds_denominator", unit, PLAIN, period)
    with connect() as conn:
        violations.accept(conn, finding[0], "Nguyễn Văn Kiểm", "Đã xác minh: số hồ sơ gồm cả hồ sơ tồn tháng trước")
    build_models()
    assert _fact(unit, PLAIN, "NA", period) == (1200, 1000, "published")
    assert _violation("numerator_exceeds_denominator", unit, PLAIN, period)[1] == "accepted"


def test_bi_reader_cannot_read_the_audit_stage(warehouse: str) -> None:
    with connect() as conn:
        grants = conn.execute(
            """select has_schema_privilege('bi_reader', 'marts', 'usage'),
                      has_schema_privilege('bi_reader', 'intermediate', 'usage')"""
        ).fetchone()
    assert grants == (True, False)


def test_failed_checkpoint_leaves_the_official_marts_as_they_were(warehouse: str, tmp_path: Path) -> None:
    period, run = "2026-06", "run-blocked"
    _land(_file(tmp_path, "ok.csv", [[UNIT, period, PLAIN, "NA", 300, 400, "75%"]]), period, "d1")
    build_models()
    before = _one("select count(*), sum(numerator) from marts.fct_indicator_monthly")
    _land(_file(tmp_path, "next.csv", [[UNIT, period, PLAIN, "NA", 320, 400, "80%"]]), period, run)
    pipeline.start_run(run, period)
    pipeline.stage_models(run)
    pipeline.audit(period, run_id=run)
    pipeline.build_publication(run)
    # A rule the catalogue missed (simulated): the staged marts break numerator <= denominator.
    with connect() as conn:
        conn.execute(
            "update marts_next.fct_indicator_monthly set numerator = 999 where unit_code = %s and period = %s",
            (UNIT, period),
        )
    with pytest.raises(pipeline.GateBlocked):
        pipeline.quality_gate(period, run_id=run)
    assert _one("select count(*), sum(numerator) from marts.fct_indicator_monthly") == before
    assert _fact(UNIT, PLAIN, "NA", period) == (300, 400, "published")


def test_failed_build_leaves_the_official_marts_as_they_were(warehouse: str, tmp_path: Path) -> None:
    period = "2026-07"
    _land(_file(tmp_path, "ok.csv", [[UNIT, period, PLAIN, "NA", 10, 40, "25%"]]), period, "e1")
    build_models()
    before = _one("select count(*), sum(numerator) from marts.fct_indicator_monthly")
    _land(_file(tmp_path, "next.csv", [[UNIT, period, PLAIN, "NA", 20, 40, "50%"]]), period, "e2")
    pipeline.stage_models()
    pipeline.audit(period, run_id="e2")
    # A dbt test of the publication fails: the ledger names a check the registry no longer has.
    with connect() as conn:
        conn.execute(
            """insert into audit.violation (check_code, severity, unit_code, period, first_run_id, last_run_id)
               values ('retired_check', 'warning', %s, %s, 'x', 'x')""",
            (UNIT, period),
        )
    try:
        with pytest.raises(Exception, match="relationships"):
            pipeline.build_publication()
        assert _one("select count(*), sum(numerator) from marts.fct_indicator_monthly") == before
    finally:
        with connect() as conn:
            conn.execute("delete from audit.violation where check_code = 'retired_check'")


def _as_bi_reader(dsn: str) -> str:
    parts = conninfo_to_dict(dsn)
    parts.update(user="bi_reader", password=os.environ["D06_BI_READER_PASSWORD"])
    return make_conninfo(**parts)  # type: ignore[arg-type]


def test_a_reader_never_sees_half_a_month(warehouse: str, tmp_path: Path) -> None:
    period = "2026-08"
    units = ["AG.CAT", "AG.SGDDT", "AG.STP", "AG.SYT"]
    first = [[u, period, PLAIN, "NA", 100 + i, 1000, ""] for i, u in enumerate(units)]
    second = [[u, period, PLAIN, "NA", 200 + i, 1000, ""] for i, u in enumerate(units)]
    _land(_file(tmp_path, "first.csv", first), period, "f1")
    build_models()
    # By hand: 100+101+102+103 = 406, then 200+201+202+203 = 806, in the fact and in the scorecards.
    states = {(406, 406), (806, 806)}
    query = f"""select (select sum(numerator) from marts.fct_indicator_monthly
                        where period = '{period}' and indicator_code = '{PLAIN}')::bigint,
                       (select sum(numerator) from marts.mart_unit_scorecard_monthly
                        where period = '{period}' and indicator_code = '{PLAIN}')::bigint"""
    seen: list[tuple[int, int]] = []
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:  # as the BI tools read: role bi_reader, under its row-level policies
        with psycopg.connect(_as_bi_reader(warehouse), autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(conn.execute(query).fetchone())
                except psycopg.Error as exc:
                    errors.append(str(exc))

    _land(_file(tmp_path, "second.csv", second), period, "f2")
    reader = threading.Thread(target=read)
    reader.start()
    try:
        build_models()
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert len(seen) > 10
    assert set(seen) <= states, set(seen) - states
    assert seen[0] == (406, 406) and seen[-1] == (806, 806)


def test_a_held_value_published_before_the_gate_is_withdrawn(warehouse: str, tmp_path: Path) -> None:
    """An upgraded warehouse: the official fact already shows a file's 856/849 (published before the
    gate existed).  The gate holds that file; its own value is not kept as the fallback, and the
    checkpoint then passes on what is about to be published."""
    period, run = "2026-09", "run-upgrade"
    _land(_file(tmp_path, "bad.csv", [[UNIT, period, SERVICE_INDICATOR, SERVICE, 856, 849, "100,82%"]]), period, run)
    build_models()
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) is None
    with connect() as conn:  # what the old build published: the candidate as it stood
        conn.execute(
            """insert into marts.fct_indicator_monthly (unit_code, indicator_code, service_code, period, numerator,
                   denominator, source_kind, batch_id, file_id, publication_status)
               select unit_code, indicator_code, service_code, period, numerator, denominator, source_kind,
                      batch_id, file_id, 'published'
               from intermediate.int_indicator_values__resolved where unit_code = %s and period = %s""",
            (UNIT, period),
        )
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) == (856, 849, "published")
    pipeline.start_run(run, period)
    pipeline.stage_models(run)
    pipeline.audit(period, run_id=run)
    pipeline.build_publication(run)
    pipeline.quality_gate(period, run_id=run)  # no GateBlocked
    pipeline.publish(run)
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) is None


def test_marts_published_before_the_gate_existed_are_no_fallback(warehouse: str, tmp_path: Path) -> None:
    """The first gated run of an old warehouse: its fact (no publication_status) shows an unchecked
    857/849 from an earlier file.  The gate holds the new file's 856/849, and neither is shown."""
    period = "2026-10"
    _land(_file(tmp_path, "bad.csv", [[UNIT, period, SERVICE_INDICATOR, SERVICE, 856, 849, "100,82%"]]), period, "g1")
    build_models()
    with connect() as conn:  # the marts as the old build left them
        conn.execute(
            "alter table marts.fct_indicator_monthly drop column publication_status, drop column held_reason_vi"
        )
        conn.execute(
            """insert into marts.fct_indicator_monthly (unit_code, indicator_code, service_code, period, numerator,
                   denominator, source_kind, batch_id, file_id)
               values (%s, %s, %s, %s, 857, 849, 'template', 'old', -1)""",
            (UNIT, SERVICE_INDICATOR, SERVICE, period),
        )
    build_models(period=period)
    assert _fact(UNIT, SERVICE_INDICATOR, SERVICE, period) is None
    assert _violation("numerator_exceeds_denominator", UNIT, SERVICE_INDICATOR, period)[1] == "open"
