"""`make bench`, part 7: the source extracts' loader against `psql \\copy` and pandas, at 1x and 4x.

One province's BHXH identity-verification extract (~1.6 million participants, formats.md §4:
personal data, pseudonymised by the loader) and a civil-registry extract of as many rows (§3: no
personal data), written to CSV; then, on the same data in one run, after a discarded warm-up:
  * ``psql \\copy`` of the rows our loader landed, exported to CSV, into the same table definition
    (``like raw.<table> including all``: its primary key too): the reference;
  * our loader (``ingest.landing.land.land_paths``, in a child process, so that its peak memory is
    its own), with pseudonymisation (BHXH) and without (civil registry);
  * pandas ``read_csv`` + ``to_sql`` with its and SQLAlchemy's defaults, what a typical user
    would write (``create_engine("postgresql://...")``, whose default driver is psycopg2;
    ``pd.read_csv(path)``; ``to_sql(..., if_exists="append", index=False)``, default method and
    chunksize), on a file of the extract's first ``BENCH_PANDAS_ROWS`` rows, as its rows/s does
    not depend on the size: ``pandas_to_sql_rows_per_s``.  The same with the psycopg 3 driver
    (``postgresql+psycopg://``) is recorded too (``pandas_psycopg3_to_sql_rows_per_s``);
  * the dbt build of the extract models after the load;
  * all of the above at 1x and 4x the data (``BENCH_EXTRACT_SCALES``), to show how cost grows.
Writes ``bench/results/latest.json`` and a chart, ``bench/results/latest.png``.

Targets: the loader with pseudonymisation >= 0.5x the \\copy rows/s, >= 0.8x without personal
data; >= 15x pandas; peak memory flat and under 300 MB; 4x the data in <= 4.5x the time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from ingest.config import warehouse_parts
from ingest.warehouse.db import scratch_database

ROWS = int(os.environ.get("BENCH_EXTRACT_ROWS", "1600000"))
"""BHXH participants of one province at 1x; the civil-registry file has as many rows."""
SCALES = tuple(int(s) for s in os.environ.get("BENCH_EXTRACT_SCALES", "1,4").split(","))
PANDAS_ROWS = int(os.environ.get("BENCH_PANDAS_ROWS", "100000"))
PROVINCE = "AG"
EXTRACT_DATE = dt.date(2026, 3, 28)
RESULTS = Path(__file__).with_name("results")
STATUSES = ("verified", "verified", "verified", "verified", "mismatch", "not_found", "pending")
RECORD_TYPES = ("khai_sinh", "ket_hon", "khai_tu", "nhan_cha_me_con", "thay_doi_ho_tich", "khac")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ")
GIVEN = ("Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thị Hoa", "Văn Hùng", "Ngọc Lan", "Thanh Tâm")


# --- the extracts --------------------------------------------------------------------------------


def communes(dsn: str) -> list[str]:
    """The province's communes in the registry (the loader checks commune codes against it)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select unit_code from registry.unit where unit_kind = 'commune' and province_code = %s order by 1",
            (PROVINCE,),
        ).fetchall()
    return [r[0] for r in rows]


def write_bhxh(path: Path, rows: int, units: list[str], seed: int) -> None:
    """A BHXH extract (formats.md §4) of ``rows`` fake participants, written as it is generated."""
    rng = random.Random(seed)
    day = EXTRACT_DATE.isoformat()
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("extract_date,bhxh_code,personal_id,full_name,birth_date,commune_code,status,status_at\n")
        lines = []
        for i in range(rows):
            pid = "" if i % 9 == 0 else f"0{rng.randrange(10**10, 10**11)}"
            name = f"{FAMILY[i % 10]} {GIVEN[rng.randrange(8)]}"
            born = f"{1940 + i % 66}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            status = STATUSES[rng.randrange(7)]
            lines.append(f"{day},{7900000000 + i},{pid},{name},{born},{units[i % len(units)]},{status},{day}\n")
            if len(lines) == 10_000:
                f.write("".join(lines))
                lines.clear()
        f.write("".join(lines))


def write_civil_registry(path: Path, rows: int, units: list[str]) -> None:
    """A civil-registry extract (formats.md §3) of ``rows`` rows: the province's communes x record
    types, over as many extract dates as it takes, going back no further than January 2024 (the
    first month of dbt's calendar, which the marts' periods reference), then round again; every
    row a valid funnel."""
    days_back = (EXTRACT_DATE - dt.date(2024, 1, 1)).days + 1
    per_day = len(units) * len(RECORD_TYPES)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("extract_date,commune_code,record_type,records_total,records_scanned,records_entered,records_synced\n")
        lines = []
        for i in range(rows):
            day = EXTRACT_DATE - dt.timedelta(days=i // per_day % days_back)
            unit, kind = units[i % len(units)], RECORD_TYPES[i // len(units) % len(RECORD_TYPES)]
            total = 5000 + i % 7919
            lines.append(f"{day},{unit},{kind},{total},{total - 100},{total - 300},{total - 900}\n")
            if len(lines) == 10_000:
                f.write("".join(lines))
                lines.clear()
        f.write("".join(lines))


# --- the measurements ------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``; unlike ``ru_maxrss`` it does not count the
    parent's memory, which a child started by fork and exec inherits there)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_load(path: Path) -> None:
    """In a child process: land one extract through the landing path; print its time, the
    process's peak memory and its ledger row's counts as JSON (no personal data: counts only)."""
    from ingest.landing.adapters import LandingContext
    from ingest.landing.land import land_paths
    from ingest.registry import load_registry
    from ingest.warehouse.db import connect

    ctx = LandingContext(load_registry(), dt.date.today(), None)
    with connect() as conn:
        t0 = time.perf_counter()
        (outcome,) = land_paths(conn, [path], batch_id=f"bench-{path.stem}", ctx=ctx)
        secs = time.perf_counter() - t0
        ledger = conn.execute(
            "select rows_read, rows_loaded, rows_quarantined from audit.load_ledger where file_id = %s",
            (outcome.file_id,),
        ).fetchone()
    read, loaded, quarantined = ledger or (None, None, None)
    result = {"secs": secs, "status": outcome.status, "rows_read": outcome.rows_read}
    result |= {"rows_loaded": outcome.rows_loaded, "peak_rss_mb": peak_rss_mb()}
    result |= {"ledger_rows_read": read, "ledger_rows_loaded": loaded, "ledger_rows_quarantined": quarantined}
    print(json.dumps(result))


def ours(dsn: str, path: Path) -> dict[str, Any]:
    """Our loader on ``path``, in a child process with the bench's environment."""
    env = {**os.environ, "WAREHOUSE_DSN": dsn}
    proc = subprocess.run(
        [sys.executable, __file__, "--load", str(path)], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the loader failed on {path.name}:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["status"] != "loaded":
        raise RuntimeError(f"{path.name} was {result['status']}, not loaded")
    read, loaded, quarantined = (result[f"ledger_rows_{k}"] for k in ("read", "loaded", "quarantined"))
    if read != loaded + quarantined or read != result["rows_read"]:
        raise RuntimeError(f"{path.name}: the ledger says {read} read, {loaded} loaded, {quarantined} quarantined")
    return result


def forget(dsn: str, table: str) -> None:
    """Remove what the loader landed (rows and ledger), so that the next file starts alike."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"truncate {table}")
        conn.execute("delete from audit.load_ledger where batch_id like 'bench-%%'")
        conn.execute(f"vacuum analyze {table}, audit.load_ledger")


def psql_copy(dsn: str, table: str, tmp: Path) -> tuple[float, int]:
    """`psql \\copy` of the rows our loader landed in ``table``, exported to CSV, into a table of
    the same definition (its primary key included)."""
    export, reference = tmp / f"{table}.csv", f"bench_ref_{table.split('.')[1]}"
    with psycopg.connect(dsn) as conn:
        conn.execute(f"drop table if exists {reference}")
        conn.execute(f"create table {reference} (like {table} including all)")
        with export.open("wb") as f, conn.cursor().copy(f"copy {table} to stdout with (format csv)") as cp:
            for chunk in cp:
                f.write(chunk)
        (n,) = conn.execute(f"select count(*) from {table}").fetchone()  # type: ignore[misc]
    psql = shutil.which("psql") or next(Path("/usr/lib/postgresql").glob("*/bin/psql"), None)
    t0 = time.perf_counter()
    subprocess.run(
        [str(psql), dsn, "-q", "-c", f"\\copy {reference} from '{export}' with (format csv)"],
        check=True,
        capture_output=True,
    )
    secs = time.perf_counter() - t0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"drop table {reference}")
    export.unlink()
    return secs, n


def naive_pandas(dsn: str, path: Path, driver: str = "postgresql") -> float:
    """pandas read_csv + to_sql with their defaults, what a typical user would write, on a file
    of the extract's first rows (into a fresh table): rows per second.  ``postgresql://`` is
    SQLAlchemy's default driver for PostgreSQL, psycopg2; ``postgresql+psycopg`` is psycopg 3."""
    import pandas as pd
    import sqlalchemy

    sample = path.with_name(f"pandas_{path.name}")
    with path.open("rb") as src, sample.open("wb") as out:
        for _, line in zip(range(PANDAS_ROWS + 1), src, strict=False):
            out.write(line)
    p = warehouse_parts(dsn)
    url = sqlalchemy.URL.create(driver, p.user, p.password, p.host, p.port, p.dbname)
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("drop table if exists bench_pandas")
    t0 = time.perf_counter()
    frame = pd.read_csv(sample)
    frame.to_sql("bench_pandas", engine, if_exists="append", index=False)
    secs = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.exec_driver_sql("drop table bench_pandas")
    engine.dispose()
    sample.unlink()
    return len(frame) / secs


def dbt_build(dsn: str) -> float:
    """The dbt build of the extract models after the load (their staging, monthly and marts)."""
    from ingest.transform.dbt_runner import run_dbt

    t0 = time.perf_counter()
    run_dbt(["build", "--select", *EXTRACT_MODELS, "--indirect-selection", "cautious"], dsn=dsn)
    return time.perf_counter() - t0


EXTRACT_MODELS = ("@stg_raw__civil_registry_counts", "@stg_raw__bhxh_verifications")
"""The extract models, everything built on them, and what those need (dbt's @ selector)."""


def one_scale(dsn: str, tmp: Path, units: list[str], scale: int) -> dict[str, Any]:
    """Every measurement at ``scale`` x the rows, on the same files."""
    rows = ROWS * scale
    bhxh, civil = tmp / f"bhxh_{PROVINCE}_{scale}x.csv", tmp / f"hotich_{PROVINCE}_{scale}x.csv"
    write_bhxh(bhxh, rows, units, seed=scale)
    write_civil_registry(civil, rows, units)
    result: dict[str, Any] = {"scale": scale, "rows": rows}
    for kind, path, table in (("pii", bhxh, "raw.bhxh_verification"), ("plain", civil, "raw.civil_registry_count")):
        loaded = ours(dsn, path)
        copy_s, copied = psql_copy(dsn, table, tmp)
        result[kind] = {
            "loader_s": loaded["secs"],
            "loader_rows_per_s": loaded["rows_read"] / loaded["secs"],
            "peak_rss_mb": loaded["peak_rss_mb"],
            "copy_rows_per_s": copied / copy_s,
            "pandas_rows_per_s": naive_pandas(dsn, path),
            "pandas_psycopg3_rows_per_s": naive_pandas(dsn, path, "postgresql+psycopg"),
        }
    result["dbt_build_s"] = dbt_build(dsn)
    forget(dsn, "raw.bhxh_verification")
    forget(dsn, "raw.civil_registry_count")
    bhxh.unlink()
    civil.unlink()
    return result


def warm_up(dsn: str, tmp: Path, units: list[str]) -> None:
    """A small load of each kind, discarded: imports, caches and the first dbt parse."""
    bhxh, civil = tmp / "warm_bhxh.csv", tmp / "warm_hotich.csv"
    write_bhxh(bhxh, 20_000, units, seed=0)
    write_civil_registry(civil, 20_000, units)
    for path, table in ((bhxh, "raw.bhxh_verification"), (civil, "raw.civil_registry_count")):
        ours(dsn, path)
        forget(dsn, table)
        path.unlink()
    dbt_build(dsn)


# --- the results -----------------------------------------------------------------------------------


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The keys ``bench/results/latest.json`` promises, from the 1x run (and the largest scale)."""
    base, top = runs[0], runs[-1]
    return {
        "copy_rows_per_s": base["pii"]["copy_rows_per_s"],
        "loader_rows_per_s": base["plain"]["loader_rows_per_s"],
        "loader_pii_rows_per_s": base["pii"]["loader_rows_per_s"],
        "pandas_to_sql_rows_per_s": base["pii"]["pandas_rows_per_s"],
        "pandas_psycopg3_to_sql_rows_per_s": base["pii"]["pandas_psycopg3_rows_per_s"],
        "loader_peak_rss_mb": max(r[k]["peak_rss_mb"] for r in runs for k in ("pii", "plain")),
        "scale_4x_time_ratio": top["pii"]["loader_s"] / base["pii"]["loader_s"] if len(runs) > 1 else None,
        "dbt_build_s": base["dbt_build_s"],
        "incremental_to_full_ratio": None,  # part 8 (bench_incremental.record) measures it at national scale
        "runs": runs,
    }


def chart(result: dict[str, Any], path: Path) -> None:
    """Rows per second of each way to load, at each scale, and the loader's peak memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(11, 4))
    labels = [
        "psql \\copy",
        "loader (BHXH, pseudonymised)",
        "loader (civil registry)",
        "pandas (psycopg2)",
        "pandas (psycopg 3)",
    ]
    for i, run in enumerate(runs):
        values = [
            run["pii"]["copy_rows_per_s"],
            run["pii"]["loader_rows_per_s"],
            run["plain"]["loader_rows_per_s"],
            run["pii"]["pandas_rows_per_s"],
            run["pii"]["pandas_psycopg3_rows_per_s"],
        ]
        speed.bar([x + i * 0.4 for x in range(5)], values, width=0.4, label=f"{run['scale']}x ({run['rows']:,} rows)")
    speed.set_xticks([x + 0.2 for x in range(5)], labels, rotation=15, fontsize=8)
    speed.set_ylabel("rows / s")
    speed.legend()
    memory.bar([f"{r['scale']}x" for r in runs], [r["pii"]["peak_rss_mb"] for r in runs])
    memory.axhline(300, color="red", linestyle="--", label="300 MB")
    memory.set_ylabel("loader peak RSS (MB)")
    memory.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def report(result: dict[str, Any]) -> None:
    r = result
    copy, pii, plain, pandas = (
        r["copy_rows_per_s"],
        r["loader_pii_rows_per_s"],
        r["loader_rows_per_s"],
        r["pandas_to_sql_rows_per_s"],
    )
    scale, pandas3 = r["scale_4x_time_ratio"], r["pandas_psycopg3_to_sql_rows_per_s"]
    print(
        f"7. source extracts, one province ({ROWS:,} BHXH participants): psql \\copy {copy:,.0f} rows/s;"
        f" our loader with pseudonymisation {pii:,.0f} rows/s = {pii / copy:.2f}x \\copy (target >= 0.5),"
        f" without personal data {plain:,.0f} rows/s = {plain / r['runs'][0]['plain']['copy_rows_per_s']:.2f}x"
        f" (target >= 0.8); pandas read_csv + to_sql with its defaults (SQLAlchemy's postgresql://, psycopg2)"
        f" {pandas:,.0f} rows/s: ours {pii / pandas:.0f}x faster (target >= 15), with psycopg 3"
        f" {pandas3:,.0f} rows/s: ours {pii / pandas3:.0f}x faster;"
        f" loader peak RSS {r['loader_peak_rss_mb']:.0f} MB (target < 300, flat);"
        + (f" {r['runs'][-1]['scale']}x the data in {scale:.2f}x the time (target at 4x: <= 4.5);" if scale else "")
        + f" dbt build of the extract models {r['dbt_build_s']:.1f}s (a month built against a full refresh: part 8)"
    )


def bench_extracts(server_dsn: str) -> dict[str, Any]:
    saved = {k: os.environ.get(k) for k in ("WAREHOUSE_DSN", "D06_DATA_DIR", "D06_PSEUDONYM_KEY", "D06_ARCHIVE_KEY")}
    with tempfile.TemporaryDirectory() as tmp_name, scratch_database(server_dsn, "d06_bench_extracts") as dsn:
        tmp = Path(tmp_name)
        os.environ["D06_DATA_DIR"] = str(tmp / "data")
        os.environ.setdefault("D06_PSEUDONYM_KEY", os.urandom(32).hex())
        if not os.environ.get("D06_ARCHIVE_KEY"):
            from cryptography.fernet import Fernet

            os.environ["D06_ARCHIVE_KEY"] = Fernet.generate_key().decode()
        try:
            prepare(dsn)
            units = communes(dsn)
            warm_up(dsn, tmp, units)
            result = summary([one_scale(dsn, tmp, units, s) for s in SCALES])
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    chart(result, RESULTS / "latest.png")
    report(result)
    return result


def prepare(dsn: str) -> None:
    """The scratch warehouse: schema, registry, and the stage the extract models build on."""
    os.environ["WAREHOUSE_DSN"] = dsn
    from ingest.pipeline import prepare_warehouse

    prepare_warehouse()


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        child_load(Path(sys.argv[2]))
        return 0
    server = os.environ.get("WAREHOUSE_DSN")
    if not server:
        print("WAREHOUSE_DSN is not set: run `make bench`", file=sys.stderr)
        return 2
    bench_extracts(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
