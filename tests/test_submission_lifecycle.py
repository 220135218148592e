"""Submissions over their life in the real warehouse: revisions, duplicates, closed periods,
replay from the raw archive, and a 500-file month loaded twice."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.cli import main as d06
from ingest.config import archive_dir, inbox_dir
from ingest.demo import demo_rows
from ingest.landing.replay import replay_period
from ingest.pipeline import build_models, ingest_period
from ingest.registry import load_registry
from ingest.submissions import periods
from ingest.warehouse.checksum import marts_checksum

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = "2026-03"
UNIT = "AG.STP"
HEADER = ["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator", "reported_rate"]


def _csv(path: Path, rows: list[list[Any]], mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _fact(dsn: str, indicator: str, service: str = "NA") -> tuple[Any, ...] | None:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select numerator, denominator, first_numerator, revision_count from marts.fct_indicator_monthly "
            "where unit_code = %s and period = %s and indicator_code = %s and service_code = %s",
            (UNIT, PERIOD, indicator, service),
        ).fetchone()


def _ingest(*paths: Path, period: str = PERIOD) -> dict[str, Any]:
    return d06_json(["ingest", *map(str, paths), "--period", period, "--json"])


def d06_json(argv: list[str]) -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        d06(argv)
    return json.loads(out.getvalue())


def test_corrected_file_replaces_and_keeps_revision(warehouse_dsn: str, tmp_path: Path) -> None:
    first = _csv(
        tmp_path / "v1" / "AG.STP.csv",
        [
            [UNIT, PERIOD, "HT_SYNCED", "", "1.000", "2.000", "50%"],
            [UNIT, PERIOD, "HN_CLEANED", "", "300", "1000", ""],
        ],
    )
    corrected = _csv(tmp_path / "v2" / "AG.STP.csv", [[UNIT, PERIOD, "HT_SYNCED", "", "1.500", "2.000", "75%"]])
    assert _ingest(first)["files"][0]["status"] == "loaded"
    assert _ingest(first)["files"][0]["status"] == "duplicate", "the same bytes again change nothing"
    assert _ingest(corrected)["files"][0]["status"] == "loaded"
    build_models()
    assert _fact(warehouse_dsn, "HT_SYNCED") == (1500, 2000, 1000, 2)
    assert _fact(warehouse_dsn, "HN_CLEANED") is None, "a corrected file replaces the unit-month as a whole"
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute("select count(*) from audit.load_ledger").fetchone() == (2,)


def test_closed_period_holds_late_files_until_reopened(warehouse_dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(warehouse_dsn) as conn:
        assert periods.close_period(conn, PERIOD, "test")
    late = _csv(tmp_path / "v3" / "AG.STP.csv", [[UNIT, PERIOD, "HT_SYNCED", "", "1.900", "2.000", "95%"]])
    outcome = _ingest(late)["files"][0]
    assert outcome["status"] == "loaded" and outcome["held"] is True
    build_models()
    assert _fact(warehouse_dsn, "HT_SYNCED")[0] == 1500, "closed: the official marts do not change"
    with psycopg.connect(warehouse_dsn) as conn:
        assert [f[2] for f in periods.held_files(conn, PERIOD)] == [UNIT]
        assert periods.reopen_period(conn, PERIOD)
    build_models()
    assert _fact(warehouse_dsn, "HT_SYNCED")[0] == 1900


def test_bad_rows_are_quarantined_with_file_row_column_and_reason(warehouse_dsn: str, tmp_path: Path) -> None:
    hostile = _csv(
        tmp_path / "..%2f..%2fetc%2fpasswd.csv",
        [
            [UNIT, PERIOD, "HT_SCANNED", "", "abc", "10", ""],
            [UNIT, PERIOD, "NO_SUCH_INDICATOR", "", "1", "10", ""],
            [UNIT, PERIOD, "HT_ENTERED", "", "-5", "10", ""],
            [UNIT, PERIOD, "HT_SYNCED", "", "=1+1", "10", ""],
        ],
    )
    outcome = _ingest(hostile)["files"][0]
    assert (outcome["rows_read"], outcome["rows_loaded"], outcome["rows_quarantined"]) == (4, 0, 4)
    assert "/" not in outcome["file_name"] and ".." not in outcome["file_name"].split("/")[0][:2]
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute(
            "select row_no, column_name, raw_value, reason_code, reason_vi from raw.quarantine "
            "where file_id = %s order by row_no",
            (outcome["file_id"],),
        ).fetchall()
        archived = conn.execute(
            "select archive_path from audit.load_ledger where file_id = %s", (outcome["file_id"],)
        ).fetchone()[0]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (2, "numerator", "abc"),
        (3, "indicator_code", "NO_SUCH_INDICATOR"),
        (4, "numerator", "-5"),
        (5, "numerator", "=1+1"),
    ]
    assert all(r[4] for r in rows), "every reason has a Vietnamese text"
    assert Path(archived).resolve().is_relative_to(archive_dir().resolve())


def test_empty_file_is_rejected_and_recorded(warehouse_dsn: str, tmp_path: Path) -> None:
    empty = tmp_path / "AG.SYT_empty.csv"
    empty.write_bytes(b"")
    outcome = _ingest(empty)["files"][0]
    assert outcome["status"] == "rejected" and "AG.SYT_empty.csv" in outcome["error"]
    with psycopg.connect(warehouse_dsn) as conn:
        status, period, error_vi = conn.execute(
            "select status, period, error_vi from audit.load_ledger where file_id = %s", (outcome["file_id"],)
        ).fetchone()
    assert (status, period) == ("rejected", PERIOD) and error_vi


def test_unsupported_format_is_rejected_recorded_and_explained(warehouse_dsn: str, tmp_path: Path) -> None:
    old_word = tmp_path / "AG.SYT_bao_cao.doc"
    old_word.write_bytes(b"\xd0\xcf\x11\xe0 an old Word file")
    outcome = _ingest(old_word)["files"][0]
    assert outcome["status"] == "rejected" and outcome["rows_read"] == 0
    with psycopg.connect(warehouse_dsn) as conn:
        error_vi, archived = conn.execute(
            "select error_vi, archive_path from audit.load_ledger where file_id = %s", (outcome["file_id"],)
        ).fetchone()
    assert ".doc" in error_vi and ".docx" in error_vi
    assert Path(archived).read_bytes() == old_word.read_bytes(), "nothing is lost"


def test_replay_from_raw_reproduces_the_marts(warehouse_dsn: str) -> None:
    build_models()
    with psycopg.connect(warehouse_dsn) as conn:
        before = marts_checksum(conn)
        replayed = replay_period(conn, PERIOD)
        conn.commit()
    assert len(replayed) >= 4
    build_models()
    with psycopg.connect(warehouse_dsn) as conn:
        assert marts_checksum(conn) == before


def test_a_500_file_month_loaded_twice_leaves_the_warehouse_identical(warehouse_dsn: str) -> None:
    registry = load_registry()
    period = "2026-02"
    units = [u for u in registry.reporting_units(registry.units["AG"].valid_from.replace(year=2026, month=2, day=28))]
    folder = inbox_dir() / period
    n = 0
    for version in range(1, 10):
        for unit in units:
            if n == 500:
                break
            rows = demo_rows(registry, unit, period)
            for r in rows:  # each version revises the figures a little
                r[4] = str(int(r[4].replace(".", "")) // version)
            _csv(folder / f"{unit.code}_{period}_v{version}.csv", [r[:7] for r in rows])
            n += 1
    assert n == 500
    first = ingest_period(period, run_id="big-1")
    assert first["files"] == 500 and first["loaded"] == 500
    build_models()
    with psycopg.connect(warehouse_dsn) as conn:
        before = marts_checksum(conn)
    second = ingest_period(period, run_id="big-2")
    assert second["duplicate"] == 500 and second["loaded"] == 0
    build_models()
    with psycopg.connect(warehouse_dsn) as conn:
        assert marts_checksum(conn) == before
        assert conn.execute("select count(*) from audit.load_ledger where period = %s", (period,)).fetchone() == (500,)
