"""A .txt, a .docx and a .pdf made from the same text give the same statements and values."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.narrative.extract import Statement, extract_statements
from ingest.narrative.readers import read_lines
from ingest.registry import Registry

from .conftest import sample_lines
from .documents import make_docx, make_pdf

NAMES = (
    "000_912342d7bb84c32c",
    "002_67a72e19db5d95ba",
    "synthetic_cat_dong_thap_2026_04",
    "synthetic_syt_ca_mau_2026_03",
)


def _values(statements: list[Statement]) -> list[tuple[str, ...]]:
    return sorted(
        tuple(
            str(v)
            for v in (
                s.numerator,
                s.denominator,
                s.reported_rate_pct,
                s.denominator_kind,
                s.indicator_code,
                s.service_code,
            )
        )
        for s in statements
    )


@pytest.mark.parametrize("name", NAMES)
def test_docx_gives_the_same_values_and_line_numbers(name: str, registry: Registry) -> None:
    lines = sample_lines(name)
    from_txt = list(extract_statements(lines, registry=registry))
    docx_lines = read_lines(io.BytesIO(make_docx(lines)), name=f"{name}.docx")
    from_docx = list(extract_statements(docx_lines, registry=registry))
    assert _values(from_docx) == _values(from_txt)
    # One paragraph per source line: paragraph numbers are the text's line numbers.
    assert [s.line_no for s in from_docx] == [s.line_no for s in from_txt]


@pytest.mark.parametrize("name", NAMES)
def test_pdf_gives_the_same_values(name: str, registry: Registry, dejavu_font: Path) -> None:
    pytest.importorskip("fpdf", reason="fpdf2 is needed to build test PDFs: add fpdf2 to the dev dependencies")
    lines = sample_lines(name)
    from_txt = list(extract_statements(lines, registry=registry))
    pdf_lines = read_lines(io.BytesIO(make_pdf(lines, dejavu_font)), name=f"{name}.pdf")
    from_pdf = list(extract_statements(pdf_lines, registry=registry))
    assert _values(from_pdf) == _values(from_txt)
    # Line numbers are those of the extracted text, and point at the figure.
    for st in from_pdf:
        figure = st.numerator if st.numerator is not None else st.reported_rate_pct
        assert figure is not None
        assert str(figure).split(".")[0][:2] in pdf_lines[st.line_no - 1].replace(".", "").replace(",", "")


def test_docx_and_pdf_of_the_same_text_agree(registry: Registry, dejavu_font: Path) -> None:
    pytest.importorskip("fpdf", reason="fpdf2 is needed to build test PDFs: add fpdf2 to the dev dependencies")
    lines = sample_lines("synthetic_cat_dong_thap_2026_04")
    docx_lines = read_lines(io.BytesIO(make_docx(lines)), name="bc.docx")
    pdf_lines = read_lines(io.BytesIO(make_pdf(lines, dejavu_font)), name="bc.pdf")
    assert _values(list(extract_statements(docx_lines, registry=registry))) == _values(
        list(extract_statements(pdf_lines, registry=registry))
    )
