"""The one landing path, against the real warehouse: the data-loss and crash cases of issue 8.

Every expected value here is written by hand from the files the test builds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest

from ingest.landing.adapters import LandingContext, choose_adapter
from ingest.landing.land import land_bytes, land_paths, receive_bytes
from ingest.landing.model import Parsed
from ingest.landing.spool import Spool
from ingest.narrative.review import REVIEW_KEYWORD
from ingest.pipeline import build_models, prepare_warehouse
from ingest.registry import load_registry
from ingest.submissions import periods
from ingest.submissions.model import SubmissionRow
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
HEADER = ["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator", "reported_rate"]
TODAY = dt.date(2026, 11, 30)


def _csv_text(rows: list[list[Any]], header: list[str] = HEADER, delimiter: str = ",") -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def _write(path: Path, data: bytes, received: dt.datetime | None = None) -> Path:
    """Write a file; a receipt time goes in its folder's receipt manifest, as a mail gateway writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if received is not None:
        manifest = path.parent / "received.csv"
        lines = "" if manifest.exists() else "file_name,received_at\n"
        with manifest.open("a", encoding="utf-8") as f:
            f.write(f"{lines}{path.name},{received.isoformat()}\n")
    return path


def _land(*paths: Path, period: str | None = None, batch: str = "t") -> list[Any]:
    ctx = LandingContext(load_registry(), TODAY, period)
    with connect() as conn:
        return land_paths(conn, list(paths), batch_id=batch, ctx=ctx)


def _facts(dsn: str, unit: str, period: str) -> dict[str, tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select indicator_code, numerator, denominator, source_kind from marts.fct_indicator_monthly "
            "where unit_code = %s and period = %s and service_code = 'NA'",
            (unit, period),
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> str:
    prepare_warehouse()
    return warehouse_dsn


def test_returned_review_workbook_keeps_the_units_structured_figures(warehouse: str, tmp_path: Path) -> None:
    unit, period = "AG.STP", "2026-05"
    structured = [
        [unit, period, "HT_SCANNED", "NA", 5_500_000, 6_000_000, ""],
        [unit, period, "HT_ENTERED", "NA", 5_450_000, 6_000_000, ""],
        [unit, period, "HT_SYNCED", "NA", 5_400_000, 6_000_000, ""],
    ]
    template = _write(tmp_path / "AG.STP_2026-05.csv", _csv_text(structured).encode())
    # A review workbook, as write_review_workbook writes it, corrected by a person; a name
    # that does not say "ra_soat": it is recognised by its content.
    wb = openpyxl.Workbook()
    wb.properties.keywords = REVIEW_KEYWORD
    ws = wb.active
    assert ws is not None
    ws.title = "du_lieu"
    ws.append(["ma_don_vi", "ky_bao_cao", "ma_chi_tieu", "ma_dich_vu", "tu_so", "mau_so", "ty_le", "ghi_chu"])
    ws.append([unit, period, "TTHC_DIGITISED_DOSSIER", "", 120, 150, "", "Rà soát từ báo cáo văn bản, dòng 12"])
    buf = io.BytesIO()
    wb.save(buf)
    review = _write(tmp_path / "bao_cao_sua.xlsx", buf.getvalue())
    template_out, review_out = _land(template, review, period=period)
    assert (template_out.status, template_out.source_kind, template_out.rows_loaded) == ("loaded", "template", 3)
    assert (review_out.status, review_out.source_kind, review_out.rows_loaded) == ("loaded", "review", 1)
    build_models()
    facts = _facts(warehouse, unit, period)
    assert facts["HT_SCANNED"] == (5_500_000, 6_000_000, "template")
    assert facts["HT_ENTERED"] == (5_450_000, 6_000_000, "template")
    assert facts["HT_SYNCED"] == (5_400_000, 6_000_000, "template")
    assert facts["TTHC_DIGITISED_DOSSIER"] == (120, 150, "review")


def test_the_latest_revision_is_the_latest_received_not_the_last_name(warehouse: str, tmp_path: Path) -> None:
    unit, period = "AG.X.DINHHOA", "2026-05"
    final = [
        [unit, period, "HT_SCANNED", "NA", 900, 1000, ""],
        [unit, period, "HT_ENTERED", "NA", 800, 1000, ""],
    ]
    draft = [[unit, period, "HT_SCANNED", "NA", 1, 1000, ""]]
    final_path = _write(
        tmp_path / "AG.X.DINHHOA_final.csv", _csv_text(final).encode(), dt.datetime(2026, 6, 8, 9, tzinfo=dt.UTC)
    )
    draft_path = _write(
        tmp_path / "AG.X.DINHHOA_nhap.csv", _csv_text(draft).encode(), dt.datetime(2026, 6, 3, 9, tzinfo=dt.UTC)
    )
    _land(final_path, draft_path, period=period)
    build_models()
    facts = _facts(warehouse, unit, period)
    assert facts["HT_SCANNED"][:2] == (900, 1000)
    assert facts["HT_ENTERED"][:2] == (800, 1000)


def test_a_closed_month_cannot_be_changed_through_a_file_about_another_month(warehouse: str, tmp_path: Path) -> None:
    unit = "AG.X.BINHDUC"  # no other test of the module reports for it: no stock to fall from
    first = [[unit, "2026-06", "HT_SCANNED", "NA", 500, 1000, ""]]
    _land(_write(tmp_path / "june.csv", _csv_text(first).encode()), period="2026-06")
    build_models()
    assert _facts(warehouse, unit, "2026-06")["HT_SCANNED"][:2] == (500, 1000)
    with connect() as conn:
        periods.close_period(conn, "2026-06", "test")
    sneaky = [
        [unit, "2026-07", "HT_SCANNED", "NA", 600, 1000, ""],
        [unit, "2026-07", "HT_ENTERED", "NA", 550, 1000, ""],
        [unit, "2026-06", "HT_SCANNED", "NA", 1, 1000, ""],
    ]
    (outcome,) = _land(_write(tmp_path / "july.csv", _csv_text(sneaky).encode()))
    assert outcome.period == "2026-07" and outcome.held  # mostly July, but it touches closed June
    build_models()
    assert _facts(warehouse, unit, "2026-06")["HT_SCANNED"][:2] == (500, 1000)
    assert _facts(warehouse, unit, "2026-07")["HT_SCANNED"][:2] == (600, 1000)
    with connect() as conn:
        assert [f[1] for f in periods.held_files(conn, "2026-06")] == ["july.csv"]
        periods.reopen_period(conn, "2026-06")


def test_a_table_saved_as_txt_is_a_submission(warehouse: str, tmp_path: Path) -> None:
    rows = [
        ["AG.STP", "2026-05", "HT_SYNCED", "NA", 700, 1000, "70%"],
        ["AG.STP", "2026-05", "HT_SCANNED", "NA", 800, 1000, "80%"],
    ]
    # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated.
    unicode_text = _csv_text(rows, delimiter="\t").replace("\n", "\r\n").encode("utf-16")
    path = _write(tmp_path / "AG.STP_thang5.txt", unicode_text)
    with path.open("rb") as fp:
        assert choose_adapter(path.name, fp, LandingContext(load_registry(), TODAY)).kind == "template"
    (outcome,) = _land(path, period="2026-05")
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded", 2, 2)


def test_a_file_the_database_refuses_is_recorded_as_failed_and_the_batch_goes_on(warehouse: str) -> None:
    # (bytes that are no real submission, in a month no other test uses: a replay would reject them)
    good = receive_bytes(b"good", "good.csv", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), period="2025-12")
    bad = receive_bytes(b"bad", "bad.csv", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), period="2025-12")

    def parsed(received: Any, numerator: int) -> Parsed:
        spool = Spool.open(received.sha256, "template")
        spool.add(SubmissionRow(2, "AG.STP", "2025-12", "HT_SYNCED", "NA", numerator, None, Decimal("1"), None))
        return Parsed(received, "template", "loaded", spool.close())

    # 2**63 does not fit a bigint: PostgreSQL refuses the row (the parser would quarantine it,
    # but the store must survive whatever reaches it).
    batch = [parsed(good, 5), parsed(bad, 2**63)]
    from ingest.landing.land import _store

    with connect() as conn:
        outcomes = _store(conn, batch, "refused", lambda kind: None)
        ledger = {
            r[0]: r[1:]
            for r in conn.execute(
                "select file_name, status, rows_read, rows_loaded, rows_quarantined from audit.load_ledger "
                "where batch_id = 'refused'"
            ).fetchall()
        }
    assert [o.status for o in outcomes] == ["loaded", "failed"]
    assert ledger == {"good.csv": ("loaded", 1, 1, 0), "bad.csv": ("failed", 0, 0, 0)}
    assert "out of range" in (outcomes[1].error or "")


def test_the_same_bytes_twice_in_one_batch_land_once(warehouse: str, tmp_path: Path) -> None:
    data = _csv_text([["AG.STP", "2026-04", "HT_SYNCED", "NA", 1, 2, ""]]).encode()
    a, b = _write(tmp_path / "a.csv", data), _write(tmp_path / "b.csv", data)
    first, second = _land(a, b, period="2026-04")
    assert (first.status, second.status) == ("loaded", "duplicate")
    assert first.file_id == second.file_id
    with connect() as conn:  # the same bytes uploaded later (the portal's path) change nothing either
        third = land_bytes(
            conn, data, name="c.csv", batch_id="t", ctx=LandingContext(load_registry(), TODAY, "2026-04")
        )
    assert (third.status, third.file_id) == ("duplicate", first.file_id)


def test_two_landings_of_one_folder_at_once_serialise(warehouse: str, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    units = [u.code for u in load_registry().units.values() if u.code.startswith("AG.X.") and u.valid_to is None][:40]
    for i, code in enumerate(units):
        _write(folder / f"{code}.csv", _csv_text([[code, "2026-04", "HT_SYNCED", "NA", i, 1000, ""]]).encode())
    env = {**os.environ}
    cmd = [str(Path(sys.executable).parent / "d06"), "ingest", str(folder), "--period", "2026-04", "--json"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    import json

    statuses = [json.loads(out)["files"] for out, _ in results]
    loaded = sum(f["status"] == "loaded" for files in statuses for f in files)
    duplicate = sum(f["status"] == "duplicate" for files in statuses for f in files)
    assert (loaded, duplicate) == (len(units), len(units))
    with connect() as conn:
        (n,) = conn.execute(
            "select count(*) from audit.load_ledger where file_name = any(%s)", ([f"{c}.csv" for c in units],)
        ).fetchone()  # type: ignore[misc]
    assert n == len(units)


def test_replay_keeps_working_through_the_landing_path(warehouse: str) -> None:
    from ingest.landing.replay import replay_period

    with connect() as conn:
        before = conn.execute(
            "select file_id, status, rows_read, rows_loaded, rows_quarantined from audit.load_ledger "
            "where period = '2026-05' order by file_id"
        ).fetchall()
        replay_period(conn, "2026-05")
        after = conn.execute(
            "select file_id, status, rows_read, rows_loaded, rows_quarantined from audit.load_ledger "
            "where period = '2026-05' order by file_id"
        ).fetchall()
    assert before and after == before
