"""Receipt time and the deadline (issue 9, item 4), against the real warehouse and dbt.

Timeliness is judged by the time the warehouse first received a file (ingest time, a time
supplied with ``d06 ingest --received-at``, or the inbox's ``received.csv``), never by the file's
modification time; the deadline is the end of the deadline day in Asia/Ho_Chi_Minh, from one
setting that Python and dbt both read.  Every expected value is worked out by hand in comments.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from conftest import environment

from ingest.cli import main as d06
from ingest.config import ConfigError, report_deadline_day
from ingest.demo import HEADERS_VI, demo_rows
from ingest.landing.adapters import LandingContext, is_received_file
from ingest.landing.land import land_paths
from ingest.landing.receipt import ReceiptTimeError, arrivals, parse_receipt_time, read_manifest
from ingest.landing.replay import replay_period
from ingest.pipeline import build_models, prepare_warehouse
from ingest.registry import load_registry
from ingest.submissions.periods import deadline_day, is_on_time, report_deadline
from ingest.submissions.template import GUIDE_SHEET, write_template
from ingest.warehouse.db import connect

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = dt.UTC
PERIOD = "2026-03"


# --- the deadline, in Python ----------------------------------------------------------------


def test_the_deadline_is_the_end_of_the_tenth_of_the_next_month_in_vietnam() -> None:
    # March 2026 is due on 10/04/2026; late from 11/04/2026 00:00 +07:00 (= 10/04 17:00 UTC).
    assert report_deadline_day() == 10
    assert deadline_day(PERIOD) == dt.date(2026, 4, 10)
    assert report_deadline(PERIOD) == dt.datetime(2026, 4, 11, 0, 0, tzinfo=VN)
    assert report_deadline(PERIOD) == dt.datetime(2026, 4, 10, 17, 0, tzinfo=UTC)
    assert report_deadline("2026-12") == dt.datetime(2027, 1, 11, 0, 0, tzinfo=VN)


@pytest.mark.parametrize(
    ("received", "on_time"),
    [
        (dt.datetime(2026, 4, 10, 23, 59, tzinfo=VN), True),  # the last minute of the deadline day
        (dt.datetime(2026, 4, 10, 23, 59, 59, 999999, tzinfo=VN), True),
        (dt.datetime(2026, 4, 11, 0, 0, tzinfo=VN), False),  # the next day has begun in Vietnam
        (dt.datetime(2026, 4, 10, 16, 59, tzinfo=UTC), True),  # 23:59 in Vietnam
        (dt.datetime(2026, 4, 10, 17, 30, tzinfo=UTC), False),  # still the 10th in UTC, the 11th in Vietnam
        (dt.datetime(2026, 3, 31, 9, 0, tzinfo=VN), True),
    ],
)
def test_deadline_edges_are_judged_in_vietnam_time(received: dt.datetime, on_time: bool) -> None:
    assert is_on_time(received, PERIOD) is on_time


def test_the_deadline_day_is_one_setting_validated_to_a_day_every_month_has() -> None:
    with environment(D06_REPORT_DEADLINE_DAY="15"):
        assert deadline_day(PERIOD) == dt.date(2026, 4, 15)
        assert report_deadline(PERIOD) == dt.datetime(2026, 4, 16, 0, 0, tzinfo=VN)
    for bad in ("0", "29", "31", "mười"):
        with environment(D06_REPORT_DEADLINE_DAY=bad), pytest.raises(ConfigError, match="D06_REPORT_DEADLINE_DAY"):
            report_deadline_day()


def test_the_template_states_the_deadline_from_the_setting() -> None:
    import openpyxl

    for day, expected in (("10", "10/04/2026"), ("15", "15/04/2026")):
        buf = io.BytesIO()
        with environment(D06_REPORT_DEADLINE_DAY=day):
            write_template(load_registry(), "AG.STP", PERIOD, buf)
        buf.seek(0)
        sheet = openpyxl.load_workbook(buf)[GUIDE_SHEET]
        text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
        assert f"Hạn nộp: ngày {expected} (hết ngày {int(day)} của tháng liền sau kỳ báo cáo" in text


# --- receipt times and the manifest, without a database --------------------------------------


def test_a_receipt_time_without_an_offset_is_vietnam_time() -> None:
    assert parse_receipt_time("2026-04-10T23:59") == dt.datetime(2026, 4, 10, 23, 59, tzinfo=VN)
    assert parse_receipt_time(" 2026-04-10T17:30:00Z ") == dt.datetime(2026, 4, 10, 17, 30, tzinfo=UTC)
    assert parse_receipt_time("2026-04-10 16:30:00+07:00") == dt.datetime(2026, 4, 10, 9, 30, tzinfo=UTC)
    for bad in ("10/04/2026", "2026-04-31T10:00", "hôm qua", ""):
        with pytest.raises(ReceiptTimeError):
            parse_receipt_time(bad)


def _manifest(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "received.csv").write_text(text, encoding="utf-8")


def test_the_manifest_is_read_line_by_line_and_a_bad_line_only_costs_its_file(tmp_path: Path) -> None:
    _manifest(
        tmp_path,
        "file_name,received_at\n"
        "a.csv,2026-04-09T10:00:00+07:00\n"
        "b.csv,10/04/2026\n"  # not ISO 8601
        "c.csv,2026-04-08T08:00,extra\n"  # three columns
        "d.csv,2026-04-01T08:00\n"
        "d.csv,2026-04-02T08:00\n"  # listed twice: neither time is trusted
        "\n",
    )
    manifest = read_manifest(tmp_path)
    assert manifest.times == {"a.csv": dt.datetime(2026, 4, 9, 10, 0, tzinfo=VN)}
    assert set(manifest.problems) == {"b.csv", "c.csv", "d.csv"}
    assert manifest.unusable is None


def test_arrivals_order_by_receipt_time_then_name_never_by_mtime(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for name in ("a.csv", "b.csv", "c.csv", "z.csv"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    os.utime(tmp_path / "z.csv", (0, 0))  # the oldest mtime: must not matter
    _manifest(tmp_path, "file_name,received_at\nc.csv,2026-04-02T08:00\nb.csv,2026-04-03T08:00\na.csv,bad\n")
    found = arrivals(sorted(tmp_path.iterdir()), now=now)
    assert [(a.path.name, a.source) for a in found] == [
        ("c.csv", "manifest"),
        ("b.csv", "manifest"),
        ("a.csv", "ingest"),  # its line is unreadable: received now, with a notice
        ("z.csv", "ingest"),
    ]
    assert found[2].received_at == now and found[2].notice is not None
    assert found[3].notice is None
    assert "received.csv" not in [a.path.name for a in found]
    supplied = arrivals(sorted(tmp_path.iterdir()), now=now, received_at=dt.datetime(2026, 4, 1, tzinfo=VN))
    assert [(a.path.name, a.source) for a in supplied] == [
        (n, "supplied") for n in ("a.csv", "b.csv", "c.csv", "z.csv")
    ]


def test_an_unreadable_manifest_costs_every_file_its_listed_time_but_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "received.csv").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "a.csv").write_text("x", encoding="utf-8")
    assert read_manifest(tmp_path).unusable is not None
    (found,) = arrivals([tmp_path / "a.csv"], now=dt.datetime(2026, 11, 30, tzinfo=UTC))
    assert found.source == "ingest" and found.notice is not None
    _manifest(tmp_path, "ten_tep;thoi_diem\na.csv;2026-04-02T08:00\n")  # the wrong header
    assert read_manifest(tmp_path).unusable is not None


def test_the_manifest_is_not_a_submission(tmp_path: Path) -> None:
    _manifest(tmp_path, "file_name,received_at\n")
    assert not is_received_file(tmp_path / "received.csv")


def test_an_unparseable_received_at_is_refused_in_one_line_in_both_languages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_text("x", encoding="utf-8")
    assert d06(["ingest", str(path), "--received-at", "10/04/2026 16:30"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "không phải thời điểm ISO 8601" in err and "not an ISO 8601 time" in err


# --- in the warehouse -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> str:
    prepare_warehouse()
    return warehouse_dsn


def _submission(path: Path, unit: str, period: str = PERIOD) -> Path:
    """A valid submission of ``unit`` (the demo's figures)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS_VI)
        w.writerows(demo_rows(load_registry(), load_registry().units[unit], period))
    return path


def _ingest(*argv: str) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        d06(["ingest", *argv, "--period", PERIOD, "--json"])
    return json.loads(out.getvalue())


def _ledger(dsn: str, name: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select received_at, received_at_source, notices from audit.load_ledger where file_name = %s", (name,)
        ).fetchone()
    assert row is not None, name
    return tuple(row)


def _timeliness(dsn: str, *units: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select unit_code, timeliness from marts.fct_submission where period = %s and unit_code = any(%s)",
            (PERIOD, list(units)),
        ).fetchall()
    return dict(rows)


@pytest.mark.warehouse
@pytest.mark.slow
def test_supplied_receipt_times_are_recorded_and_drive_timeliness(warehouse: str, tmp_path: Path) -> None:
    # 23:59 in Vietnam on the 10th: on time.  00:00 on the 11th: late.  17:30 UTC on the 10th is
    # 00:30 on the 11th in Vietnam: late, although the UTC date is still the 10th.
    cases = {
        "AG.SYT": ("2026-04-10T23:59", dt.datetime(2026, 4, 10, 16, 59, tzinfo=UTC), "on_time"),
        "AG.SGDDT": ("2026-04-11T00:00:00+07:00", dt.datetime(2026, 4, 10, 17, 0, tzinfo=UTC), "late"),
        "AG.SKHCN": ("2026-04-10T17:30:00Z", dt.datetime(2026, 4, 10, 17, 30, tzinfo=UTC), "late"),
    }
    for unit, (supplied, stored, _) in cases.items():
        path = _submission(tmp_path / unit / f"{unit}.csv", unit)
        (outcome,) = _ingest(str(path), "--received-at", supplied)["files"]
        assert outcome["status"] == "loaded"
        assert _ledger(warehouse, path.name)[:2] == (stored, "supplied")
    build_models()
    assert _timeliness(warehouse, *cases) == {unit: c[2] for unit, c in cases.items()}


@pytest.mark.warehouse
@pytest.mark.slow
def test_a_copied_file_keeps_its_receipt_time_and_timeliness(warehouse: str, tmp_path: Path) -> None:
    unit = "AG.STC"
    gateway = tmp_path / "gateway"
    path = _submission(gateway / f"{unit}_{PERIOD}.csv", unit)
    _manifest(gateway, f"file_name,received_at\n{path.name},2026-04-08T09:00:00+07:00\n")
    late_mtime = dt.datetime(2026, 5, 20, 9, 0, tzinfo=VN).timestamp()  # what a later copy leaves
    os.utime(path, (late_mtime, late_mtime))
    (outcome,) = _ingest(str(gateway))["files"]
    assert outcome["status"] == "loaded"
    first = _ledger(warehouse, path.name)
    assert first[:2] == (dt.datetime(2026, 4, 8, 2, 0, tzinfo=UTC), "manifest")
    copy = tmp_path / "copied" / path.name
    copy.parent.mkdir()
    shutil.copy(path, copy)  # a new mtime, no manifest
    (again,) = _ingest(str(copy))["files"]
    assert again["status"] == "duplicate"
    assert _ledger(warehouse, path.name) == first
    build_models()
    assert _timeliness(warehouse, unit) == {unit: "on_time"}


@pytest.mark.warehouse
@pytest.mark.slow
def test_without_a_known_time_a_file_is_received_when_it_is_ingested(warehouse: str, tmp_path: Path) -> None:
    path = _submission(tmp_path / "AG.THUE.csv", "AG.THUE")
    os.utime(path, (0, 0))  # 1970: never used
    before = dt.datetime.now(UTC)
    _ingest(str(path))
    received_at, source, _ = _ledger(warehouse, path.name)
    assert source == "ingest"
    assert before <= received_at <= dt.datetime.now(UTC)


@pytest.mark.warehouse
@pytest.mark.slow
def test_a_malformed_manifest_line_falls_back_to_ingest_time_with_a_notice(warehouse: str, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    good = _submission(inbox / "AG.SNV.csv", "AG.SNV")
    bad = _submission(inbox / "AG.SNNMT.csv", "AG.SNNMT")
    _manifest(inbox, f"file_name,received_at\n{good.name},2026-04-09 10:00\n{bad.name},ngày 9/4\nx\n")
    before = dt.datetime.now(UTC)
    files = {f["file_name"]: f["status"] for f in _ingest(str(inbox))["files"]}
    assert files == {good.name: "loaded", bad.name: "loaded"}, "the manifest itself is not landed"
    assert _ledger(warehouse, good.name)[:2] == (dt.datetime(2026, 4, 9, 3, 0, tzinfo=UTC), "manifest")
    received_at, source, notices = _ledger(warehouse, bad.name)
    assert source == "ingest" and received_at >= before
    assert [n["code"] for n in notices] == ["receipt_manifest_unreadable"]
    assert "ngày 9/4" in notices[0]["message_en"]
    with connect() as conn:
        assert conn.execute("select count(*) from audit.load_ledger where file_name = 'received.csv'").fetchone() == (
            0,
        )


@pytest.mark.warehouse
@pytest.mark.slow
def test_replay_keeps_the_receipt_time_and_its_source(warehouse: str, tmp_path: Path) -> None:
    inbox = tmp_path / "replayed"
    path = _submission(inbox / "AG.SXD.csv", "AG.SXD")
    _manifest(inbox, f"file_name,received_at\n{path.name},2026-04-07T15:45:00+07:00\n")
    ctx = LandingContext(load_registry(), dt.date(2026, 11, 30), PERIOD)
    with connect() as conn:
        land_paths(conn, [path], batch_id="replayed", ctx=ctx)
        query = "select file_name, received_at, received_at_source from audit.load_ledger where period = %s"
        before = sorted(conn.execute(query, (PERIOD,)).fetchall())
        replay_period(conn, PERIOD)
        after = sorted(conn.execute(query, (PERIOD,)).fetchall())
    assert after == before
    assert (path.name, dt.datetime(2026, 4, 7, 8, 45, tzinfo=UTC), "manifest") in after


@pytest.mark.warehouse
@pytest.mark.slow
def test_the_deadline_day_setting_changes_python_and_dbt_alike(warehouse: str, tmp_path: Path) -> None:
    # Received at 00:00 on 11/04 (Vietnam): late by the 10th, on time by the 15th.
    unit = "AG.SCT"
    _ingest(str(_submission(tmp_path / f"{unit}.csv", unit)), "--received-at", "2026-04-11T00:00")
    try:
        with environment(D06_REPORT_DEADLINE_DAY="15"):
            prepare_warehouse()  # the registry sync writes the setting for dbt
            build_models()
            assert report_deadline(PERIOD) == dt.datetime(2026, 4, 16, 0, 0, tzinfo=VN)
            with psycopg.connect(warehouse) as conn:
                (deadline,) = conn.execute(
                    "select report_deadline from marts.dim_period where period = %s", (PERIOD,)
                ).fetchone()  # type: ignore[misc]
            assert deadline == dt.date(2026, 4, 15)
            assert _timeliness(warehouse, unit) == {unit: "on_time"}
    finally:
        prepare_warehouse()
        build_models()
    assert _timeliness(warehouse, unit) == {unit: "late"}
