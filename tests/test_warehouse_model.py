"""The warehouse model on the real PostgreSQL: roll-up across the 1 July 2025 merger, and what the
read-only BI role can and cannot see."""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ingest.config import inbox_dir, warehouse_parts
from ingest.pipeline import build_models, ingest_period
from ingest.registry import load_registry

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
INDICATOR = "HT_SYNCED"  # a stock reported by communes (which make the province total) and by STP
BEFORE, AFTER = "2025-06", "2025-07"


def _write(period: str, unit: str, numerator: int, denominator: int) -> None:
    path = inbox_dir() / period / f"{unit}_{period}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator"])
        w.writerow([unit, period, INDICATOR, "", numerator, denominator])


@pytest.fixture(scope="module")
def merged_months(warehouse_dsn: str) -> dict[str, Any]:
    """June 2025 reported by the former units; July 2025 by today's, carrying the same records."""
    registry = load_registry()
    new_num: dict[str, Decimal] = defaultdict(Decimal)
    new_den: dict[str, Decimal] = defaultdict(Decimal)
    expected: dict[str, int] = defaultdict(int)
    communes = [u for u in registry.units.values() if u.kind == "commune" and u.valid_to is not None]
    for i, unit in enumerate(sorted(communes, key=lambda u: u.code)):
        num, den = 10 * (50 + i), 10 * (90 + 2 * i)  # multiples of 10: every split share is whole
        _write(BEFORE, unit.code, num, den)
        for s in registry.successions:
            if s.predecessor_code == unit.code:
                new_num[s.successor_code] += s.share * num
                new_den[s.successor_code] += s.share * den
                expected[registry.units[s.successor_code].province_code] += int(s.share * num)
    for code in new_num:
        _write(AFTER, code, int(new_num[code]), int(new_den[code]))
    _write(BEFORE, "KG91.STP", 1_829_634, 1_829_634)
    _write(BEFORE, "AG89.STP", 3_796_164, 3_796_164)
    _write(AFTER, "AG.STP", 5_625_798, 5_625_798)
    for period in (BEFORE, AFTER):
        totals = ingest_period(period, run_id=f"test-{period}")
        assert totals["rows_quarantined"] == 0 and totals["rejected"] == 0
    build_models()
    return {"province_numerators": dict(expected)}


def _rows(dsn: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, args).fetchall()


def test_province_totals_agree_across_the_merger(merged_months: dict[str, Any], warehouse_dsn: str) -> None:
    rows = _rows(
        warehouse_dsn,
        "select province_code, period, numerator, denominator from marts.mart_province_scorecard_monthly "
        "where indicator_code = %s order by 1, 2",
        INDICATOR,
    )
    by_key = {(p, m): (n, d) for p, m, n, d in rows}
    assert {p for p, _ in by_key} == {"AG", "DT"}, "former provinces roll up under today's AG and DT"
    for province in ("AG", "DT"):
        assert by_key[(province, BEFORE)] == by_key[(province, AFTER)]
        assert by_key[(province, BEFORE)][0] == merged_months["province_numerators"][province]


def test_kien_giang_june_2025_rolls_up_under_an_giang(merged_months: dict[str, Any], warehouse_dsn: str) -> None:
    rows = _rows(
        warehouse_dsn,
        "select period, numerator, reporting_units, change_pp from marts.mart_unit_scorecard_monthly "
        "where unit_code = 'AG.STP' and indicator_code = %s order by period",
        INDICATOR,
    )
    assert rows == [(BEFORE, Decimal("5625798.00"), 2, None), (AFTER, Decimal("5625798.00"), 1, Decimal("0.00"))]
    kept = _rows(
        warehouse_dsn,
        "select unit_code from marts.fct_indicator_monthly where period = %s and unit_code like 'KG91.%%'",
        BEFORE,
    )
    assert kept, "the fact keeps the former unit as reported; only the scorecards re-attribute"


def _as_bi_reader(dsn: str) -> psycopg.Connection[Any]:
    """Log in as bi_reader when `make` gave it a password, else switch to the role (same privileges)."""
    password = os.environ.get("D06_BI_READER_PASSWORD")
    if password:
        p = warehouse_parts(dsn)
        return psycopg.connect(host=p.host, port=p.port, dbname=p.dbname, user="bi_reader", password=password)
    conn = psycopg.connect(dsn)
    conn.execute("set role bi_reader")
    return conn


def test_bi_reader_reads_marts_and_nothing_else(merged_months: dict[str, Any], warehouse_dsn: str) -> None:
    with _as_bi_reader(warehouse_dsn) as conn:
        assert conn.execute("select current_user").fetchone() == ("bi_reader",)
        rate = conn.execute(
            "select s.rate_pct, s.change_pp from marts.mart_province_scorecard_monthly s "
            "join marts.dim_indicator i using (indicator_code) "
            "where s.province_code = 'AG' and s.period = %s and i.indicator_code = %s",
            (AFTER, INDICATOR),
        ).fetchone()
        assert rate is not None
        late_or_missing = conn.execute(
            "select u.unit_name_vi, s.timeliness from marts.fct_submission s "
            "join marts.dim_unit u using (unit_code) where s.period = %s and s.timeliness <> 'on_time'",
            (AFTER,),
        ).fetchall()
        expected, reported = conn.execute(
            "select sum(units_expected), sum(units_reported) from marts.mart_reporting_timeliness where period = %s",
            (AFTER,),
        ).fetchone()
        assert late_or_missing and all(t in ("late", "missing") for _, t in late_or_missing)
        assert sum(t == "missing" for _, t in late_or_missing) == expected - reported
        for table in ("raw.submission_row", "audit.load_ledger", "registry.unit", "staging.stg_registry__units"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"select 1 from {table} limit 1")


def test_docs_generate_and_source_freshness(merged_months: dict[str, Any], warehouse_dsn: str) -> None:
    from ingest.transform.dbt_runner import dbt_dir, run_dbt

    run_dbt(["docs", "generate"])
    catalog = json.loads((dbt_dir() / "target" / "catalog.json").read_text(encoding="utf-8"))
    nodes = catalog["nodes"]
    assert "model.d06.mart_province_scorecard_monthly" in nodes
    assert nodes["model.d06.fct_indicator_monthly"]["columns"]["numerator"]["comment"], "docs persist to columns"
    freshness = run_dbt(["source", "freshness"]).output
    assert "PASS" in freshness and "ERROR STALE" not in freshness
