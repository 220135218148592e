"""Fault tests of the landing path (issue 12 §5), with real processes, a real file system and the
real PostgreSQL:

* the loader is killed (SIGKILL) in the middle of a COPY: no row of its batch is visible, no
  ledger row either, and running it again loads every row once;
* the disk holding the raw archive is full while files are archived (a 256 KiB tmpfs): the
  landing stops with a clear bilingual error, no ledger row exists without its archived file,
  and once there is room the same inbox lands whole.

Expected counts are the rows the test writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import environment

from ingest.config import archive_dir
from ingest.pipeline import prepare_warehouse
from ingest.registry import load_registry

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
COMMUNES = sorted(u.code for u in load_registry().units.values() if u.kind == "commune" and u.valid_to is None)
HEADER = "extract_date,commune_code,record_type,records_total,records_scanned,records_entered,records_synced\n"
TYPES = ("khai_sinh", "ket_hon", "khai_tu", "nhan_cha_me_con", "thay_doi_ho_tich", "khac")


def _civil_registry(path: Path, rows: int) -> int:
    """A civil-registry extract of ``rows`` valid rows (formats.md §3)."""
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for i in range(rows):
            commune, kind = COMMUNES[i % len(COMMUNES)], TYPES[(i // len(COMMUNES)) % len(TYPES)]
            f.write(f"2026-03-31,{commune},{kind},{100 + i % 7},90,80,70\n")
    return rows


def _d06(*args: str) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("d06")
    return subprocess.Popen(
        [str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _one(dsn: str, query: str) -> object:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
    return row[0] if row else None


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> Iterator[str]:
    prepare_warehouse()
    yield warehouse_dsn


def _wait_for_copy(dsn: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = _one(
            dsn,
            "select count(*) from pg_stat_activity where datname = current_database() and state = 'active'"
            " and query ilike 'copy %civil_registry_count%'",
        )
        if running:
            return
        assert proc.poll() is None, f"the loader ended before its COPY began: {proc.communicate()}"
        time.sleep(0.05)
    pytest.fail("the loader's COPY never started")


def test_a_loader_killed_mid_copy_leaves_nothing_and_a_retry_converges(warehouse: str, tmp_path: Path) -> None:
    path = tmp_path / "hotich_AG_2026-03-31.csv"
    rows = _civil_registry(path, 1_500_000)
    proc = _d06("ingest", str(path), "--period", "2026-03")
    _wait_for_copy(warehouse, proc)
    time.sleep(0.5)  # well inside the COPY: rows are on their way
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 60  # the server notices the lost client and rolls its transaction back
    while _one(warehouse, "select count(*) from pg_stat_activity where query ilike 'copy %civil_registry%'"):
        assert time.monotonic() < deadline, "the killed loader's COPY is still running"
        time.sleep(0.1)
    assert _one(warehouse, "select count(*) from raw.civil_registry_count") == 0
    assert _one(warehouse, "select count(*) from audit.load_ledger") == 0

    again = _d06("ingest", str(path), "--period", "2026-03")
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-2000:]
    assert _one(warehouse, "select count(*) from raw.civil_registry_count") == rows
    ledger = "select rows_read, rows_loaded, rows_quarantined, status from audit.load_ledger"
    with psycopg.connect(warehouse) as conn:
        assert conn.execute(ledger).fetchall() == [(rows, rows, 0, "loaded")]


def _mount_small_disk(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")


def test_a_full_archive_disk_stops_the_landing_with_no_ledger_row_left_behind(warehouse: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = _one(warehouse, "select coalesce(max(file_id), 0) from audit.load_ledger")
    with environment(D06_DATA_DIR=str(data)):
        archive = archive_dir()
        _mount_small_disk(archive)
        try:
            inbox = tmp_path / "inbox"
            inbox.mkdir()
            small = _civil_registry(inbox / "hotich_AG_2026-03-15.csv", 100)
            large = _civil_registry(inbox / "hotich_AG_2026-03-31.csv", 20_000)  # ~0.9 MB: does not fit
            proc = _d06("ingest", str(inbox), "--period", "2026-03")
            _, err = proc.communicate(timeout=300)
            assert proc.returncode != 0
            assert "kho lưu trữ" in err and "raw archive" in err and "No space left on device" in err
            assert "Traceback" not in err
            with psycopg.connect(warehouse) as conn:
                paths = conn.execute(
                    "select archive_path from audit.load_ledger where file_id > %s", (before,)
                ).fetchall()
            assert all(Path(p).is_relative_to(archive) and Path(p).is_file() for (p,) in paths), (
                "a ledger row without its archived file"
            )
            assert not list(archive.glob("**/.incoming.*")), "a partial copy left in the archive"
        finally:
            subprocess.run(["umount", str(archive)], check=True)
        proc = _d06("ingest", str(inbox), "--period", "2026-03")
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    with psycopg.connect(warehouse) as conn:
        landed = conn.execute(
            "select file_name, rows_loaded from audit.load_ledger where archive_path like %s order by 1",
            (f"{data}%",),
        ).fetchall()
    assert landed == [("hotich_AG_2026-03-15.csv", small), ("hotich_AG_2026-03-31.csv", large)]
