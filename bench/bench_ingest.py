"""`make bench`: the loader's speed and the parser's memory, measured side by side in one run.

Prints ratios, not absolute targets, so the numbers mean the same on any machine:
  1. COPY (what the loader uses) against row-by-row executemany on the same rows;
  2. parsing + loading a month of submissions through the real loader, rows per second;
  3. peak memory of parsing a large XLSX against its size on disk, and of refusing a zip bomb;
  4. a national month (34 provinces) through the landing path, against naive pandas and `psql \\copy`
     (``bench_national.py``);
  5. peak memory of the landing path's reading pass on the worst inputs, against 300 MB (``bench_memory.py``);
  6. the quality gate on a national month, against the COPY of the rows it checks (``bench_gate.py``);
  7. the source extracts' loader against ``psql \\copy`` and pandas at 1x and 4x one province, and the
     dbt build after it; writes ``bench/results/latest.json`` and ``latest.png`` (``bench_extracts.py``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import psycopg
from bench_extracts import bench_extracts
from bench_gate import bench_gate
from bench_incremental import bench_incremental, record
from bench_memory import bench_memory
from bench_national import bench_national

from ingest.registry import load_registry
from ingest.submissions.model import SubmissionError
from ingest.submissions.parse import parse_submission
from ingest.warehouse.db import copy_rows, init_schema, scratch_database

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))


def _rows(n: int) -> list[tuple[object, ...]]:
    return [(i, f"AG.X.U{i % 100}", "2026-03", "HT_SYNCED", "NA", i, i + 10) for i in range(n)]


def bench_copy_vs_insert(conn: psycopg.Connection) -> None:
    conn.execute(
        "create temp table bench_rows (row_no int, unit_code text, period text, indicator_code text,"
        " service_code text, numerator bigint, denominator bigint)"
    )
    cols = ["row_no", "unit_code", "period", "indicator_code", "service_code", "numerator", "denominator"]
    data = _rows(ROWS)
    t0 = time.perf_counter()
    copy_rows(conn, "pg_temp.bench_rows", cols, data)
    copy_s = time.perf_counter() - t0
    conn.execute("truncate bench_rows")
    sample = data[: max(ROWS // 10, 1000)]
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.executemany("insert into bench_rows values (%s, %s, %s, %s, %s, %s, %s)", sample)
    insert_s = (time.perf_counter() - t0) * len(data) / len(sample)
    print(
        f"1. load {ROWS:,} rows: COPY {ROWS / copy_s:,.0f} rows/s, executemany {ROWS / insert_s:,.0f} rows/s"
        f" -> COPY is {insert_s / copy_s:.1f}x faster"
    )


def _xlsx(rows: int) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("du_lieu")
    ws.append(["ma_don_vi", "ky_bao_cao", "ma_chi_tieu", "ma_dich_vu", "tu_so", "mau_so"])
    units = [u.code for u in load_registry().reporting_units(dt.date(2026, 3, 31))]
    for i in range(rows):
        ws.append([units[i % len(units)], "2026-03", "DVC_ONLINE_RECEIVED", f"DV{i // len(units) % 25 + 1:02d}", 5, 9])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def bench_parse_memory() -> None:
    registry = load_registry()
    data = _xlsx(50_000)

    def parse() -> int:
        items = parse_submission(io.BytesIO(data), name="big.xlsx", registry=registry, today=dt.date(2026, 11, 1))
        return sum(1 for _ in items)

    t0 = time.perf_counter()
    n = parse()
    secs = time.perf_counter() - t0  # timed without tracemalloc, which slows Python down several times
    tracemalloc.start()
    parse()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"3a. parse a {len(data) / 1e6:.1f} MB XLSX ({n:,} rows, {n / secs:,.0f} rows/s): "
        f"peak memory {peak / 1e6:.1f} MB = {peak / len(data):.1f}x the file"
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<a>" + "0" * 400_000_000 + "</a>")
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        list(parse_submission(io.BytesIO(bomb.getvalue()), name="bomb.xlsx", registry=registry, today=dt.date.today()))
        verdict = "ACCEPTED (bad)"
    except SubmissionError as exc:
        verdict = f"refused ({exc.reason_code})"
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"3b. zip bomb {bomb.tell() / 1e3:.0f} kB expanding to 400 MB: {verdict} in {time.perf_counter() - t0:.2f}s,"
        f" peak memory {peak / 1e6:.1f} MB = {peak / 400e6:.3f}x the expanded size"
    )


def bench_month(dsn: str) -> None:
    from ingest.demo import write_demo_inbox
    from ingest.pipeline import ingest_period

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["D06_DATA_DIR"] = tmp
        os.environ["WAREHOUSE_DSN"] = dsn
        files = write_demo_inbox(Path(tmp) / "inbox", "2026-03")
        t0 = time.perf_counter()
        totals = ingest_period("2026-03", run_id="bench")
        secs = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = ingest_period("2026-03", run_id="bench-again")
        secs_again = time.perf_counter() - t0
    print(
        f"2. a month of {files} files, {totals['rows_read']:,} rows: {secs:.1f}s "
        f"({totals['rows_read'] / secs:,.0f} rows/s);"
        f" the same month again (all duplicates: {again['duplicate']}) {secs_again:.1f}s = {secs_again / secs:.2f}x"
    )


def main() -> int:
    server = os.environ.get("WAREHOUSE_DSN")
    if not server:
        print("WAREHOUSE_DSN is not set: run `make bench`", file=sys.stderr)
        return 2
    with scratch_database(server, "d06_bench") as dsn:
        with psycopg.connect(dsn) as conn:
            init_schema(conn)
            bench_copy_vs_insert(conn)
        bench_month(dsn)
    bench_parse_memory()
    bench_national(server)
    bench_memory()
    bench_gate(server)
    bench_extracts(server)
    record(bench_incremental(server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
