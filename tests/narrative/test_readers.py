"""Reading .txt (UTF-8, UTF-16, Windows-1258), .docx and .pdf into NFC lines."""

from __future__ import annotations

import io
import unicodedata

import pytest

from ingest.narrative.readers import NarrativeError, read_lines

from .documents import make_docx

TEXT = "BÁO CÁO\nĐăng ký khai tử: 1363 hồ sơ trực tuyến/1365 hồ sơ, tỷ lệ 100%\n"
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Word writes it: base letters precomposed, tones combining."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES)) + tones)
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM
        TEXT.encode("utf-16-le"),  # without BOM
        TEXT.encode("utf-16-be"),
        unicodedata.normalize("NFD", TEXT).encode("utf-8"),  # decomposed (macOS copy-paste)
        _cp1258(TEXT),  # Windows Vietnamese: combining tone marks
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le", "utf16be", "nfd", "cp1258"],
)
def test_text_encodings_give_nfc_lines(data: bytes) -> None:
    assert read_lines(io.BytesIO(data), name="bc.txt") == TEXT.splitlines()


def test_docx_paragraph_index_is_the_line_number() -> None:
    data = make_docx(["BÁO CÁO", "", "Tổng số: 12 hồ sơ"], table=[["Dịch vụ", "Số hồ sơ"], ["Khai sinh", "12"]])
    lines = read_lines(io.BytesIO(data), name="bc.docx")
    assert lines[:3] == ["BÁO CÁO", "", "Tổng số: 12 hồ sơ"]
    assert lines[3:] == ["Dịch vụ | Số hồ sơ", "Khai sinh | 12"]


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("bc.doc", b"\xd0\xcf\x11\xe0", ".doc"),
        ("bc.xlsx", b"PK", "không hỗ trợ"),
        ("bc.txt", b"   \n\n", "không có nội dung"),
        ("bc.docx", b"not a zip", ".docx"),
        ("bc.pdf", b"<html>", "không phải PDF"),
        ("bc.pdf", b"%PDF-1.4 garbage", "PDF"),
    ],
)
def test_unreadable_files_raise_a_named_error_with_the_file_name(name: str, data: bytes, words: str) -> None:
    with pytest.raises(NarrativeError) as info:
        read_lines(io.BytesIO(data), name=name)
    assert info.value.file_name == name
    assert name in str(info.value) and words in str(info.value)


def test_scanned_pdf_without_text_layer() -> None:
    pytest.importorskip("fpdf", reason="fpdf2 is needed to build test PDFs: add fpdf2 to the dev dependencies")
    from .documents import make_empty_pdf

    with pytest.raises(NarrativeError, match="không có lớp văn bản"):
        read_lines(io.BytesIO(make_empty_pdf()), name="scan.pdf")
