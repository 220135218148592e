"""`make bench`, part 5: peak memory of the landing path's reading pass on the worst inputs we know.

Each input is received and read as the landing path does it (archive, adapter, rows spooled to
disk) in a forked child process; the
child reports its peak resident memory (``ru_maxrss``, which counts C allocations too, unlike
tracemalloc) and what it had at the start.  The bound is 300 MB for any input.

The corpus: the largest valid submissions the limits allow, and the hostile files that used to
exhaust memory (an XLSX whose shared strings expand far beyond its size, a DOCX whose
``document.xml`` expands to 400 MB, a PDF with a compression bomb in a stream).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import resource
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl

BOUND_MB = 300
PERIOD = "2026-03"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _zip_with_huge_part(
    path: Path, parts: dict[str, bytes], huge: str, huge_mb: int, fill: Callable[[], bytes], level: int = 9
) -> None:
    """A zip whose ``huge`` member inflates to ``huge_mb`` MB of ``fill()`` blocks, written in chunks."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        with z.open(huge, "w", force_zip64=True) as member:
            for _ in range(huge_mb):
                member.write(fill())


def _repeat(text: bytes) -> Callable[[], bytes]:
    block = text * (1_000_000 // len(text))
    return lambda: block


def _random_strings() -> bytes:
    """About 1 MB of distinct shared strings: compresses only about 4:1, like real text."""
    hexed = os.urandom(120_000).hex()
    words = " ghi chú số liệu tháng</t></si>".encode()
    return b"".join(b"<si><t>" + hexed[i : i + 12].encode() + words for i in range(0, len(hexed), 12))


def _units() -> list[str]:
    from ingest.registry import load_registry

    return [u.code for u in load_registry().reporting_units(dt.date(2026, 3, 31))]


def big_csv(path: Path) -> None:
    """The row cap's worth of rows (200,000) in one CSV: about 13 MB."""
    units = _units()
    with path.open("w", encoding="utf-8") as f:
        f.write("ma_don_vi,ky_bao_cao,ma_chi_tieu,ma_dich_vu,tu_so,mau_so,ty_le\n")
        for i in range(200_000):
            f.write(
                f'{units[i % len(units)]},{PERIOD},DVC_ONLINE_RECEIVED,DV{i // len(units) % 25 + 1:02d},5,9,"55,56%"\n'
            )


def big_xlsx(path: Path) -> None:
    units = _units()
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("du_lieu")
    ws.append(["ma_don_vi", "ky_bao_cao", "ma_chi_tieu", "ma_dich_vu", "tu_so", "mau_so"])
    for i in range(100_000):
        ws.append([units[i % len(units)], PERIOD, "DVC_ONLINE_RECEIVED", f"DV{i // len(units) % 25 + 1:02d}", 5, 9])
    wb.save(path)


def big_json(path: Path) -> None:
    units = _units()
    rows = [
        {"unit_code": units[i % len(units)], "period": PERIOD, "indicator_code": "DVC_ONLINE_RECEIVED",
         "service_code": f"DV{i // len(units) % 25 + 1:02d}", "numerator": 5, "denominator": 9}
        for i in range(200_000)
    ]  # fmt: skip
    path.write_text(json.dumps(rows), encoding="utf-8")


def shared_strings_bomb(path: Path) -> None:
    """An XLSX whose sharedStrings.xml holds 192 MB of distinct strings (the reproduction's size),
    compressed only about 4:1, so that no ratio check can catch it: only the per-part cap."""
    _zip_with_huge_part(
        path,
        {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"},
        "xl/sharedStrings.xml",
        192,
        _random_strings,
        level=1,
    )


def docx_bomb(path: Path) -> None:
    """A .docx whose document.xml inflates to 400 MB."""
    fill = _repeat(b"<w:p><w:r><w:t>a</w:t></w:r></w:p>")
    _zip_with_huge_part(path, {"[Content_Types].xml": b"<Types/>"}, "word/document.xml", 400, fill)


def pdf_bomb(path: Path) -> None:
    """A PDF with one content stream that inflates to 400 MB."""
    compressor = zlib.compressobj(9)
    stream = b"".join(compressor.compress(b"0" * 1_000_000) for _ in range(400)) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    path.write_bytes(out.getvalue())


CORPUS: dict[str, Callable[[Path], None]] = {
    "AG.STP_200k_rows.csv": big_csv,
    "AG.STP_100k_rows.xlsx": big_xlsx,
    "AG.STP_200k_rows.json": big_json,
    "shared_strings_192MB.xlsx": shared_strings_bomb,
    "document_xml_400MB.docx": docx_bomb,
    "stream_400MB.pdf": pdf_bomb,
}


def _read_in_child(path: Path) -> tuple[str, float, float]:
    """(outcome, RSS at start, peak RSS) of reading ``path`` with its adapter, in a forked child."""
    from ingest.landing.adapters import LandingContext
    from ingest.landing.land import parse_received, receive_path
    from ingest.registry import load_registry

    ctx = LandingContext(load_registry(), dt.date(2026, 11, 30), PERIOD)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read the file, report, exit without cleanup
        start = _rss_mb()
        parsed = parse_received(receive_path(path, period=PERIOD), ctx)
        if parsed.status == "loaded":
            outcome = f"loaded {parsed.rows_loaded:,} rows, {parsed.rows_quarantined:,} quarantined"
        else:
            outcome = f"{parsed.status} ({parsed.error[0] if parsed.error else '?'})"
        parsed.discard()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000
        os.write(write, json.dumps([outcome, start, peak]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        data = f.read()
    os.waitpid(pid, 0)
    outcome, start, peak = json.loads(data)
    return outcome, start, peak


def bench_memory() -> None:
    from ingest.registry import load_registry

    load_registry()  # loaded before forking, as in the landing path's workers
    worst = ("", 0.0)
    print(f"5. peak memory of reading the worst inputs (bound {BOUND_MB} MB above the process's start):")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["D06_DATA_DIR"] = str(Path(tmp) / "data")  # the archive of the bench's files
        for name, make in CORPUS.items():
            path = Path(tmp) / name
            make(path)
            outcome, start, peak = _read_in_child(path)
            used = peak - start
            worst = max(worst, (name, used), key=lambda w: w[1])
            print(f"   {name:28} {path.stat().st_size / 1e6:7.1f} MB on disk: {outcome}; peak +{used:.0f} MB")
            path.unlink()
    verdict = "within" if worst[1] <= BOUND_MB else "ABOVE"
    print(f"   -> worst: {worst[0]} at +{worst[1]:.0f} MB = {worst[1] / BOUND_MB:.2f}x the bound ({verdict})")
