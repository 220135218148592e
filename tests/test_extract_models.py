"""The source extracts through dbt (staging, intermediate, marts) and the gate, on a scratch
warehouse: a few hand-made rows in ``raw.civil_registry_count`` and ``raw.bhxh_verification``
(with their ledger rows, as the extracts' loader writes them) and a few submissions, then the
build an engineer runs (stage, audit, build, publish).

Every expected figure below is worked out by hand from the rows written here, never read from the
models' output:

* civil registry, 2026-03: the latest extract_date of the month wins (C1 khai_sinh: the 20th's
  1000/850/650/450 over the 5th's), a tie on the date goes to the latest file (C2 khai_sinh: file
  103's over file 102's), a rejected file's rows never count, February is its own month;
* BHXH: participant A pending -> verified, B verified -> mismatch, C new (pending), D unchanged
  (not counted); the month's early extract (A mismatch) is superseded by its late one;
* reconciliation: a commune against its own extract, departments (AG.STP, AG.BHXH) against the
  sum of An Giang's communes (the Đồng Tháp commune's rows are not theirs).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ingest.pipeline import build_models, prepare_warehouse
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

PERIOD, FEBRUARY = "2026-03", "2026-02"
C1, C2 = "AG.X.ANBIEN", "AG.X.ANCHAU"
"""Two current communes of An Giang (units.csv)."""
D1 = "DT.X.ANBINH"
"""A commune of Đồng Tháp: not in An Giang's sums."""
A, B, C, D, E = (letter * 64 for letter in "abcde")
"""Participant keys (pseudonyms, as the loader writes them: 64 hex digits)."""

# (file_id, source_kind, status, received_at)
FILES = [
    (101, "civil_registry", "loaded", "2026-03-10T09:00:00+07:00"),
    (102, "civil_registry", "loaded", "2026-03-25T09:00:00+07:00"),
    (103, "civil_registry", "loaded", "2026-03-28T09:00:00+07:00"),
    (104, "civil_registry", "rejected", "2026-04-01T09:00:00+07:00"),
    (105, "civil_registry", "loaded", "2026-02-28T09:00:00+07:00"),
    (201, "bhxh", "loaded", "2026-02-26T09:00:00+07:00"),
    (202, "bhxh", "loaded", "2026-03-06T09:00:00+07:00"),
    (203, "bhxh", "loaded", "2026-03-29T09:00:00+07:00"),
]
# (file_id, extract_date, commune, record_type, total, scanned, entered, synced)
CIVIL_REGISTRY = [
    (101, "2026-03-05", C1, "khai_sinh", 1000, 800, 600, 400),
    (101, "2026-03-05", C1, "ket_hon", 200, 150, 100, 50),
    (101, "2026-03-05", C2, "khai_sinh", 500, 400, 300, 200),
    (101, "2026-03-05", D1, "khai_sinh", 300, 200, 100, 50),
    (102, "2026-03-20", C1, "khai_sinh", 1000, 850, 650, 450),
    (102, "2026-03-20", C2, "khai_sinh", 500, 410, 310, 205),
    (103, "2026-03-20", C2, "khai_sinh", 500, 420, 320, 210),
    (103, "2026-03-20", C2, "ket_hon", 100, 90, 95, 80),  # entered above scanned: a funnel break
    (104, "2026-03-31", C1, "khai_sinh", 9999, 9999, 9999, 9999),  # a rejected file
    (105, "2026-02-27", C1, "khai_sinh", 900, 700, 500, 300),
]
# (file_id, extract_date, participant, commune, status)
BHXH = [
    (201, "2026-02-25", A, C1, "pending"),
    (201, "2026-02-25", B, C1, "verified"),
    (201, "2026-02-25", D, C1, "not_found"),
    (201, "2026-02-25", E, C2, "verified"),
    (202, "2026-03-05", A, C1, "mismatch"),
    (202, "2026-03-05", B, C1, "verified"),
    (203, "2026-03-28", A, C1, "verified"),
    (203, "2026-03-28", B, C1, "mismatch"),
    (203, "2026-03-28", C, C1, "pending"),
    (203, "2026-03-28", D, C1, "not_found"),
    (203, "2026-03-28", E, C2, "verified"),
]
# What units reported for March: (file_id, unit, indicator, numerator, denominator)
SUBMISSIONS = [
    (301, C1, "HT_SCANNED", 1000, 1200),
    (302, C2, "HT_SCANNED", 520, 600),
    (303, "AG.STP", "HT_SCANNED", 1512, 1800),
    (303, "AG.STP", "HT_SYNCED", 790, 1165),
    (304, "AG.BHXH", "BHXH_VERIFIED", 3, 5),
]


def _write_raw() -> None:
    submission_files = sorted({(f, u) for f, u, *_ in SUBMISSIONS})
    with connect() as conn, conn.cursor() as cur:
        cur.executemany(
            """insert into audit.load_ledger (file_id, batch_id, file_name, source_kind, sha256, size_bytes,
                   unit_code, period, received_at, status, rows_read, rows_loaded, rows_quarantined, archive_path)
               values (%s, 'b-extracts', %s, %s, %s, 1, %s, %s, %s, %s, 0, 0, 0, 'archive')""",
            [(f, f"f{f}.csv", kind, f"{f:064x}", None, None, at, status) for f, kind, status, at in FILES]
            + [
                (f, f"{u}.csv", "template", f"{f:064x}", u, PERIOD, "2026-04-05T09:00:00+07:00", "loaded")
                for f, u in submission_files
            ],
        )
        cur.executemany(
            """insert into raw.civil_registry_count (file_id, row_no, extract_date, commune_code, record_type,
                   records_total, records_scanned, records_entered, records_synced, batch_id)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'b-extracts')""",
            [(r[0], n, *r[1:]) for n, r in enumerate(CIVIL_REGISTRY, 1)],
        )
        cur.executemany(
            """insert into raw.bhxh_verification (file_id, row_no, extract_date, participant_key, commune_code,
                   status, batch_id)
               values (%s, %s, %s, %s, %s, %s, 'b-extracts')""",
            [(r[0], n, *r[1:]) for n, r in enumerate(BHXH, 1)],
        )
        cur.executemany(
            """insert into raw.submission_row (file_id, row_no, unit_code, period, indicator_code, service_code,
                   numerator, denominator, source_kind, batch_id, source_sha256)
               values (%s, %s, %s, %s, %s, 'NA', %s, %s, 'template', 'b-submissions', %s)""",
            [(f, n, u, PERIOD, i, num, den, f"{f:064x}") for n, (f, u, i, num, den) in enumerate(SUBMISSIONS, 1)],
        )


@pytest.fixture(scope="module", autouse=True)
def built(warehouse_dsn: str) -> None:
    prepare_warehouse()
    _write_raw()
    build_models(period=PERIOD)


def _rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with connect() as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def test_the_latest_extract_of_the_month_wins_and_rejected_files_never_count() -> None:
    rows = _rows(
        """select commune_code, record_type, period, extract_date, records_total, records_scanned,
                  records_entered, records_synced, file_id
           from intermediate.int_civil_registry__monthly order by period, commune_code, record_type"""
    )
    day = dt.date.fromisoformat
    assert rows == [
        (C1, "khai_sinh", FEBRUARY, day("2026-02-27"), 900, 700, 500, 300, 105),
        (C1, "ket_hon", PERIOD, day("2026-03-05"), 200, 150, 100, 50, 101),
        (C1, "khai_sinh", PERIOD, day("2026-03-20"), 1000, 850, 650, 450, 102),
        (C2, "ket_hon", PERIOD, day("2026-03-20"), 100, 90, 95, 80, 103),
        (C2, "khai_sinh", PERIOD, day("2026-03-20"), 500, 420, 320, 210, 103),  # the tie: the later file
        (D1, "khai_sinh", PERIOD, day("2026-03-05"), 300, 200, 100, 50, 101),
    ]


def test_the_funnel_mart_has_each_step_and_its_share() -> None:
    rows = _rows(
        """select commune_code, record_type, records_total, records_scanned, records_entered, records_synced,
                  scanned_share_pct, entered_share_pct, synced_share_pct, is_funnel_ordered
           from marts.mart_civil_registry_funnel_monthly where period = %s and commune_code like 'AG.%%'
           order by commune_code, record_type""",
        PERIOD,
    )
    assert rows == [
        # 150/200, 100/200, 50/100
        (C1, "ket_hon", 200, 150, 100, 50, Decimal("75.00"), Decimal("50.00"), Decimal("50.00"), True),
        # 850/1000, 650/1000, 450/650 = 69.23 %
        (C1, "khai_sinh", 1000, 850, 650, 450, Decimal("85.00"), Decimal("65.00"), Decimal("69.23"), True),
        # 90/100, 95/100, 80/95 = 84.21 %; entered above scanned
        (C2, "ket_hon", 100, 90, 95, 80, Decimal("90.00"), Decimal("95.00"), Decimal("84.21"), False),
        (C2, "khai_sinh", 500, 420, 320, 210, Decimal("84.00"), Decimal("64.00"), Decimal("65.63"), True),
    ]


def test_bhxh_monthly_counts_take_each_participants_status_in_the_latest_extract() -> None:
    rows = _rows(
        """select commune_code, period, participants, verified, mismatch, not_found, pending, verified_share_pct
           from marts.mart_bhxh_verification_monthly order by period, commune_code"""
    )
    assert rows == [
        (C1, FEBRUARY, 3, 1, 0, 1, 1, Decimal("33.33")),  # A pending, B verified, D not found
        (C2, FEBRUARY, 1, 1, 0, 0, 0, Decimal("100.00")),
        (C1, PERIOD, 4, 1, 1, 1, 1, Decimal("25.00")),  # A verified, B mismatch, C pending, D not found
        (C2, PERIOD, 1, 1, 0, 0, 0, Decimal("100.00")),
    ]


def test_bhxh_transitions_count_changes_from_the_previous_month() -> None:
    rows = _rows(
        """select commune_code, period, from_status, to_status, participants
           from marts.mart_bhxh_transitions_monthly order by period, commune_code, from_status, to_status"""
    )
    assert rows == [
        # February is the first month with an extract: everyone is new.
        (C1, FEBRUARY, "new", "not_found", 1),
        (C1, FEBRUARY, "new", "pending", 1),
        (C1, FEBRUARY, "new", "verified", 1),
        (C2, FEBRUARY, "new", "verified", 1),
        # March: C new, A pending -> verified, B verified -> mismatch; D and E did not change.
        (C1, PERIOD, "new", "pending", 1),
        (C1, PERIOD, "pending", "verified", 1),
        (C1, PERIOD, "verified", "mismatch", 1),
    ]


def test_reconciliation_compares_a_commune_with_its_own_extract_and_a_department_with_its_province() -> None:
    rows = _rows(
        """select unit_code, indicator_code, extract_source, extract_scope, extract_communes, reported_numerator,
                  extract_numerator, numerator_difference, reported_denominator, extract_denominator,
                  denominator_difference, tolerance_pct, system_of_record
           from intermediate.int_reconciliation__candidate where period = %s order by unit_code, indicator_code""",
        PERIOD,
    )
    half = Decimal("0.5")
    assert rows == [
        # An Giang's communes: records_total 1200 + 600, scanned 1000 + 510, entered 750 + 415,
        # synced 500 + 290; 2 of the 5 participants verified (A and E).
        ("AG.BHXH", "BHXH_VERIFIED", "bhxh", "province", 2, 3, 2, 1, 5, 5, 0, half, "extract"),
        ("AG.STP", "HT_SCANNED", "civil_registry", "province", 2, 1512, 1510, 2, 1800, 1800, 0, half, "extract"),
        ("AG.STP", "HT_SYNCED", "civil_registry", "province", 2, 790, 790, 0, 1165, 1165, 0, half, "extract"),
        (C1, "HT_SCANNED", "civil_registry", "commune", 1, 1000, 1000, 0, 1200, 1200, 0, half, "extract"),
        (C2, "HT_SCANNED", "civil_registry", "commune", 1, 520, 510, 10, 600, 600, 0, half, "extract"),
    ]


def test_the_reconciliation_mart_says_what_is_within_tolerance_and_never_shows_a_held_value() -> None:
    rows = _rows(
        """select unit_code, indicator_code, reported_numerator, extract_numerator, numerator_difference_pct,
                  reported_denominator, extract_denominator, is_within_tolerance, system_of_record
           from marts.mart_reconciliation_monthly where period = %s order by unit_code, indicator_code""",
        PERIOD,
    )
    assert rows == [
        # Tolerance: 0.5 % of the extract's figure.  1 of 2 is 50 %.
        ("AG.BHXH", "BHXH_VERIFIED", 3, 2, Decimal("50.00"), 5, 5, False, "extract"),
        # 2 <= 0.5 % of 1510 (7.55)
        ("AG.STP", "HT_SCANNED", 1512, 1510, Decimal("0.13"), 1800, 1800, True, "extract"),
        ("AG.STP", "HT_SYNCED", 790, 790, Decimal("0.00"), 1165, 1165, True, "extract"),
        (C1, "HT_SCANNED", 1000, 1000, Decimal("0.00"), 1200, 1200, True, "extract"),
        # C2 (10 above its extract's 510: beyond 2.55) is held by the error its extract's funnel break
        # opened, and nothing of it was published before: officials see no row.
    ]


def test_the_gate_records_reconciliation_gaps_and_the_extract_funnel_break() -> None:
    rows = _rows(
        """select check_code, unit_code, indicator_code, service_code, severity, "values"
           from audit.violation where period = %s and check_code in ('reconciliation_gap', 'funnel_break')
           order by check_code, unit_code""",
        PERIOD,
    )
    assert rows == [
        (
            "funnel_break", C2, "HT_ENTERED", "NA", "error",
            {"extract": "civil_registry", "funnel": "civil_registry_digitisation", "record_type": "ket_hon",
             "upper_step": "HT_SCANNED", "upper_measure": "records_scanned", "upper_value": 90,
             "lower_step": "HT_ENTERED", "lower_measure": "records_entered", "lower_value": 95,
             "record_types": ["ket_hon"]},
        ),
        (
            "reconciliation_gap", "AG.BHXH", "BHXH_VERIFIED", "NA", "warning",
            {"reported_numerator": 3, "extract_numerator": 2, "reported_denominator": 5, "extract_denominator": 5,
             "tolerance_pct": 0.5, "extract": "bhxh", "scope": "province", "system_of_record": "extract"},
        ),
        (
            "reconciliation_gap", C2, "HT_SCANNED", "NA", "warning",
            {"reported_numerator": 520, "extract_numerator": 510, "reported_denominator": 600,
             "extract_denominator": 600, "tolerance_pct": 0.5, "extract": "civil_registry", "scope": "commune",
             "system_of_record": "extract"},
        ),
    ]  # fmt: skip
