"""`make bench`, part 4: a national month through the landing path, against naive pandas and `psql \\copy`.

The country has 34 provinces after the 2025 merger.  The registry holds two (AG, DT); the bench
adds 32 synthetic ones, each a copy of An Giang's current units under another code, to a copy
of the registry (``D06_REGISTRY_DIR``), and writes every unit's demo submission for one month.
Only structured files (CSV, XLSX, JSON) are kept, so that the three loaders read the same files.

Printed, measured side by side in one run on the same files:
  * our landing path (every validation, ledger, quarantine, archive; parsing on every core);
  * a naive loop a typical user would write: pandas ``read_*`` + ``to_sql`` per file;
  * ``psql \\copy`` of the same rows, already clean, in one CSV: the floor.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import psycopg
import sqlalchemy

from ingest.config import warehouse_parts
from ingest.warehouse.db import scratch_database

PERIOD = "2026-03"
SYNTHETIC_PROVINCES = 32
STRUCTURED = {".csv", ".xlsx", ".json"}


def national_registry(folder: Path) -> None:
    """A copy of the registry with 32 synthetic provinces cloned from An Giang's current units."""
    source = Path(__file__).resolve().parents[1] / "ingest" / "registry"
    shutil.copytree(source, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with (source / "units.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    template = [r for r in rows if r["province_code"] == "AG" and not r["valid_to"]]
    with (folder / "units.csv").open("a", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        for i in range(1, SYNTHETIC_PROVINCES + 1):
            code = f"P{i:02d}"
            for r in template:
                clone = dict(r)
                for key in ("unit_code", "parent_code", "province_code"):
                    if clone[key] == "AG" or clone[key].startswith("AG."):
                        clone[key] = code + clone[key][2:]
                clone["gso_code"] = ""
                clone["unit_name"] = clone["unit_name"].replace("An Giang", f"Tỉnh thử {code}")
                clone["contact_email"] = clone["contact_email"].replace("angiang", code.lower())
                w.writerow(clone)


def write_inbox(inbox: Path) -> tuple[list[Path], int]:
    from ingest.demo import write_demo_inbox
    from ingest.landing.receipt import is_manifest
    from ingest.registry import load_registry

    registry = load_registry()
    provinces = ["AG", "DT", *(f"P{i:02d}" for i in range(1, SYNTHETIC_PROVINCES + 1))]
    write_demo_inbox(inbox, PERIOD, provinces, registry)
    files = sorted(p for p in (inbox / PERIOD).iterdir())
    for p in files:
        if p.suffix not in STRUCTURED and not is_manifest(p):
            p.unlink()  # the receipt manifest stays: it is the inbox's, not a submission
    kept = [p for p in files if p.suffix in STRUCTURED and not is_manifest(p)]
    return kept, len(kept)


def ours(dsn: str) -> tuple[float, dict[str, int]]:
    from ingest.pipeline import ingest_period

    os.environ["WAREHOUSE_DSN"] = dsn
    t0 = time.perf_counter()
    totals = ingest_period(PERIOD, run_id="bench-national")
    return time.perf_counter() - t0, totals


def naive_pandas(dsn: str, files: list[Path]) -> float:
    """pandas read_* + to_sql per file, with its defaults (what a typical user writes)."""
    p = warehouse_parts(dsn)
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://{p.user}:{p.password}@{p.host}:{p.port}/{p.dbname}")
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for path in files:
            if path.suffix == ".csv":
                frame = pd.read_csv(path, dtype=str)
            elif path.suffix == ".xlsx":
                frame = pd.read_excel(path, dtype=str)
            else:
                frame = pd.read_json(path, dtype=False)
            frame.astype(str).to_sql("naive_rows", conn, if_exists="append", index=False)
    secs = time.perf_counter() - t0
    engine.dispose()
    return secs


def psql_copy(dsn: str, tmp: Path) -> tuple[float, int]:
    """`psql \\copy` of the rows our loader landed, exported to one CSV, into the same table definition."""
    export = tmp / "rows.csv"
    with psycopg.connect(dsn) as conn:
        conn.execute("create table copy_rows (like raw.submission_row including defaults)")
        with export.open("wb") as f, conn.cursor().copy("copy raw.submission_row to stdout with (format csv)") as cp:
            for chunk in cp:
                f.write(chunk)
        (n,) = conn.execute("select count(*) from raw.submission_row").fetchone()  # type: ignore[misc]
    psql = shutil.which("psql") or next(Path("/usr/lib/postgresql").glob("*/bin/psql"), None)
    t0 = time.perf_counter()
    subprocess.run(
        [str(psql), dsn, "-q", "-c", f"\\copy copy_rows from '{export}' with (format csv)"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0, n


def bench_national(server_dsn: str) -> None:
    saved = {k: os.environ.get(k) for k in ("D06_REGISTRY_DIR", "D06_DATA_DIR", "WAREHOUSE_DSN")}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        national_registry(tmp / "registry")
        os.environ["D06_REGISTRY_DIR"] = str(tmp / "registry")
        os.environ["D06_DATA_DIR"] = str(tmp / "data")
        from ingest.registry import load_registry

        load_registry.cache_clear()
        files, n_files = write_inbox(tmp / "data" / "inbox")
        with scratch_database(server_dsn, "d06_bench_nat") as dsn:
            os.sync()  # each contender starts with the inbox's pages written back, none pays for that
            ours_s, totals = ours(dsn)
            os.sync()
            pandas_s = naive_pandas(dsn, files)
            os.sync()
            copy_s, copied = psql_copy(dsn, tmp)
        load_registry.cache_clear()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    print(
        f"4. a national month: {n_files:,} files, {totals['rows_read']:,} rows "
        f"({totals['rows_loaded']:,} loaded, {totals['rows_quarantined']:,} quarantined, "
        f"{totals['failed']} files failed)\n"
        f"   our landing path {ours_s:.1f}s ({n_files / ours_s:,.0f} files/s, {os.cpu_count()} cores);"
        f" naive pandas read_* + to_sql {pandas_s:.1f}s;"
        f" psql \\copy of the {copied:,} clean rows in one CSV {copy_s:.2f}s\n"
        f"   -> ours is {pandas_s / ours_s:.1f}x faster than naive pandas (target >= 5x)"
        f" and {ours_s / copy_s:.0f}x slower than \\copy (which validates nothing)"
    )
