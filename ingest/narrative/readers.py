"""Turn a narrative report (``.txt``, ``.docx`` or text-based ``.pdf``) into a list of lines.

Every reader returns NFC-normalised text, one entry per line, so that ``lines[i]`` is line
``i + 1`` of what an official sees:

* ``.txt``: the physical lines of the file, decoded as UTF-8 (with or without BOM), UTF-16
  (with BOM, or recognised by its NUL bytes) or, as a last resort, Windows-1258 when that gives
  plausible Vietnamese (:mod:`ingest.vietnamese_text`; a Latin-1 file is refused, not misread);
* ``.docx``: paragraphs and tables in document order (:mod:`ingest.narrative.wordml`): one entry
  per paragraph, per row of a data table (cells joined by `` | ``, a merged cell once), per
  paragraph of a layout table's cell (the letterhead), and per footnote, right after what cites
  it; tracked insertions are text;
* ``.pdf``: the lines of the text that pdfplumber extracts, page after page; a page without a
  text layer (a scan) is read by OCR (:mod:`ingest.narrative.ocr`).

:func:`read_document` gives the same lines with where they stand: the page and line of the page
of a PDF's lines, the pages read by OCR, and the grid of each data table of a ``.docx``.

Resources are bounded before parsing: a ``.docx`` archive is checked from its central directory
(:data:`ingest.archive_checks.DOCX_LIMITS`), a PDF's compressed streams are test-inflated in
bounded steps (:data:`MAX_PDF_STREAM_BYTES`, :data:`MAX_PDF_INFLATED_BYTES`), and a PDF may
have at most :data:`MAX_PDF_PAGES` pages and :data:`MAX_TEXT_CHARS` characters of text.

>>> read_lines(io.BytesIO(("BÁO CÁO" + chr(10) + "Về kết quả tháng 3").encode("utf-16")), name="bc.txt")
['BÁO CÁO', 'Về kết quả tháng 3']
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from pathlib import PurePath
from typing import Any, BinaryIO

from ingest.archive_checks import DOCX_LIMITS, ArchiveProblem, check_archive
from ingest.narrative.document import Document, Table, TableRow, pipe_tables
from ingest.narrative.ocr import OCR_DPI, OcrError, ocr_available, ocr_png
from ingest.narrative.pdftables import PageBlock, page_blocks
from ingest.narrative.wordml import body_lines
from ingest.vietnamese_text import first_implausible

__all__ = [
    "SUPPORTED_SUFFIXES",
    "NarrativeError",
    "read_document",
    "read_docx",
    "read_lines",
    "read_pdf",
    "read_txt",
]

SUPPORTED_SUFFIXES = (".txt", ".docx", ".pdf")
MAX_BYTES = 50 * 1024 * 1024
"""Narrative reports are a few pages; anything above this is refused rather than parsed."""
MAX_PDF_PAGES = 300
MAX_TEXT_CHARS = 5_000_000
"""Characters of text extracted from a PDF (a few pages are some 10 000)."""
MAX_PDF_STREAM_BYTES = 16 * 1024 * 1024
"""What one compressed PDF stream may inflate to; pdfminer inflates a stream whole."""
MAX_PDF_INFLATED_BYTES = 128 * 1024 * 1024
"""What all compressed streams of a PDF may inflate to together."""
MIN_SCAN_DPI, MAX_SCAN_DPI = 150, 400
"""Bounds of the resolution a scanned page is rendered at for OCR."""
MAX_OCR_PAGES = 40
"""Scanned pages read by OCR in one PDF (some seconds each); a scanned report is a few pages."""


class NarrativeError(Exception):
    """A narrative report cannot be read at all (unknown type, corrupt, empty, scanned PDF ...).

    ``file_name`` names the file so that the message can be shown to the official who sent it.
    """

    def __init__(self, file_name: str, message: str) -> None:
        super().__init__(f"{file_name}: {message}")
        self.file_name = file_name
        self.message = message


def _nfc_lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    # splitlines() also splits on \x0b, \x0c, \x1c-\x1e, \x85, \u2028 and \u2029; that is what
    # Word's "vertical tab" line breaks and PDF page feeds need.
    return text.splitlines()


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    # UTF-16 without BOM: every other byte of ASCII text is NUL.
    if len(data) >= 4 and data.count(b"\x00") * 3 > len(data):
        even_nuls = data[0::2].count(b"\x00")
        odd_nuls = data[1::2].count(b"\x00")
        return data.decode("utf-16-be" if even_nuls > odd_nuls else "utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise NarrativeError(name, "không đọc được bảng mã của tệp (UTF-8, UTF-16, Windows-1258)") from exc
    found = first_implausible([text])
    if found is not None:
        sample = f"\u25cc{found}" if unicodedata.combining(found) else found
        raise NarrativeError(
            name,
            f"tệp không phải UTF-8 và đọc theo bảng mã Windows-1258 cho ra ký tự không phải tiếng Việt (“{sample}”); "
            "hãy lưu lại tệp dưới dạng UTF-8 (not UTF-8, and not Vietnamese in Windows-1258: save it as UTF-8)",
        )
    return text


def read_txt(fp: BinaryIO, *, name: str) -> list[str]:
    """Decode a plain-text report into NFC lines.

    >>> read_txt(io.BytesIO("Tổng số: 12".encode("utf-16")), name="a.txt")
    ['Tổng số: 12']
    """
    return _nfc_lines(_decode(_read_bounded(fp, name), name))


def _read_bounded(fp: BinaryIO, name: str) -> bytes:
    """The whole file, refusing one larger than any report (MAX_BYTES)."""
    data = fp.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise NarrativeError(name, "tệp quá lớn đối với một báo cáo")
    return data


def read_docx(fp: BinaryIO, *, name: str) -> list[str]:
    """The lines of a ``.docx`` in document order (see :func:`read_docx_document`).

    >>> read_docx(open("report.docx", "rb"), name="report.docx")[:1]  # doctest: +SKIP
    ['BÁO CÁO']
    """
    return read_docx_document(fp, name=name).lines


def read_docx_document(fp: BinaryIO, *, name: str) -> Document:
    """Paragraphs, table rows and footnotes of a ``.docx`` in document order, and its data tables.

    >>> read_docx_document(open("report.docx", "rb"), name="report.docx").tables[0].rows[0].cells  # doctest: +SKIP
    ('Tên thủ tục', 'Tiếp nhận', 'Trực tuyến', 'Tỷ lệ')
    """
    import docx  # python-docx

    data = _read_bounded(fp, name)
    _check_docx_archive(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
        lines, tables = body_lines(document)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise NarrativeError(name, "tệp .docx bị hỏng hoặc không phải tệp Word") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise NarrativeError(name, f"không mở được tệp .docx ({type(exc).__name__})") from exc
    return Document(lines=lines, tables=tuple(tables))


def _check_docx_archive(data: bytes, name: str) -> None:
    """Refuse a ``.docx`` that would expand beyond :data:`ingest.archive_checks.DOCX_LIMITS`."""
    try:
        check_archive(io.BytesIO(data), DOCX_LIMITS)
    except ArchiveProblem as problem:
        if problem.kind == "invalid":
            raise NarrativeError(name, "tệp .docx bị hỏng hoặc không phải tệp Word") from problem
        what = {
            "members": f"có quá nhiều thành phần (tối đa {problem.limit})",
            "ratio": f"có thành phần “{problem.member}” nén bất thường ({problem.ratio}:1)",
            "total": f"khi giải nén vượt quá {problem.limit // 1_000_000} MB",
            "part": f"có thành phần “{problem.member}” giải nén vượt quá {problem.limit // 1_000_000} MB",
        }[problem.kind]
        raise NarrativeError(
            name, f"tệp .docx {what}; tệp có thể không an toàn (archive refused: {problem.kind})"
        ) from problem


_PDF_STREAM = re.compile(rb"stream\r?\n")
_INFLATE_STEP = 1024 * 1024


def _inflated_size(data: bytes, start: int, limit: int) -> int:
    """What the zlib data at ``start`` inflates to, counted in bounded steps up to ``limit + 1``."""
    inflater = zlib.decompressobj()
    end = data.find(b"endstream", start)
    pending = memoryview(data)[start : end if end >= 0 else len(data)]
    size = 0
    try:
        while size <= limit:
            size += len(inflater.decompress(pending, _INFLATE_STEP))
            pending = memoryview(inflater.unconsumed_tail)
            if not pending or inflater.eof:
                break
    except zlib.error:
        pass  # not a zlib stream (or corrupt): pdfminer inflates no more than what came out
    return size


def _check_pdf_streams(data: bytes, name: str) -> None:
    """Refuse a PDF whose compressed streams inflate beyond the caps (a decompression bomb)."""
    total = 0
    for match in _PDF_STREAM.finditer(data):
        size = _inflated_size(data, match.end(), MAX_PDF_STREAM_BYTES)
        total += size
        if size > MAX_PDF_STREAM_BYTES or total > MAX_PDF_INFLATED_BYTES:
            raise NarrativeError(
                name,
                "tệp PDF chứa dữ liệu nén giải nén ra quá lớn; tệp có thể không an toàn "
                "(a compressed stream inflates too much)",
            )


def read_pdf(fp: BinaryIO, *, name: str) -> list[str]:
    """Lines of a PDF, page after page (see :func:`read_pdf_document`).

    >>> read_pdf(open("report.pdf", "rb"), name="report.pdf")[:1]  # doctest: +SKIP
    ['BÁO CÁO']
    """
    return read_pdf_document(fp, name=name).lines


def read_pdf_document(fp: BinaryIO, *, name: str) -> Document:
    """Lines of the text layer of a PDF with their page and line of the page; OCR for scanned pages.

    >>> read_pdf_document(open("report.pdf", "rb"), name="report.pdf").where(1)  # doctest: +SKIP
    (1, 1)
    """
    import pdfplumber

    data = _read_bounded(fp, name)
    if not data.startswith(b"%PDF"):
        raise NarrativeError(name, "tệp không phải PDF")
    _check_pdf_streams(data, name)
    try:
        document = _pdf_document(pdfplumber.open(io.BytesIO(data)), name)
    except NarrativeError:
        raise
    except Exception as exc:  # pdfminer raises many unrelated exception types
        raise NarrativeError(name, f"không đọc được tệp PDF ({type(exc).__name__})") from exc
    if not any(line.strip() for line in document.lines):
        raise NarrativeError(
            name,
            "PDF không có lớp văn bản (có thể là bản scan) và không đọc được bằng OCR; "
            "cần gửi tệp .docx hoặc PDF văn bản (no text layer, and OCR read nothing)",
        )
    return document


def _scan_dpi(page: Any) -> int:
    """The resolution to render a scanned page at: the scan's own when one image covers the page
    (resampling a 200 dpi scan to 300 dpi blurs the diacritics Tesseract needs), else OCR_DPI."""
    for image in page.images:
        covers = (image["x1"] - image["x0"]) >= 0.9 * float(page.width)
        if covers and image.get("srcsize") and image["srcsize"][0]:
            dpi = round(image["srcsize"][0] * 72 / (image["x1"] - image["x0"]))
            return min(max(dpi, MIN_SCAN_DPI), MAX_SCAN_DPI)
    return OCR_DPI


def _page_text(page: Any, name: str, ocr_done: int) -> tuple[str, bool]:
    """The text of one page, and whether it was read by OCR (a page without any character)."""
    if page.chars:
        return page.extract_text() or "", False
    if not page.images:
        return "", False  # no scan on it: blank, or drawings only
    if ocr_done >= MAX_OCR_PAGES:
        raise NarrativeError(name, f"tệp PDF có quá nhiều trang scan (tối đa {MAX_OCR_PAGES}; too many scanned pages)")
    if not ocr_available():
        return "", False  # reported as a PDF without a text layer
    png = io.BytesIO()
    dpi = _scan_dpi(page)
    page.to_image(resolution=dpi).original.convert("L").save(png, format="PNG")
    try:
        return ocr_png(png.getvalue(), dpi=dpi), True
    except OcrError as exc:
        raise NarrativeError(name, f"không đọc được trang scan bằng OCR (OCR failed: {exc})") from exc


def _page_blocks(page: Any, name: str, ocr_done: int) -> tuple[list[PageBlock], bool]:
    """The lines of one page (rows of its ruled data tables among them), and whether by OCR."""
    blocks: list[PageBlock] | None = None
    if page.chars:
        try:
            blocks = page_blocks(page)
        except Exception:  # an odd drawing defeats table finding: the page is read as plain text
            blocks = None
    if blocks is not None:
        return blocks, False
    text, by_ocr = _page_text(page, name, ocr_done)
    return [PageBlock(0.0, line, i) for i, line in enumerate(_nfc_lines(text), 1)], by_ocr


def _pdf_document(pdf: Any, name: str) -> Document:
    """Text lines page after page, within :data:`MAX_PDF_PAGES` and :data:`MAX_TEXT_CHARS`."""
    lines: list[str] = []
    pages: list[int | None] = []
    page_lines: list[int | None] = []
    tables: dict[tuple[int, int], list[TableRow]] = {}
    ocr_pages: set[int] = set()
    chars = 0
    with pdf:
        if len(pdf.pages) > MAX_PDF_PAGES:
            raise NarrativeError(name, f"tệp PDF có quá nhiều trang (tối đa {MAX_PDF_PAGES}; too many pages)")
        for page_no, page in enumerate(pdf.pages, 1):
            blocks, by_ocr = _page_blocks(page, name, len(ocr_pages))
            page.close()  # drop the page's cached layout objects
            if by_ocr:
                ocr_pages.add(page_no)
            chars += sum(len(b.text) for b in blocks)
            if chars > MAX_TEXT_CHARS:
                raise NarrativeError(name, f"tệp PDF có quá nhiều chữ (tối đa {MAX_TEXT_CHARS} ký tự; too much text)")
            for block in blocks:
                lines.append(unicodedata.normalize("NFC", block.text))
                pages.append(page_no)
                page_lines.append(block.page_line)
                if block.grid is not None and block.cell_ids is not None and block.table is not None:
                    row = TableRow(len(lines), block.grid, block.cell_ids)
                    tables.setdefault((page_no, block.table), []).append(row)
    return Document(
        lines=lines,
        pages=pages,
        page_lines=page_lines,
        tables=tuple(Table(tuple(rows)) for rows in tables.values()),
        ocr_pages=frozenset(ocr_pages),
    )


def read_document(fp: BinaryIO, *, name: str) -> Document:
    """Read a report by the suffix of ``name``, with where each line stands and its tables.

    >>> read_document(io.BytesIO("BÁO CÁO\\nTổng số: 12".encode()), name="bc.txt").lines
    ['BÁO CÁO', 'Tổng số: 12']
    """
    suffix = PurePath(name).suffix.lower()
    if suffix == ".txt":
        lines = read_txt(fp, name=name)
        document = Document(lines=lines, tables=pipe_tables(lines))
    elif suffix == ".docx":
        document = read_docx_document(fp, name=name)
    elif suffix == ".pdf":
        document = read_pdf_document(fp, name=name)
    elif suffix == ".doc":
        raise NarrativeError(name, "định dạng .doc (Word 97-2003) chưa được hỗ trợ; hãy lưu lại dưới dạng .docx")
    else:
        raise NarrativeError(name, f"không hỗ trợ loại tệp {suffix or '(không có phần mở rộng)'}")
    if not any(line.strip() for line in document.lines):
        raise NarrativeError(name, "tệp không có nội dung")
    return document


def read_lines(fp: BinaryIO, *, name: str) -> list[str]:
    """Read a report by the suffix of ``name``; raise :class:`NarrativeError` if impossible.

    >>> read_lines(io.BytesIO("BÁO CÁO\\nTổng số: 12".encode()), name="bc.txt")
    ['BÁO CÁO', 'Tổng số: 12']
    """
    return read_document(fp, name=name).lines
