"""The quality gate against the source extracts (``ingest/quality/catalogue.py``): the check
``reconciliation_gap`` and ``funnel_break`` applied to the civil-registry extract's own counts.

As in ``test_check_catalogue.py``, each test fills the stage relations the statements read (plain
tables here, with only the columns the SQL uses) with a few hand-made rows, runs
``find_violations`` in one transaction, reads ``gate_finding`` and rolls back.  Every expected
finding is worked out by hand from the rule as the issue states it (a reported figure more than
``tolerance_pct`` % of the extract's figure away from it; total >= scanned >= entered >= synced),
never copied from the SQL's output.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from ingest.pipeline import prepare_warehouse
from ingest.quality.catalogue import CheckScope, find_violations
from ingest.registry import NO_SERVICE, load_registry
from ingest.submissions.periods import report_deadline
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse]

REGISTRY = load_registry()
NA = NO_SERVICE
PERIOD, PREVIOUS = "2026-03", "2026-02"
LONG_AFTER = report_deadline(PERIOD) + dt.timedelta(days=20)
C1, C2, C3 = sorted(
    u.code for u in REGISTRY.units.values() if u.kind == "commune" and u.province_code == "AG" and u.valid_to is None
)[:3]
TOLERANCE = Decimal("0.5")

STAGE_DDL = """
create schema if not exists intermediate;
create schema if not exists marts;
create table intermediate.int_indicator_values__resolved (
    unit_code text not null, indicator_code text not null, service_code text not null, period text not null,
    numerator bigint, denominator bigint, reported_rate_pct numeric(9, 2), file_id bigint, source_kind text,
    primary key (unit_code, indicator_code, service_code, period));
create table marts.fct_indicator_monthly (
    unit_code text not null, indicator_code text not null, service_code text not null, period text not null,
    numerator bigint, denominator bigint);
create table intermediate.int_submissions__expected (
    unit_code text not null, period text not null, indicator_code text not null, service_code text not null);
create view intermediate.int_unit_periods__candidate as
select unit_code, period, max(file_id) filter (where source_kind = 'template') as template_file_id,
       array_agg(distinct file_id order by file_id) as file_ids
from intermediate.int_indicator_values__resolved group by unit_code, period;
create table intermediate.int_reconciliation__candidate (
    unit_code text not null, indicator_code text not null, period text not null, service_code text not null,
    extract_source text, extract_scope text, tolerance_pct numeric, system_of_record text, file_id bigint,
    reported_numerator bigint, extract_numerator bigint, numerator_difference bigint,
    reported_denominator bigint, extract_denominator bigint, denominator_difference bigint);
create table intermediate.int_civil_registry__monthly (
    commune_code text not null, record_type text not null, period text not null, records_total bigint,
    records_scanned bigint, records_entered bigint, records_synced bigint, file_id bigint);
"""


class Reconciled(NamedTuple):
    """A row of ``int_reconciliation__candidate``: what a unit reported and the extract's figures."""

    unit: str
    indicator: str
    reported_numerator: int
    extract_numerator: int | None
    reported_denominator: int | None = None
    extract_denominator: int | None = None
    scope: str = "commune"
    period: str = PERIOD
    file_id: int = 7


class Counts(NamedTuple):
    """A row of ``int_civil_registry__monthly``."""

    commune: str
    record_type: str
    total: int
    scanned: int
    entered: int
    synced: int
    period: str = PERIOD
    file_id: int = 9


class Finding(NamedTuple):
    check: str
    unit: str
    indicator: str | None
    service: str | None
    period: str
    values: dict[str, Any]
    file_id: int | None


@pytest.fixture(scope="module", autouse=True)
def stage(warehouse_dsn: str) -> Iterator[None]:
    prepare_warehouse()
    with connect() as conn:
        conn.execute(STAGE_DDL)
    yield


def _difference(reported: int | None, extract: int | None) -> int | None:
    return None if reported is None or extract is None else reported - extract


def run(reconciled: Iterable[Reconciled] = (), counts: Iterable[Counts] = ()) -> list[Finding]:
    """Fill the stage, run every check over PERIOD, return ``gate_finding``; nothing is kept."""
    with connect() as conn:
        try:
            with conn.cursor() as cur:
                rows = []
                for r in reconciled:
                    extract = REGISTRY.indicators[r.indicator].extract
                    assert extract is not None
                    rows.append(
                        (r.unit, r.indicator, r.period, NA, extract.source, r.scope, extract.tolerance_pct,
                         extract.system_of_record, r.file_id, r.reported_numerator, r.extract_numerator,
                         _difference(r.reported_numerator, r.extract_numerator), r.reported_denominator,
                         r.extract_denominator, _difference(r.reported_denominator, r.extract_denominator))
                    )  # fmt: skip
                cur.executemany(
                    "insert into intermediate.int_reconciliation__candidate values"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
                cur.executemany(
                    "insert into intermediate.int_civil_registry__monthly values (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [(c.commune, c.record_type, c.period, c.total, c.scanned, c.entered, c.synced, c.file_id)
                     for c in counts],
                )  # fmt: skip
            find_violations(conn, REGISTRY, CheckScope((PERIOD,), {PERIOD: report_deadline(PERIOD)}, LONG_AFTER))
            found = conn.execute(
                'select check_code, unit_code, indicator_code, service_code, period, "values", file_id'
                " from gate_finding"
            ).fetchall()
        finally:
            conn.rollback()
    return [Finding(*f) for f in found]


def findings(found: list[Finding], check: str) -> dict[tuple[str, str | None], Finding]:
    return {(f.unit, f.indicator): f for f in found if f.check == check}


def test_registry_declares_what_these_tests_assume() -> None:
    extracts = {code: i.extract for code, i in REGISTRY.indicators.items() if i.extract is not None}
    assert {code: (e.source, e.numerator, e.denominator, e.tolerance_pct, e.system_of_record)
            for code, e in extracts.items()} == {
        "HT_SCANNED": ("civil_registry", "records_scanned", "records_total", TOLERANCE, "extract"),
        "HT_ENTERED": ("civil_registry", "records_entered", "records_total", TOLERANCE, "extract"),
        "HT_SYNCED": ("civil_registry", "records_synced", "records_entered", TOLERANCE, "extract"),
        "BHXH_VERIFIED": ("bhxh", "verified", "participants", TOLERANCE, "extract"),
    }  # fmt: skip
    funnel = next(f for f in REGISTRY.funnels if f.code == "civil_registry_digitisation")
    assert [str(s) for s in funnel.steps] == ["HT_SCANNED.denominator", "HT_SCANNED", "HT_ENTERED", "HT_SYNCED"]
    check = REGISTRY.checks["reconciliation_gap"]
    assert (check.severity, check.scope) == ("warning", "row")
    with connect() as conn:
        synced = conn.execute("select count(*) from registry.indicator_extract").fetchone()
    assert synced is not None and synced[0] == len(extracts)


def test_reconciliation_gap_fires_beyond_the_tolerance_and_is_quiet_within_it() -> None:
    found = run(
        [
            # 0.5 % of 1000 is 5: a difference of 6 is beyond it, 5 is not.
            Reconciled(C1, "HT_SCANNED", 1006, 1000, 2000, 2000),
            Reconciled(C2, "HT_SCANNED", 1005, 1000, 2000, 2000),
            Reconciled(C3, "HT_SCANNED", 995, 1000, 2000, 2000),
            # The denominator alone: 0.5 % of 2000 is 10, and 2011 is 11 away.
            Reconciled(C1, "HT_ENTERED", 1000, 1000, 2011, 2000),
            Reconciled(C2, "HT_ENTERED", 1000, 1000, 2010, 2000),
            # Below the extract counts too: 0.5 % of 2 is 0.01.
            Reconciled("AG.BHXH", "BHXH_VERIFIED", 3, 2, 5, 5, scope="province"),
            # 0.5 % of 151000 is 755.
            Reconciled("AG.STP", "HT_SCANNED", 151755, 151000, 180000, 180000, scope="province"),
            Reconciled("AG.STP", "HT_SYNCED", 150244, 151000, 180000, 180000, scope="province"),
            # No extract covers the scope and month: nothing to compare.
            Reconciled(C3, "HT_SYNCED", 500, None, 900, None),
            # Another month is not checked.
            Reconciled(C3, "HT_ENTERED", 10, 1000, 2000, 2000, period=PREVIOUS),
        ]
    )
    gaps = findings(found, "reconciliation_gap")
    assert set(gaps) == {
        (C1, "HT_SCANNED"),
        (C1, "HT_ENTERED"),
        ("AG.BHXH", "BHXH_VERIFIED"),
        ("AG.STP", "HT_SYNCED"),  # 756 below: beyond 755
    }
    assert gaps[C1, "HT_SCANNED"] == Finding(
        "reconciliation_gap", C1, "HT_SCANNED", NA, PERIOD,
        {"reported_numerator": 1006, "extract_numerator": 1000, "reported_denominator": 2000,
         "extract_denominator": 2000, "tolerance_pct": 0.5, "extract": "civil_registry", "scope": "commune",
         "system_of_record": "extract"},
        7,
    )  # fmt: skip
    assert gaps["AG.BHXH", "BHXH_VERIFIED"].values == {
        "reported_numerator": 3, "extract_numerator": 2, "reported_denominator": 5, "extract_denominator": 5,
        "tolerance_pct": 0.5, "extract": "bhxh", "scope": "province", "system_of_record": "extract",
    }  # fmt: skip


def test_an_extract_row_breaking_the_funnel_is_a_funnel_break_of_its_commune() -> None:
    found = run(
        counts=[
            Counts(C1, "khai_sinh", 100, 90, 95, 80),  # entered above scanned
            Counts(C1, "ket_hon", 100, 110, 100, 100),  # scanned above the total
            Counts(C2, "khai_sinh", 100, 100, 100, 100),  # equal steps are fine
            Counts(C2, "ket_hon", 100, 90, 80, 81),  # synced above entered ...
            Counts(C2, "khac", 50, 40, 30, 35),  # ... in two record types: one finding
            Counts(C3, "khai_sinh", 100, 90, 95, 80, period=PREVIOUS),  # not checked
        ]
    )
    breaks = findings(found, "funnel_break")
    assert set(breaks) == {(C1, "HT_ENTERED"), (C1, "HT_SCANNED"), (C2, "HT_SYNCED")}
    assert breaks[C1, "HT_ENTERED"] == Finding(
        "funnel_break", C1, "HT_ENTERED", NA, PERIOD,
        {"extract": "civil_registry", "funnel": "civil_registry_digitisation", "record_type": "khai_sinh",
         "upper_step": "HT_SCANNED", "upper_measure": "records_scanned", "upper_value": 90,
         "lower_step": "HT_ENTERED", "lower_measure": "records_entered", "lower_value": 95,
         "record_types": ["khai_sinh"]},
        9,
    )  # fmt: skip
    scanned = breaks[C1, "HT_SCANNED"].values
    assert (scanned["upper_step"], scanned["upper_value"], scanned["lower_value"]) == (
        "HT_SCANNED.denominator",
        100,
        110,
    )
    synced = breaks[C2, "HT_SYNCED"].values
    assert (synced["record_type"], synced["upper_value"], synced["lower_value"]) == ("ket_hon", 80, 81)
    assert synced["record_types"] == ["ket_hon", "khac"]


def test_nothing_is_found_in_an_extract_that_agrees_with_the_reports_and_keeps_its_funnel() -> None:
    found = run(
        [Reconciled(C1, "HT_SCANNED", 1000, 1000, 2000, 2000)],
        [Counts(C1, "khai_sinh", 2000, 1000, 900, 900)],
    )
    assert [f for f in found if f.check in ("reconciliation_gap", "funnel_break")] == []
