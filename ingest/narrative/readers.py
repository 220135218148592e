"""Turn a narrative report (``.txt``, ``.docx`` or text-based ``.pdf``) into a list of lines.

Every reader returns NFC-normalised text, one entry per line, so that ``lines[i]`` is line
``i + 1`` of what an official sees:

* ``.txt``: the physical lines of the file, decoded as UTF-8 (with or without BOM), UTF-16
  (with BOM, or recognised by its NUL bytes) or, as a last resort, Windows-1258 when that gives
  plausible Vietnamese (:mod:`ingest.vietnamese_text`; a Latin-1 file is refused, not misread);
* ``.docx``: one entry per body paragraph, in document order (so line ``n`` is the ``n``-th
  paragraph); the rows of tables follow after the last paragraph, one row per entry with the
  cells joined by `` | ``, so that paragraph numbers stay stable;
* ``.pdf``: the lines of the text that pdfplumber extracts, page after page.

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
from ingest.vietnamese_text import first_implausible

__all__ = ["SUPPORTED_SUFFIXES", "NarrativeError", "read_docx", "read_lines", "read_pdf", "read_txt"]

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
    """One line per paragraph of a ``.docx`` (then one per table row).

    >>> read_docx(open("report.docx", "rb"), name="report.docx")[:1]  # doctest: +SKIP
    ['BÁO CÁO']
    """
    import docx  # python-docx

    data = _read_bounded(fp, name)
    _check_docx_archive(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise NarrativeError(name, "tệp .docx bị hỏng hoặc không phải tệp Word") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise NarrativeError(name, f"không mở được tệp .docx ({type(exc).__name__})") from exc
    lines: list[str] = []
    for paragraph in document.paragraphs:
        # A manual line break inside a paragraph is still the same paragraph (one line number).
        text = paragraph.text.replace("\n", " ").replace("\v", " ")
        lines.append(unicodedata.normalize("NFC", text))
    for table in document.tables:
        for row in table.rows:
            cells: list[str] = []
            for cell in row.cells:
                text = " ".join(cell.text.split())
                if not cells or cells[-1] != text:  # merged cells repeat their text
                    cells.append(text)
            lines.append(unicodedata.normalize("NFC", " | ".join(cells)))
    return lines


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
    """Lines of the text layer of a PDF, page after page (pdfplumber).

    >>> read_pdf(open("report.pdf", "rb"), name="report.pdf")[:1]  # doctest: +SKIP
    ['BÁO CÁO']
    """
    import pdfplumber

    data = _read_bounded(fp, name)
    if not data.startswith(b"%PDF"):
        raise NarrativeError(name, "tệp không phải PDF")
    _check_pdf_streams(data, name)
    try:
        lines = _pdf_lines(pdfplumber.open(io.BytesIO(data)), name)
    except NarrativeError:
        raise
    except Exception as exc:  # pdfminer raises many unrelated exception types
        raise NarrativeError(name, f"không đọc được tệp PDF ({type(exc).__name__})") from exc
    if not any(line.strip() for line in lines):
        raise NarrativeError(name, "PDF không có lớp văn bản (có thể là bản scan); cần gửi tệp .docx hoặc PDF văn bản")
    return lines


def _pdf_lines(pdf: Any, name: str) -> list[str]:
    """Text lines page after page, within :data:`MAX_PDF_PAGES` and :data:`MAX_TEXT_CHARS`."""
    lines: list[str] = []
    chars = 0
    with pdf:
        if len(pdf.pages) > MAX_PDF_PAGES:
            raise NarrativeError(name, f"tệp PDF có quá nhiều trang (tối đa {MAX_PDF_PAGES}; too many pages)")
        for page in pdf.pages:
            text = page.extract_text() or ""
            page.close()  # drop the page's cached layout objects
            chars += len(text)
            if chars > MAX_TEXT_CHARS:
                raise NarrativeError(name, f"tệp PDF có quá nhiều chữ (tối đa {MAX_TEXT_CHARS} ký tự; too much text)")
            lines.extend(_nfc_lines(text))
    return lines


def read_lines(fp: BinaryIO, *, name: str) -> list[str]:
    """Read a report by the suffix of ``name``; raise :class:`NarrativeError` if impossible.

    >>> read_lines(io.BytesIO("BÁO CÁO\\nTổng số: 12".encode()), name="bc.txt")
    ['BÁO CÁO', 'Tổng số: 12']
    """
    suffix = PurePath(name).suffix.lower()
    if suffix == ".txt":
        lines = read_txt(fp, name=name)
    elif suffix == ".docx":
        lines = read_docx(fp, name=name)
    elif suffix == ".pdf":
        lines = read_pdf(fp, name=name)
    elif suffix == ".doc":
        raise NarrativeError(name, "định dạng .doc (Word 97-2003) chưa được hỗ trợ; hãy lưu lại dưới dạng .docx")
    else:
        raise NarrativeError(name, f"không hỗ trợ loại tệp {suffix or '(không có phần mở rộng)'}")
    if not any(line.strip() for line in lines):
        raise NarrativeError(name, "tệp không có nội dung")
    return lines
