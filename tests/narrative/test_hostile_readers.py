"""Narrative readers under hostile input: implausible Windows-1258, DOCX archive bombs and PDF
decompression bombs end as NarrativeError, quickly and with little memory."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
import zlib

import pytest

from ingest.narrative import readers
from ingest.narrative.readers import NarrativeError, read_lines

from .documents import make_docx
from .test_readers import _cp1258

MB = 1_000_000


def refused(data: bytes, name: str) -> NarrativeError:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(NarrativeError) as info:
            read_lines(io.BytesIO(data), name=name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 10
    assert peak < 3 * len(data) + 50 * MB, f"peak {peak / MB:.1f} MB"
    assert info.value.file_name == name
    return info.value


def test_latin1_report_is_not_read_as_windows_1258():
    data = "BÁO CÁO\nUBND tỉnh Hòa Bình\n".encode("latin-1", errors="ignore")
    # Latin-1 has no "ỉ": the encoder drops it; "ò" (0xF2) and "ì" (0xEC) are tone marks in cp1258.
    error = refused(data, "latin1.txt")
    assert "Windows-1258" in error.message and "UTF-8" in error.message


def test_real_windows_1258_report_still_reads():
    text = "BÁO CÁO\nỦy ban nhân dân tỉnh Hòa Bình: đã số hóa 1.363 hồ sơ, tỷ lệ 99,85%\n"
    assert read_lines(io.BytesIO(_cp1258(text)), name="cp1258.txt") == text.splitlines()


def docx_with_huge_document(size: int) -> bytes:
    """A real .docx whose document.xml is padded to ``size`` bytes, written in chunks at
    compresslevel 9 (it compresses about 1000:1), so the test itself stays small."""
    source, target = io.BytesIO(make_docx(["BÁO CÁO", "Tổng số: 12 hồ sơ"])), io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            content = zin.read(info)
            if info.filename != "word/document.xml":
                zout.writestr(info.filename, content)
                continue
            head, tail = content.split(b"<w:body>", 1)
            with zout.open(info.filename, "w") as member:
                member.write(head + b"<w:body>")
                chunk = b" " * MB
                for _ in range(size // MB):
                    member.write(chunk)
                member.write(tail)
    return target.getvalue()


def test_docx_bomb_is_refused_from_the_directory():
    """444 KB expanding to 400 MB: above the 100 MB total a .docx may expand to."""
    data = docx_with_huge_document(400 * MB)
    assert len(data) < MB
    error = refused(data, "bomb.docx")
    assert "100 MB" in error.message and "total" in error.message


def test_docx_bomb_below_the_total_is_refused_by_its_ratio():
    """50 MB of blanks compress about 1000:1, far above the 100:1 a member may have."""
    error = refused(docx_with_huge_document(50 * MB), "ratio.docx")
    assert "word/document.xml" in error.message and "ratio" in error.message


def test_docx_part_above_the_cap_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "DOCX_LIMITS", readers.DOCX_LIMITS.__class__(max_part_bytes=2 * MB, max_ratio=10**6))
    error = refused(docx_with_huge_document(3 * MB), "long.docx")
    assert "word/document.xml" in error.message and "part" in error.message


def test_truncated_docx():
    data = make_docx(["BÁO CÁO"])
    with pytest.raises(NarrativeError, match=r"\.docx"):
        read_lines(io.BytesIO(data[: len(data) // 2]), name="cut.docx")


def pdf_with_stream(payload: bytes) -> bytes:
    return (
        b"%%PDF-1.4\n1 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload)
        + payload
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def test_pdf_decompression_bomb_is_refused_before_pdfminer():
    inflater = zlib.compressobj(9)
    payload = b"".join(inflater.compress(b"0" * MB) for _ in range(200)) + inflater.flush()
    data = pdf_with_stream(payload)
    assert len(data) < MB
    error = refused(data, "bomb.pdf")
    assert "quá lớn" in error.message


def test_pdf_streams_within_the_caps_pass_the_check():
    readers._check_pdf_streams(pdf_with_stream(zlib.compress(b"BT (x) Tj ET" * 1000)), "ok.pdf")


def test_pdf_with_too_many_pages(monkeypatch):
    pytest.importorskip("fpdf", reason="fpdf2 is needed to build test PDFs")
    from pathlib import Path

    from .documents import make_pdf

    fonts = sorted(Path("/usr/share/fonts").rglob("DejaVuSans.ttf"))
    if not fonts:
        pytest.skip("no DejaVuSans.ttf")
    monkeypatch.setattr(readers, "MAX_PDF_PAGES", 0)
    with pytest.raises(NarrativeError, match="quá nhiều trang"):
        read_lines(io.BytesIO(make_pdf(["BÁO CÁO"], fonts[0])), name="pages.pdf")
