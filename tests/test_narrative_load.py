"""A narrative report dropped in the inbox ends up as facts with lineage, or as review rows that
a person corrects and sends back through the normal submission path."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import psycopg
import pytest

from ingest.config import data_dir, inbox_dir
from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.pipeline import build_models, ingest_period
from ingest.registry import load_registry
from ingest.reporting.quality_report import collect, render
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
SAMPLE = Path(__file__).parent / "narrative" / "samples" / "000_912342d7bb84c32c.txt"
PERIOD = "2026-03"


@pytest.fixture(scope="module")
def loaded(warehouse_dsn: str) -> dict[str, int]:
    target = inbox_dir() / PERIOD / "STP_bao_cao_thang_3.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, target)
    totals = ingest_period(PERIOD, run_id="narrative")
    build_models()
    return totals


def test_confident_figures_become_facts_with_lineage(loaded: dict[str, int], warehouse_dsn: str) -> None:
    assert loaded["loaded"] == 1
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute(
            "select indicator_code, service_code, numerator, denominator, reported_rate_pct, source_line, snippet "
            "from marts.fct_indicator_monthly where unit_code = 'AG.STP' and period = %s and source_kind = 'narrative' "
            "order by indicator_code, service_code",
            (PERIOD,),
        ).fetchall()
    by_key = {(r[0], r[1]): r for r in rows}
    assert by_key[("DVC_ONLINE_RECEIVED", "DV13")][2:6] == (1363, 1365, 100, 52)
    assert "1363 hồ sơ trực tuyến/1365" in by_key[("DVC_ONLINE_RECEIVED", "DV13")][6]
    assert by_key[("HT_SYNCED", "NA")][2:4] == (5625798, 5625798)
    assert by_key[("HN_CLEANED", "NA")][2:4] == (3968, 11015)
    assert len(rows) == 8


def test_the_rest_goes_to_review_and_back_through_the_normal_path(loaded: dict[str, int], warehouse_dsn: str) -> None:
    assert loaded["rows_read"] == loaded["rows_loaded"] + loaded["rows_quarantined"]
    assert loaded["rows_quarantined"] == 1
    workbook = data_dir() / "review" / PERIOD / "STP_bao_cao_thang_3_ra_soat.xlsx"
    wb = openpyxl.load_workbook(workbook)
    ws = wb["du_lieu"]
    header = [c.value for c in ws[1]]
    row = {h: c.value for h, c in zip(header, ws[2], strict=False)}
    assert (row["ma_don_vi"], row["ky_bao_cao"], row["tu_so"], row["mau_so"]) == ("AG.STP", PERIOD, "7047", "11015")
    assert "còn phải thực hiện" in row["noi_dung_trich"]
    # A person decides what the figure is and sends the workbook back.
    ws.cell(row=2, column=header.index("ma_chi_tieu") + 1, value="HT_SCANNED")
    ws.cell(row=2, column=header.index("ma_dich_vu") + 1, value="")
    reviewed = inbox_dir() / PERIOD / "STP_ra_soat_da_sua.xlsx"
    wb.save(reviewed)
    with connect() as conn:
        ctx = LandingContext(load_registry(), dt.date.today(), PERIOD)
        (outcome,) = land_paths(conn, [reviewed], batch_id="review", ctx=ctx)
    # Recognised by its content (the workbook's keywords), not its name; it reviews narrative figures.
    assert (outcome.status, outcome.source_kind, outcome.rows_loaded) == ("loaded", "review", 1)
    build_models()
    with psycopg.connect(warehouse_dsn) as conn:
        fact = conn.execute(
            "select numerator, denominator, source_kind from marts.fct_indicator_monthly "
            "where unit_code = 'AG.STP' and period = %s and indicator_code = 'HT_SCANNED'",
            (PERIOD,),
        ).fetchone()
    assert fact == (7047, 11015, "review")


def test_consistency_findings_reach_the_quality_report(loaded: dict[str, int], warehouse_dsn: str) -> None:
    with psycopg.connect(warehouse_dsn) as conn:
        codes = {r[0] for r in conn.execute("select code, line_no from raw.narrative_finding").fetchall()}
    assert {"rate_mismatch", "full_rate_but_incomplete"} <= codes
    html = render(collect(PERIOD, "narrative"))
    assert "không nhất quán" in html and "1.363/1.365" in html
