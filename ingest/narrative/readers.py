"""Turn a narrative report (``.txt``, ``.docx`` or text-based ``.pdf``) into a list of lines.

Every reader returns NFC-normalised text, one entry per line, so that ``lines[i]`` is line
``i + 1`` of what an official sees:

* ``.txt``: the physical lines of the file, decoded as UTF-8 (with or without BOM), UTF-16
  (with BOM, or recognised by its NUL bytes) or, as a last resort, Windows-1258;
* ``.docx``: one entry per body paragraph, in document order (so line ``n`` is the ``n``-th
  paragraph); the rows of tables follow after the last paragraph, one row per entry with the
  cells joined by `` | ``, so that paragraph numbers stay stable;
* ``.pdf``: the lines of the text that pdfplumber extracts, page after page.

>>> read_lines(io.BytesIO(("BÁO CÁO" + chr(10) + "Về kết quả tháng 3").encode("utf-16")), name="bc.txt")
['BÁO CÁO', 'Về kết quả tháng 3']
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import PurePath
from typing import BinaryIO

__all__ = ["SUPPORTED_SUFFIXES", "NarrativeError", "read_docx", "read_lines", "read_pdf", "read_txt"]

SUPPORTED_SUFFIXES = (".txt", ".docx", ".pdf")
MAX_BYTES = 50 * 1024 * 1024
"""Narrative reports are a few pages; anything above this is refused rather than parsed."""


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
        return data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise NarrativeError(name, "không đọc được bảng mã của tệp (UTF-8, UTF-16, Windows-1258)") from exc


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


def read_pdf(fp: BinaryIO, *, name: str) -> list[str]:
    """Lines of the text layer of a PDF, page after page (pdfplumber).

    >>> read_pdf(open("report.pdf", "rb"), name="report.pdf")[:1]  # doctest: +SKIP
    ['BÁO CÁO']
    """
    import pdfplumber

    data = _read_bounded(fp, name)
    if not data.startswith(b"%PDF"):
        raise NarrativeError(name, "tệp không phải PDF")
    lines: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                lines.extend(_nfc_lines(page.extract_text() or ""))
    except Exception as exc:  # pdfminer raises many unrelated exception types
        raise NarrativeError(name, f"không đọc được tệp PDF ({type(exc).__name__})") from exc
    if not any(line.strip() for line in lines):
        raise NarrativeError(name, "PDF không có lớp văn bản (có thể là bản scan); cần gửi tệp .docx hoặc PDF văn bản")
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
