"""The quality gate's check catalogue (``ingest/quality/catalogue.py``), check by check.

Each test fills the relations the catalogue reads from dbt (the candidate values, the previous
publication and the expected rows; plain tables here, with only the columns the SQL uses) and the
load ledger with a few hand-made rows, runs ``find_violations`` in one transaction, reads
``gate_finding`` and rolls back.  Every expected finding below is worked out from the rule as the
issue states it (``checks.yml``; ``rules:`` and each indicator's denominator_kind and measure_type
in ``indicators.yml``), never copied from the SQL's output.

Indicators are picked from the real registry by their properties, units from ``units.csv``;
``test_registry_declares_what_these_tests_assume`` pins the declarations the expectations rely on.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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
PERIOD = "2026-03"
PREVIOUS = "2026-02"
DEADLINE = report_deadline(PERIOD)
"""Exclusive: a file received at this instant is late."""
SECOND = dt.timedelta(seconds=1)
LONG_AFTER = DEADLINE + dt.timedelta(days=20)


def _pick(denominator_kind: str, measure_type: str) -> str:
    """The registry's first indicator of this kind, without services, that communes report."""
    for code, indicator in REGISTRY.indicators.items():
        if (
            indicator.denominator_kind == denominator_kind
            and indicator.measure_type == measure_type
            and not indicator.has_service
            and indicator.services_for("commune") == (NA,)
        ):
            return code
    raise LookupError(f"no {denominator_kind}/{measure_type} indicator that communes report")


TOTAL_FLOW = _pick("total", "flow")
TOTAL_STOCK = _pick("total", "stock")
TARGET_STOCK = _pick("target", "stock")
PARTS_RULE = REGISTRY.parts[0]
SERVICE_INDICATOR, SECOND_SERVICE_INDICATOR = PARTS_RULE.indicator_codes[:2]
SERVICES = REGISTRY.indicators[SERVICE_INDICATOR].services_for("commune")
JUMP_OVERRIDE = next(
    code
    for code in REGISTRY.indicators
    if REGISTRY.tolerances.for_indicator(code).count_jump.factor != REGISTRY.tolerances.default.count_jump.factor
)
FUNNELS = {f.code: f for f in REGISTRY.funnels}


def _communes(province: str) -> list[str]:
    return sorted(
        u.code
        for u in REGISTRY.units.values()
        if u.kind == "commune" and u.province_code == province and u.valid_to is None
    )


C = _communes("AG")
"""Current communes of An Giang."""
DT_COMMUNES = _communes("DT")


# --- the stage, and one gate run over it ------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A candidate value (``int_indicator_values__resolved``)."""

    unit: str
    indicator: str
    numerator: int | None
    denominator: int | None
    rate: str | None = None
    """The stated rate, as the unit printed it (with a decimal point)."""
    service: str = NA
    period: str = PERIOD
    file_id: int = 1
    source_kind: str = "template"


@dataclass(frozen=True)
class Published:
    """A row of the previous publication (``marts.fct_indicator_monthly``)."""

    unit: str
    indicator: str
    numerator: int
    denominator: int
    service: str = NA
    period: str = PREVIOUS


@dataclass(frozen=True)
class File:
    """A file of the load ledger."""

    file_id: int
    unit: str
    received_at: dt.datetime
    status: str = "loaded"
    period: str = PERIOD
    source_kind: str = "template"

    @property
    def name(self) -> str:
        return f"{self.unit}.xlsx"


class Finding(NamedTuple):
    check: str
    unit: str
    indicator: str | None
    service: str | None
    period: str
    values: dict[str, Any]
    file_id: int | None


STAGE_DDL = """
create schema if not exists intermediate;
create schema if not exists marts;
create table intermediate.int_indicator_values__resolved (
    unit_code text not null, indicator_code text not null, service_code text not null, period text not null,
    numerator bigint, denominator bigint, reported_rate_pct numeric(9, 2), file_id bigint, source_kind text,
    primary key (unit_code, indicator_code, service_code, period));
create table marts.fct_indicator_monthly (
    unit_code text not null, indicator_code text not null, service_code text not null, period text not null,
    numerator bigint, denominator bigint,
    primary key (unit_code, indicator_code, service_code, period));
create table intermediate.int_submissions__expected (
    unit_code text not null, period text not null, indicator_code text not null, service_code text not null);
-- the files of each unit-period's values, as the dbt model int_unit_periods__candidate has them
create view intermediate.int_unit_periods__candidate as
select unit_code, period, max(file_id) filter (where source_kind = 'template') as template_file_id,
       array_agg(distinct file_id order by file_id) as file_ids
from intermediate.int_indicator_values__resolved group by unit_code, period;
-- the source extracts' stage relations, empty here (tests/test_reconciliation_gate.py fills them)
create table intermediate.int_reconciliation__candidate (
    unit_code text not null, indicator_code text not null, period text not null, service_code text not null,
    extract_source text, extract_scope text, tolerance_pct numeric, system_of_record text, file_id bigint,
    reported_numerator bigint, extract_numerator bigint, numerator_difference bigint,
    reported_denominator bigint, extract_denominator bigint, denominator_difference bigint);
create table intermediate.int_civil_registry__monthly (
    commune_code text not null, record_type text not null, period text not null, records_total bigint,
    records_scanned bigint, records_entered bigint, records_synced bigint, file_id bigint);
"""


@pytest.fixture(scope="module", autouse=True)
def stage(warehouse_dsn: str) -> Iterator[None]:
    """The scratch database, with the registry loaded and empty stage relations."""
    prepare_warehouse()
    with connect() as conn:
        conn.execute(STAGE_DDL)
    yield


def expected_rows(*units: str, period: str = PERIOD) -> list[tuple[str, str, str, str]]:
    """``int_submissions__expected`` for ``units``, as the registry defines it."""
    return [(u, period, indicator.code, service) for u in units for indicator, service in REGISTRY.expected_rows(u)]


def run(
    values: Iterable[Value] = (),
    *,
    published: Iterable[Published] = (),
    expected: Iterable[tuple[str, str, str, str]] = (),
    files: Iterable[File] = (),
    now: dt.datetime = LONG_AFTER,
    publication: bool = True,
    held: Iterable[tuple[str, str]] = (),
) -> list[Finding]:
    """Fill the stage, run every check over PERIOD, return ``gate_finding``; nothing is kept."""
    with connect() as conn:
        try:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into intermediate.int_indicator_values__resolved"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            v.unit,
                            v.indicator,
                            v.service,
                            v.period,
                            v.numerator,
                            v.denominator,
                            None if v.rate is None else Decimal(v.rate),
                            v.file_id,
                            v.source_kind,
                        )
                        for v in values
                    ],
                )
                cur.executemany(
                    "insert into marts.fct_indicator_monthly values (%s, %s, %s, %s, %s, %s)",
                    [(p.unit, p.indicator, p.service, p.period, p.numerator, p.denominator) for p in published],
                )
                cur.executemany("insert into intermediate.int_submissions__expected values (%s, %s, %s, %s)", expected)
                cur.executemany(
                    """insert into audit.load_ledger (file_id, batch_id, file_name, source_kind, sha256, size_bytes,
                           unit_code, period, received_at, status, rows_read, rows_loaded, rows_quarantined,
                           archive_path)
                       values (%s, 'test', %s, %s, %s, 1, %s, %s, %s, %s, 0, 0, 0, 'archive')""",
                    [
                        (
                            f.file_id,
                            f.name,
                            f.source_kind,
                            f"{f.file_id:064x}",
                            f.unit,
                            f.period,
                            f.received_at,
                            f.status,
                        )
                        for f in files
                    ],
                )
                cur.executemany(
                    """insert into audit.violation (check_code, severity, unit_code, period, first_run_id, last_run_id)
                       values ('numerator_exceeds_denominator', 'error', %s, %s, 'earlier', 'earlier')""",
                    list(held),
                )
            if not publication:
                conn.execute("drop table marts.fct_indicator_monthly")
            find_violations(conn, REGISTRY, CheckScope((PERIOD,), {PERIOD: DEADLINE}, now))
            rows = conn.execute(
                'select check_code, unit_code, indicator_code, service_code, period, "values", file_id'
                " from gate_finding"
            ).fetchall()
        finally:
            conn.rollback()
    return [Finding(*r) for r in rows]


def keys(found: list[Finding], check: str) -> set[tuple[str, str | None, str | None, str]]:
    """The findings of ``check``: (unit, indicator, service, period)."""
    return {(f.unit, f.indicator, f.service, f.period) for f in found if f.check == check}


def finding(found: list[Finding], check: str, unit: str, indicator: str | None = None) -> Finding:
    (only,) = [
        f for f in found if f.check == check and f.unit == unit and (indicator is None or f.indicator == indicator)
    ]
    return only


def row(unit: str, indicator: str, service: str = NA) -> tuple[str, str, str, str]:
    return (unit, indicator, service, PERIOD)


def test_registry_declares_what_these_tests_assume() -> None:
    indicators = REGISTRY.indicators
    assert (indicators[TOTAL_FLOW].denominator_kind, indicators[TOTAL_FLOW].measure_type) == ("total", "flow")
    assert (indicators[TOTAL_STOCK].denominator_kind, indicators[TOTAL_STOCK].measure_type) == ("total", "stock")
    assert (indicators[TARGET_STOCK].denominator_kind, indicators[TARGET_STOCK].measure_type) == ("target", "stock")
    assert len(C) >= 23 and DT_COMMUNES
    assert {u: REGISTRY.units[u].kind for u in ("AG.CAT", "AG.STP", "AG.SNV", "DT.CAT")} == dict.fromkeys(
        ("AG.CAT", "AG.STP", "AG.SNV", "DT.CAT"), "department"
    )
    # The funnels of the issue: civil-registry total >= scanned >= entered >= synced; e-ID
    # registered >= activated; cards received >= delivered.
    assert {code: [str(s) for s in f.steps] for code, f in FUNNELS.items()} == {
        "civil_registry_digitisation": ["HT_SCANNED.denominator", "HT_SCANNED", "HT_ENTERED", "HT_SYNCED"],
        "eid_accounts": ["VNEID_REGISTERED", "VNEID_ACTIVATED"],
        "citizen_id_cards": ["CCCD_CARDS_RECEIVED", "CCCD_CARDS_DELIVERED"],
    }
    assert [(p.code, p.total_service, p.figures) for p in REGISTRY.parts] == [
        ("services_within_all_services", NA, ("numerator", "denominator"))
    ]
    assert set(PARTS_RULE.indicator_codes) == {c for c, i in indicators.items() if i.has_service}
    assert len(SERVICES) >= 2
    default = REGISTRY.tolerances.default
    assert default.rate_mismatch_pp == Decimal("0.05")
    assert (default.count_jump.factor, default.count_jump.min_base) == (5, 100)
    assert JUMP_OVERRIDE == "CCCD_APPLICATIONS"
    assert REGISTRY.tolerances.for_indicator(JUMP_OVERRIDE).count_jump.factor == 10
    outlier = default.rate_outlier
    assert (outlier.confidence_pct, outlier.overdispersion, outlier.winsorise_pct) == (Decimal("99.8"), "additive", 10)
    assert len(REGISTRY.checks) == 13


# --- numerator_exceeds_denominator, over_target -------------------------------------------------


def test_numerator_exceeds_denominator_fires_for_a_total_kind_row_and_over_target_for_a_target_kind_row() -> None:
    found = run(
        [
            Value(C[0], TOTAL_FLOW, 856, 849, "100.82"),  # total kind: an error
            Value(C[1], TARGET_STOCK, 1200, 1000, "120"),  # a quota exceeded: info only
        ]
    )
    assert keys(found, "numerator_exceeds_denominator") == {row(C[0], TOTAL_FLOW)}
    assert finding(found, "numerator_exceeds_denominator", C[0]).values == {
        "numerator": 856,
        "denominator": 849,
        "reported_rate": 100.82,
    }
    assert keys(found, "over_target") == {row(C[1], TARGET_STOCK)}
    assert finding(found, "over_target", C[1]).values["rate"] == 120
    # 856 / 849 = 100.8245 %: the stated 100,82 is right.
    assert keys(found, "rate_mismatch") == set()


def test_numerator_exceeds_denominator_and_over_target_are_quiet_up_to_the_denominator() -> None:
    found = run(
        [
            Value(C[0], TOTAL_FLOW, 849, 849, "100"),
            Value(C[1], TOTAL_FLOW, 848, 849, "99.88"),
            Value(C[2], TARGET_STOCK, 1000, 1000, "100"),
            Value(C[3], TARGET_STOCK, 999, 1000, "99.9"),
        ]
    )
    assert keys(found, "numerator_exceeds_denominator") == set()
    assert keys(found, "over_target") == set()


# --- rate_mismatch -----------------------------------------------------------------------------

# 5111 / 6194 = 82.51856...%: 82.52 to 2 decimals, 82.5 to 1, 83 to 0.
RATE_CASES = [
    ("82.5", False),  # "82,5": printed to 1 decimal, and right to 1 decimal
    ("82.52", False),
    ("82.57", False),  # 0.05 pp off: not more than the tolerance
    ("82.58", True),  # 0.06 pp
    ("82.6", True),  # 1 decimal: should read 82.5; 0.1 pp off
    ("82.4", True),
    ("83", False),  # printed without decimals: 82.52 rounds to 83
    ("82", True),
    (None, False),  # no stated rate: nothing to compare
]


def test_rate_mismatch_allows_for_the_precision_the_unit_printed() -> None:
    found = run(Value(C[i], TOTAL_FLOW, 5111, 6194, stated) for i, (stated, _) in enumerate(RATE_CASES))
    assert keys(found, "rate_mismatch") == {row(C[i], TOTAL_FLOW) for i, (_, fires) in enumerate(RATE_CASES) if fires}
    assert finding(found, "rate_mismatch", C[4]).values == {
        "numerator": 5111,
        "denominator": 6194,
        "reported_rate": 82.6,
        "computed_rate": 82.52,
    }
    assert keys(found, "false_full_rate") == set()


def test_rate_mismatch_is_quiet_for_correct_rates() -> None:
    found = run(
        [
            Value(C[0], TOTAL_FLOW, 5111, 6194, "82.52"),
            Value(C[1], TOTAL_FLOW, 1, 3, "33.33"),
            Value(C[2], TOTAL_FLOW, 2, 3, "66.7"),
            Value(C[3], TARGET_STOCK, 1250, 1000, "125"),
            Value(C[4], TOTAL_FLOW, 0, 0, "0"),  # no denominator: no rate to compute
        ]
    )
    assert keys(found, "rate_mismatch") == set()


def test_rate_mismatch_rounds_the_computed_rate_once_to_the_printed_precision() -> None:
    # 836 / 1003 = 83.349950...%: 83.3 to 1 decimal, and 83,3 is within 0.04995 pp of it anyway.
    found = run([Value(C[0], TOTAL_FLOW, 836, 1003, "83.3")])
    assert keys(found, "rate_mismatch") == set()


def test_rate_mismatch_rounds_a_tie_half_up_as_a_person_does() -> None:
    # 1 / 32 = 3.125 % exactly: 3.13 to 2 decimals.  3.07 is 0.06 pp below it (3.12 if the tie went
    # down: 0.05, within the tolerance); 3.18 is 0.05 pp above it (0.06 from 3.12).
    found = run(
        [
            Value(C[0], TOTAL_FLOW, 1, 32, "3.07"),
            Value(C[1], TOTAL_FLOW, 1, 32, "3.18"),
            Value(C[2], TOTAL_FLOW, 1, 32, "3.13"),
            Value(C[3], TOTAL_FLOW, 1, 8, "13"),  # 12.5 % printed without decimals: 13
            Value(C[4], TOTAL_FLOW, 1, 8, "12"),
        ]
    )
    assert keys(found, "rate_mismatch") == {row(C[0], TOTAL_FLOW), row(C[4], TOTAL_FLOW)}


def test_figures_too_large_for_whole_number_arithmetic_are_still_checked() -> None:
    # 10^17 x 2 x 10^4 does not fit a bigint: the rate is compared in numeric instead, and the
    # jump check's products too; neither may fail the gate.
    big = 10**17
    found = run(
        [
            Value(C[0], TOTAL_FLOW, big, 2 * big, "50"),
            Value(C[1], TOTAL_FLOW, big, 3 * big, "33.33"),
            Value(C[2], TOTAL_FLOW, big, 2 * big, "50.2"),  # 0.2 pp off
            *_jump(C[3], (big // 7, 4 * big), (big, 4 * big)),  # x7 on the numerator
            *_jump(C[4], (big // 4, 4 * big), (big, 4 * big)),  # x4
            *_jump(C[5], (9 * big, 9 * big), (9 * big, 90 * big)),  # the denominator x10, near the bigint limit
        ]
    )
    assert keys(found, "rate_mismatch") == {row(C[2], TOTAL_FLOW)}
    assert keys(found, "count_jump") == {row(C[3], TOTAL_FLOW), row(C[5], TOTAL_FLOW)}


# --- false_full_rate ---------------------------------------------------------------------------


def test_false_full_rate_fires_for_a_stated_100_below_the_denominator_even_when_it_rounds_to_100() -> None:
    found = run(
        [
            Value(C[0], TOTAL_FLOW, 6193, 6194, "100"),  # 99.9839 %: 100 at 0 decimals, 99.98 at 2
            Value(C[1], TOTAL_FLOW, 6193, 6194, "100.00"),
        ]
    )
    assert keys(found, "false_full_rate") == {row(C[0], TOTAL_FLOW), row(C[1], TOTAL_FLOW)}
    assert finding(found, "false_full_rate", C[0]).values["computed_rate"] == 99.9839
    # Rounded to the precision printed, 100 is not a mismatch: this check is the one that says so.
    assert keys(found, "rate_mismatch") == set()


def test_false_full_rate_is_quiet_for_a_full_or_an_honest_rate() -> None:
    found = run(
        [
            Value(C[0], TOTAL_FLOW, 6194, 6194, "100"),
            Value(C[1], TOTAL_FLOW, 6193, 6194, "99.98"),
            Value(C[2], TOTAL_FLOW, 6193, 6194, None),
            Value(C[3], TARGET_STOCK, 1010, 1000, "100"),  # above the quota, not below it
        ]
    )
    assert keys(found, "false_full_rate") == set()


# --- stock_decrease ----------------------------------------------------------------------------


def test_stock_decrease_compares_with_the_published_month_else_the_candidate_previous_month() -> None:
    found = run(
        [
            # published 5000; this month's candidate for February (4800) is not what officials read
            Value(C[0], TOTAL_STOCK, 4800, 8000, period=PREVIOUS),
            Value(C[0], TOTAL_STOCK, 4900, 8000),
            # nothing published for February: the candidate February value is the comparison
            Value(C[1], TOTAL_STOCK, 5000, 8000, period=PREVIOUS),
            Value(C[1], TOTAL_STOCK, 4900, 8000),
            # published 5000, candidate February 5200: 5100 is above what was published
            Value(C[2], TOTAL_STOCK, 5200, 8000, period=PREVIOUS),
            Value(C[2], TOTAL_STOCK, 5100, 8000),
            # unchanged is no decrease
            Value(C[3], TOTAL_STOCK, 5000, 8000),
            # a flow indicator may fall
            Value(C[4], TOTAL_FLOW, 400, 600),
            # a stock with no previous month at all
            Value(C[5], TOTAL_STOCK, 10, 8000),
        ],
        published=[
            Published(C[0], TOTAL_STOCK, 5000, 8000),
            Published(C[2], TOTAL_STOCK, 5000, 8000),
            Published(C[3], TOTAL_STOCK, 5000, 8000),
            Published(C[4], TOTAL_FLOW, 500, 600),
        ],
    )
    assert keys(found, "stock_decrease") == {row(C[0], TOTAL_STOCK), row(C[1], TOTAL_STOCK)}
    assert finding(found, "stock_decrease", C[0]).values == {
        "numerator": 4900,
        "denominator": 8000,
        "previous_period": PREVIOUS,
        "previous_numerator": 5000,
        "previous_denominator": 8000,
    }
    assert finding(found, "stock_decrease", C[1]).values["previous_numerator"] == 5000


def test_stock_decrease_falls_back_to_the_candidate_when_nothing_was_ever_published() -> None:
    found = run(
        [
            Value(C[0], TOTAL_STOCK, 5000, 8000, period=PREVIOUS),
            Value(C[0], TOTAL_STOCK, 4999, 8000),
            Value(C[1], TARGET_STOCK, 700, 1000, period=PREVIOUS),
            Value(C[1], TARGET_STOCK, 650, 1000),
        ],
        publication=False,
    )
    assert keys(found, "stock_decrease") == {row(C[0], TOTAL_STOCK), row(C[1], TARGET_STOCK)}


def test_a_held_previous_month_is_no_baseline_for_stock_decrease() -> None:
    # February's 5000 was held by an error (never published): March's 4999 is not compared with it.
    # C[1]'s February held nothing, so its candidate February value is the baseline.
    found = run(
        [
            Value(C[0], TOTAL_STOCK, 5000, 8000, period=PREVIOUS),
            Value(C[0], TOTAL_STOCK, 4999, 8000),
            Value(C[1], TOTAL_STOCK, 5000, 8000, period=PREVIOUS),
            Value(C[1], TOTAL_STOCK, 4999, 8000),
        ],
        held=[(C[0], PREVIOUS)],
    )
    assert keys(found, "stock_decrease") == {row(C[1], TOTAL_STOCK)}


def test_stock_decrease_is_quiet_when_stocks_grow_and_flows_fall() -> None:
    found = run(
        [
            Value(C[0], TOTAL_STOCK, 5000, 8000, period=PREVIOUS),
            Value(C[0], TOTAL_STOCK, 5300, 8000),
            Value(C[1], TARGET_STOCK, 700, 1000),
            Value(C[2], TOTAL_FLOW, 100, 600, period=PREVIOUS),
            Value(C[2], TOTAL_FLOW, 90, 550),
        ],
        published=[Published(C[1], TARGET_STOCK, 700, 1000), Published(C[3], TOTAL_STOCK, 9000, 9000)],
    )
    assert keys(found, "stock_decrease") == set()


# --- count_jump --------------------------------------------------------------------------------


def _jump(unit: str, before: tuple[int, int], after: tuple[int, int], indicator: str = TOTAL_FLOW) -> list[Value]:
    return [Value(unit, indicator, *before, period=PREVIOUS), Value(unit, indicator, *after)]


def test_count_jump_fires_beyond_the_factor_on_a_large_enough_base() -> None:
    found = run(
        [
            *_jump(C[0], (200, 5000), (1200, 5000)),  # x6 on a base of 200
            *_jump(C[1], (50, 5000), (300, 5000)),  # x6 on a base of 50: too small to matter
            *_jump(C[2], (600, 5000), (100, 5000)),  # /6
            *_jump(C[3], (200, 5000), (800, 5000)),  # x4
            *_jump(C[4], (200, 5000), (1000, 5000)),  # x5 exactly: not more than the factor
            *_jump(C[5], (100, 5000), (601, 5000)),  # base exactly min_base, x6.01
            *_jump(C[6], (99, 5000), (10, 5000)),  # /9.9 on a base of 99
            *_jump(C[7], (300, 400), (300, 2500)),  # the denominator x6.25
            *_jump(C[8], (150, 5000), (160, 5000)),  # but the published February was 1000: /6.25
            # CCCD_APPLICATIONS may jump up to x10 (collection drives)
            *_jump("AG.CAT", (200, 2000), (1200, 2000), JUMP_OVERRIDE),  # x6: within its factor
            *_jump("DT.CAT", (200, 2000), (2201, 2000), JUMP_OVERRIDE),  # x11.005
        ],
        published=[Published(C[8], TOTAL_FLOW, 1000, 5000)],
    )
    assert keys(found, "count_jump") == {
        row(C[0], TOTAL_FLOW),
        row(C[2], TOTAL_FLOW),
        row(C[5], TOTAL_FLOW),
        row(C[7], TOTAL_FLOW),
        row(C[8], TOTAL_FLOW),
        row("DT.CAT", JUMP_OVERRIDE),
    }
    assert finding(found, "count_jump", C[0]).values == {
        "numerator": 1200,
        "denominator": 5000,
        "previous_period": PREVIOUS,
        "previous_numerator": 200,
        "previous_denominator": 5000,
        "factor": 5,
    }
    assert finding(found, "count_jump", C[8]).values["previous_numerator"] == 1000
    assert finding(found, "count_jump", "DT.CAT").values["factor"] == 10


def test_count_jump_is_quiet_within_the_factor_or_on_a_small_base() -> None:
    found = run(
        [
            *_jump(C[0], (200, 5000), (800, 5000)),  # x4
            *_jump(C[1], (50, 5000), (300, 5000)),  # x6 on 50
            *_jump(C[2], (500, 5000), (101, 5000)),  # /4.95
            *_jump("AG.CAT", (200, 2000), (1990, 2000), JUMP_OVERRIDE),  # x9.95 within x10
            Value(C[3], TOTAL_FLOW, 5000, 5000),  # no previous month
        ]
    )
    assert keys(found, "count_jump") == set()


# --- funnel_break ------------------------------------------------------------------------------


def _civil_registry(unit: str, total: int, scanned: int, entered: int | None, synced: int) -> list[Value]:
    rows = [Value(unit, "HT_SCANNED", scanned, total), Value(unit, "HT_SYNCED", synced, scanned)]
    if entered is not None:
        rows.append(Value(unit, "HT_ENTERED", entered, total))
    return rows


def test_funnel_break_fires_where_a_step_exceeds_the_one_before_it() -> None:
    found = run(
        [
            *_civil_registry(C[0], 8000, 7000, 7100, 6000),  # entered > scanned
            *_civil_registry(C[1], 8000, 7000, 6500, 6600),  # synced > entered
            *_civil_registry(C[2], 8000, 8100, 7000, 6000),  # scanned > the total to digitise
            *_civil_registry(C[3], 8000, 8000, 8000, 8000),  # equal steps are fine
            Value(C[4], "VNEID_REGISTERED", 900, 1000),
            Value(C[4], "VNEID_ACTIVATED", 950, 1000),  # activated > registered
            Value(C[5], "VNEID_REGISTERED", 900, 1000),
            Value(C[5], "VNEID_ACTIVATED", 900, 1000),
            Value("AG.CAT", "CCCD_CARDS_RECEIVED", 500, 520),
            Value("AG.CAT", "CCCD_CARDS_DELIVERED", 510, 500),  # delivered > received
            Value("DT.CAT", "CCCD_CARDS_RECEIVED", 500, 520),
            Value("DT.CAT", "CCCD_CARDS_DELIVERED", 500, 500),
        ]
    )
    assert keys(found, "funnel_break") == {
        row(C[0], "HT_ENTERED"),
        row(C[1], "HT_SYNCED"),
        row(C[2], "HT_SCANNED"),
        row(C[4], "VNEID_ACTIVATED"),
        row("AG.CAT", "CCCD_CARDS_DELIVERED"),
    }
    assert finding(found, "funnel_break", C[0]).values == {
        "funnel": "civil_registry_digitisation",
        "upper_step": "HT_SCANNED",
        "upper_value": 7000,
        "lower_step": "HT_ENTERED",
        "lower_value": 7100,
    }
    assert finding(found, "funnel_break", C[2]).values == {
        "funnel": "civil_registry_digitisation",
        "upper_step": "HT_SCANNED.denominator",
        "upper_value": 8000,
        "lower_step": "HT_SCANNED",
        "lower_value": 8100,
    }
    assert finding(found, "funnel_break", C[4]).values["funnel"] == "eid_accounts"


def test_funnel_break_is_quiet_for_ordered_steps_and_across_units() -> None:
    found = run(
        [
            *_civil_registry(C[0], 8000, 7000, 6500, 6000),
            *_civil_registry(C[1], 8000, 8000, 8000, 8000),
            # one unit's entered is never compared with another unit's scanned
            Value(C[2], "HT_SCANNED", 100, 8000),
            Value(C[3], "HT_ENTERED", 5000, 8000),
            Value(C[4], "VNEID_REGISTERED", 1200, 1000),
            Value(C[4], "VNEID_ACTIVATED", 1100, 1000),
            Value(C[5], "VNEID_ACTIVATED", 900, 1000),  # no registered row to compare with
            Value(C[6], "VNEID_REGISTERED", 500, 1000, period=PREVIOUS),  # another month
            Value(C[6], "VNEID_ACTIVATED", 900, 1000),
        ]
    )
    assert keys(found, "funnel_break") == set()


# --- parts_exceed_total ------------------------------------------------------------------------


def _services(unit: str, total: tuple[int, int] | None, *parts: tuple[int, int], indicator: str = SERVICE_INDICATOR):
    rows = [Value(unit, indicator, *figures, service=s) for s, figures in zip(SERVICES, parts, strict=False)]
    if total is not None:
        rows.append(Value(unit, indicator, *total, service=NA))
    return rows


def test_parts_exceed_total_fires_when_the_services_add_up_to_more_than_the_all_services_row() -> None:
    found = run(
        [
            *_services(C[0], (100, 200), (60, 100), (50, 90)),  # numerators 110 > 100
            *_services(C[1], (100, 200), (40, 120), (50, 90)),  # denominators 210 > 200
            *_services(C[2], (110, 190), (60, 100), (50, 90)),  # exactly the total
            *_services(C[3], None, (60, 100), (50, 90)),  # no total row
            *_services(C[4], (100, 200)),  # no parts
            # every service indicator is covered, each on its own
            *_services(C[5], (10, 100), (20, 60), indicator=SECOND_SERVICE_INDICATOR),
            *_services(C[2], None, (500, 600), indicator=SECOND_SERVICE_INDICATOR),
        ]
    )
    assert keys(found, "parts_exceed_total") == {
        row(C[0], SERVICE_INDICATOR),
        row(C[1], SERVICE_INDICATOR),
        row(C[5], SECOND_SERVICE_INDICATOR),
    }
    assert finding(found, "parts_exceed_total", C[0]).values == {
        "numerator_total": 100,
        "numerator_parts": 110,
        "denominator_total": 200,
        "denominator_parts": 190,
        "rule": "services_within_all_services",
    }
    assert finding(found, "parts_exceed_total", C[1]).values["denominator_parts"] == 210


def test_parts_exceed_total_is_quiet_within_the_total() -> None:
    found = run(
        [
            *_services(C[0], (110, 190), (60, 100), (50, 90)),
            *_services(C[1], (500, 900), (60, 100), (50, 90)),
            *_services(C[2], None, (60, 100), (50, 90)),
            Value(C[3], TOTAL_FLOW, 10, 100),
        ]
    )
    assert keys(found, "parts_exceed_total") == set()


# --- rate_outlier ------------------------------------------------------------------------------


def percentile_linear(ordered: Sequence[float], q: float) -> float:
    """The q-quantile, interpolating linearly between the closest ranks (position (N - 1) q)."""
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def percentile_nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-quantile as the nearest rank: winsorising the ceil(N q) most extreme at each end."""
    k = math.ceil(len(ordered) * min(q, 1 - q))
    return ordered[k] if q < 0.5 else ordered[len(ordered) - 1 - k]


@dataclass(frozen=True)
class FunnelPlot:
    pooled: float
    phi: float
    tau2: float
    z: list[float]
    """Plain binomial z-scores."""
    z_adjusted: list[float]
    """Additively adjusted for overdispersion."""


def funnel_plot(
    figures: Sequence[tuple[int, int]],
    winsorise: float = 0.10,
    percentile: Callable[[Sequence[float], float], float] = percentile_linear,
) -> FunnelPlot:
    """Spiegelhalter, "Handling over-dispersion of performance indicators", Qual Saf Health Care
    2005;14:347-351, with the pooled rate as target and the additive (random-effects) model."""
    count = len(figures)
    pooled = sum(n for n, _ in figures) / sum(d for _, d in figures)
    variances = [pooled * (1 - pooled) / d for _, d in figures]  # s_i^2
    z = [(n / d - pooled) / math.sqrt(s2) for (n, d), s2 in zip(figures, variances, strict=True)]
    ordered = sorted(z)
    low, high = percentile(ordered, winsorise), percentile(ordered, 1 - winsorise)
    phi = sum(min(max(score, low), high) ** 2 for score in z) / count
    weights = [1 / s2 for s2 in variances]
    if count * phi > count - 1:
        tau2 = (count * phi - (count - 1)) / (sum(weights) - sum(w * w for w in weights) / sum(weights))
    else:
        tau2 = 0.0
    adjusted = [(n / d - pooled) / math.sqrt(s2 + tau2) for (n, d), s2 in zip(figures, variances, strict=True)]
    return FunnelPlot(pooled, phi, tau2, z, adjusted)


LIMIT = statistics.NormalDist().inv_cdf(1 - 0.002 / 2)
"""Two-sided 99.8 %: 3.09."""

# Twenty communes reporting one indicator in one month, of very different sizes, around 86 %.
OUTLIER_GROUP = [
    (3, 4),  # 75 % of 4: far too little to tell
    (750, 1000),  # 75 % of 1000: clearly below the others
    (412, 480),
    (1530, 1800),
    (655, 760),
    (268, 310),
    (98, 115),
    (1250, 1390),  # 89.9 %: outside plain binomial limits, inside once overdispersion is allowed for
    (540, 620),
    (326, 402),
    (880, 1010),
    (173, 205),
    (2020, 2350),
    (127, 150),
    (1720, 1850),  # 93 % of 1850: clearly above
    (455, 522),
    (1105, 1297),
    (61, 70),
    (702, 845),
    (239, 268),
]


def outliers(figures: Sequence[tuple[int, int]], **options: Any) -> set[int]:
    """Positions of the units outside the adjusted limits."""
    plot = funnel_plot(figures, **options)
    return {i for i, z in enumerate(plot.z_adjusted) if abs(z) > LIMIT}


def test_rate_outlier_uses_binomial_funnel_limits_with_additive_overdispersion_within_a_kind_of_unit() -> None:
    plot = funnel_plot(OUTLIER_GROUP)
    expected = outliers(OUTLIER_GROUP)
    # What the hand computation says, and that the data show what the rule is about: overdispersion
    # is present (phi > 1), and widening the limits for it clears a unit plain limits would flag.
    assert round(LIMIT, 2) == 3.09
    assert expected == {1, 14}
    assert {i for i, z in enumerate(plot.z) if abs(z) > LIMIT} == {1, 7, 14}
    assert plot.phi > 1 and plot.tau2 > 0
    # The verdict does not hang on how the 10 % percentiles are interpolated.
    assert outliers(OUTLIER_GROUP, percentile=percentile_nearest_rank) == expected
    assert all(abs(abs(z) - LIMIT) > 0.5 for z in plot.z_adjusted)

    found = run(
        [Value(C[i], TOTAL_FLOW, n, d) for i, (n, d) in enumerate(OUTLIER_GROUP)]
        # three departments with extreme rates: too few of their kind, and not pooled with communes
        + [
            Value("AG.SNV", TOTAL_FLOW, 10, 1000),
            Value("DT.SNV", TOTAL_FLOW, 1000, 1000),
            Value("AG.CAT", TOTAL_FLOW, 5, 5000),
        ]
    )
    assert keys(found, "rate_outlier") == {row(C[i], TOTAL_FLOW) for i in expected}
    # A commune at 3/4 is not flagged, one at 750/1000 with the same rate is.
    assert row(C[0], TOTAL_FLOW) not in keys(found, "rate_outlier")
    assert row(C[1], TOTAL_FLOW) in keys(found, "rate_outlier")
    for i in expected:
        values = finding(found, "rate_outlier", C[i]).values
        n, d = OUTLIER_GROUP[i]
        assert values["numerator"] == n and values["denominator"] == d
        assert values["rate"] == round(100 * n / d, 2)
        assert values["pooled_rate"] == round(100 * plot.pooled, 2)
        assert values["z"] == pytest.approx(plot.z_adjusted[i], abs=0.006)
        assert values["limit"] == 3.09
        assert values["units"] == len(OUTLIER_GROUP)


def test_rate_outlier_needs_ten_units_of_a_kind() -> None:
    ten = [*OUTLIER_GROUP[2:7], *OUTLIER_GROUP[8:12], (750, 1000)]
    assert len(ten) == 10 and outliers(ten) == {9}
    found = run(Value(C[i], TOTAL_FLOW, n, d) for i, (n, d) in enumerate(ten))
    assert keys(found, "rate_outlier") == {row(C[9], TOTAL_FLOW)}

    nine = ten[1:]
    assert outliers(nine) == {8}  # outside the limits, but nine communes are no funnel plot
    found = run(Value(C[i], TOTAL_FLOW, n, d) for i, (n, d) in enumerate(nine))
    assert keys(found, "rate_outlier") == set()


def test_rate_outlier_is_quiet_when_the_communes_agree() -> None:
    group = [figures for i, figures in enumerate(OUTLIER_GROUP) if i not in (1, 7, 14)]
    assert outliers(group) == set()
    found = run(Value(C[i], TOTAL_FLOW, n, d) for i, (n, d) in enumerate(group))
    assert keys(found, "rate_outlier") == set()


# --- missing_row -------------------------------------------------------------------------------


def _sent(unit: str, *, leave_out: Iterable[tuple[str, str]] = (), file_id: int, kind: str = "template") -> list[Value]:
    """The unit's expected rows (plausible figures), except ``leave_out`` (indicator, service)."""
    skip = set(leave_out)
    return [
        Value(unit, indicator.code, 50, 100, service=service, file_id=file_id, source_kind=kind)
        for indicator, service in REGISTRY.expected_rows(unit)
        if (indicator.code, service) not in skip
    ]


def test_missing_row_fires_for_an_expected_row_a_template_lacks() -> None:
    expected = expected_rows(C[0], C[1], C[2], C[3]) + expected_rows(C[0], period=PREVIOUS)
    # the service indicator's all-services row is not expected of a commune
    assert (C[0], PERIOD, SERVICE_INDICATOR, NA) not in expected
    found = run(
        [
            *_sent(C[0], leave_out=[(SERVICE_INDICATOR, SERVICES[1]), ("HT_SYNCED", NA)], file_id=11),
            # a narrative report: a few figures, no template to complete
            Value(C[1], TOTAL_FLOW, 10, 20, file_id=12, source_kind="narrative"),
            # C[2] sent nothing (missing_submission's business)
            # C[3]'s template lacks one row that its narrative report gave
            *_sent(C[3], leave_out=[("HT_SCANNED", NA)], file_id=14),
            Value(C[3], "HT_SCANNED", 10, 20, file_id=15, source_kind="narrative"),
        ],
        expected=expected,
    )
    assert keys(found, "missing_row") == {row(C[0], SERVICE_INDICATOR, SERVICES[1]), row(C[0], "HT_SYNCED")}
    missing = finding(found, "missing_row", C[0], "HT_SYNCED")
    assert (missing.values, missing.file_id) == ({"file_id": 11}, 11)


def test_missing_row_is_quiet_for_a_complete_template_without_optional_rows() -> None:
    found = run(
        [
            *_sent(C[0], file_id=11),  # no all-services (NA) row: optional
            Value(C[1], TOTAL_FLOW, 10, 20, file_id=12, source_kind="narrative"),
        ],
        expected=expected_rows(C[0], C[1]),
    )
    assert keys(found, "missing_row") == set()


# --- missing_submission ------------------------------------------------------------------------


def _submissions_at(now: dt.datetime) -> list[Finding]:
    return run(
        [Value(C[0], TOTAL_FLOW, 10, 20, file_id=21)],
        expected=expected_rows(C[0], C[1], C[2], "AG.STP", DT_COMMUNES[0]),
        files=[
            File(21, C[0], DEADLINE - dt.timedelta(days=3)),
            File(22, C[2], DEADLINE - dt.timedelta(days=3)),  # loaded, though no row came through
        ],
        now=now,
    )


def test_missing_submission_fires_once_the_deadline_has_passed() -> None:
    found = _submissions_at(DEADLINE)
    # C[1] and Sở Tư pháp sent nothing; Đồng Tháp has no submissions at all this month.
    assert keys(found, "missing_submission") == {(C[1], None, None, PERIOD), ("AG.STP", None, None, PERIOD)}
    missing = finding(found, "missing_submission", C[1])
    assert dt.datetime.fromisoformat(missing.values["deadline"]) == DEADLINE
    assert missing.file_id is None


def test_missing_submission_is_quiet_before_the_deadline() -> None:
    assert keys(_submissions_at(DEADLINE - SECOND), "missing_submission") == set()


# --- late_submission ---------------------------------------------------------------------------


def test_late_submission_fires_from_the_deadline_instant_by_first_receipt() -> None:
    found = run(
        [
            Value(C[0], TOTAL_FLOW, 10, 20, file_id=31),
            Value(C[1], TOTAL_FLOW, 10, 20, file_id=32),
            Value(C[2], TOTAL_FLOW, 10, 20, file_id=33),
            Value(C[3], TOTAL_FLOW, 10, 20, file_id=34),
            Value(C[3], TOTAL_STOCK, 10, 20, file_id=35, source_kind="narrative"),
        ],
        files=[
            File(31, C[0], DEADLINE - SECOND),  # the last second of the deadline day
            File(32, C[1], DEADLINE),  # the first second after it
            File(33, C[2], DEADLINE + dt.timedelta(days=2)),
            File(34, C[3], DEADLINE - dt.timedelta(days=2)),  # first receipt on time ...
            File(35, C[3], DEADLINE + dt.timedelta(days=2), source_kind="narrative"),  # ... a later one late
        ],
    )
    assert keys(found, "late_submission") == {(C[1], None, None, PERIOD), (C[2], None, None, PERIOD)}
    late = finding(found, "late_submission", C[1])
    assert late.file_id == 32
    assert dt.datetime.fromisoformat(late.values["received_at"]) == DEADLINE
    assert dt.datetime.fromisoformat(late.values["deadline"]) == DEADLINE


def test_late_submission_is_quiet_one_second_before_the_deadline() -> None:
    found = run(
        [Value(C[0], TOTAL_FLOW, 10, 20, file_id=31)],
        files=[File(31, C[0], DEADLINE - SECOND)],
    )
    assert keys(found, "late_submission") == set()


def test_late_submission_is_quiet_for_a_correction_after_an_on_time_submission() -> None:
    # File 41 came on time; file 42 replaced it after the deadline, so the candidate rows are 42's.
    found = run(
        [Value(C[0], TOTAL_FLOW, 12, 20, file_id=42)],
        files=[File(41, C[0], DEADLINE - dt.timedelta(days=1)), File(42, C[0], DEADLINE + dt.timedelta(days=3))],
    )
    assert keys(found, "late_submission") == set()
