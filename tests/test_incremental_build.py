"""The monthly build is incremental by period (issue 10 §7): a run rebuilds the months that
changed (new or revised files, a reopened month, a changed violation) and keeps the others; a
revised month is replaced whole, and the month after it is compared with the revision.  The
months kept are untouched (their rows are the same row versions), and what the incremental
builds leave is what a full refresh builds.

Every expected figure is computed by hand from the files the tests write.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.pipeline import build_models, prepare_warehouse
from ingest.registry import load_registry
from ingest.submissions.periods import close_period, reopen_period
from ingest.transform.scope import build_scope
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
HEADER = ["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator", "reported_rate"]
TODAY = dt.date(2026, 11, 30)
UNIT, INDICATOR, SERVICE = "AG.CAT", "DVC_ONLINE_RECEIVED", "DV01"
JAN, FEB, MAR = "2026-01", "2026-02", "2026-03"


def _land(folder: Path, name: str, period: str, numerator: int, denominator: int) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [HEADER, [UNIT, period, INDICATOR, SERVICE, numerator, denominator, ""]]
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(out.getvalue(), encoding="utf-8")
    with connect() as conn:
        outcomes = land_paths(conn, [path], batch_id=name, ctx=LandingContext(load_registry(), TODAY, period))
    return outcomes[0].status


def _rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with connect() as conn:
        return conn.execute(sql, params).fetchall()


def _fact(period: str) -> tuple[Any, ...]:
    (row,) = _rows(
        """select numerator, denominator, publication_status from marts.fct_indicator_monthly
           where unit_code = %s and indicator_code = %s and service_code = %s and period = %s""",
        UNIT,
        INDICATOR,
        SERVICE,
        period,
    )
    return row


def _scorecard(period: str) -> tuple[Any, ...]:
    (row,) = _rows(
        """select rate_pct, previous_rate_pct, change_pp from marts.mart_unit_scorecard_monthly
           where unit_code = %s and indicator_code = %s and service_code = %s and period = %s""",
        UNIT,
        INDICATOR,
        SERVICE,
        period,
    )
    return tuple(None if v is None else float(v) for v in row)


def _row_versions(period: str) -> list[tuple[Any, ...]]:
    """The physical row versions of a month on the stage: the same when the month was kept."""
    return _rows(
        "select ctid::text, xmin::text from intermediate.int_indicator_values__resolved where period = %s order by 1",
        period,
    )


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    prepare_warehouse()
    folder = tmp_path_factory.mktemp("files")
    for period, numerator in ((JAN, 500), (FEB, 600), (MAR, 700)):
        assert _land(folder, f"{period}.csv", period, numerator, 1000) == "loaded"
    build_models()
    return folder


def test_the_first_build_builds_every_month(warehouse: Path) -> None:
    assert [_fact(p) for p in (JAN, FEB, MAR)] == [
        (500, 1000, "published"),
        (600, 1000, "published"),
        (700, 1000, "published"),
    ]
    # 70 % in March against 60 % in February.
    assert _scorecard(MAR) == (70.0, 60.0, 10.0)
    # Nothing changed since: the stage has no month to rebuild.
    assert build_scope("stage").periods == ()


def test_a_revised_month_is_replaced_and_the_next_month_compared_with_it(warehouse: Path) -> None:
    january = _row_versions(JAN)
    assert _land(warehouse, "feb-revised.csv", FEB, 650, 1000) == "loaded"
    assert build_scope("stage").periods == (FEB,)
    build_models()
    assert _fact(FEB) == (650, 1000, "published")
    assert _scorecard(FEB) == (65.0, 50.0, 15.0)
    # March's own figures did not change; what it is compared with did: 70 - 65.
    assert _scorecard(MAR) == (70.0, 65.0, 5.0)
    assert _fact(JAN) == (500, 1000, "published")
    assert _row_versions(JAN) == january, "January was rebuilt though nothing in it changed"


def test_a_reopened_month_is_rebuilt_with_the_file_its_lock_held(warehouse: Path) -> None:
    with connect() as conn:
        assert close_period(conn, JAN, "Văn phòng thường trực")
    # Loaded after January was closed: recorded, but held out of the figures.
    _land(warehouse, "jan-late.csv", JAN, 550, 1000)
    build_models()
    assert _fact(JAN) == (500, 1000, "published")
    with connect() as conn:
        assert reopen_period(conn, JAN)
    assert JAN in (build_scope("stage").periods or ())
    build_models()
    assert _fact(JAN) == (550, 1000, "published")
    # February (65 %) is now compared with 55 %.
    assert _scorecard(FEB) == (65.0, 55.0, 10.0)


FACTS = (
    "select * from marts.fct_indicator_monthly",
    "select * from marts.mart_unit_scorecard_monthly",
    "select * from marts.mart_province_scorecard_monthly",
)


def test_the_incremental_builds_leave_what_a_full_refresh_builds(warehouse: Path) -> None:
    before = [sorted(map(repr, _rows(q))) for q in FACTS]
    build_models(full_refresh=True)
    after = [sorted(map(repr, _rows(q))) for q in FACTS]
    assert after == before
    assert len(before[0]) >= 3


def test_a_changed_registry_rebuilds_every_month(warehouse: Path) -> None:
    with connect() as conn:
        conn.execute("update registry.unit set unit_name = unit_name || ' ' where unit_code = %s", (UNIT,))
    assert build_scope("stage").periods is None
    prepare_warehouse()  # the registry reloaded as it was
    assert build_scope("stage").periods == ()
