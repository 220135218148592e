"""Build .docx and .pdf versions of a text report for the tests (python-docx, fpdf2)."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path

from ingest.narrative.document import pipe_tables


def make_docx(lines: Sequence[str], *, table: Sequence[Sequence[str]] = ()) -> bytes:
    """One paragraph per line (blank lines too, so paragraph n is line n of the text)."""
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_pdf(lines: Sequence[str], font: Path) -> bytes:
    """A text PDF (fpdf2, A4, 11 pt): each non-blank line is a paragraph that wraps to the page."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(font))
    pdf.set_font("DejaVu", size=11)
    for line in lines:
        if line.strip():
            pdf.multi_cell(0, 6, line.strip(), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(2)
    return bytes(pdf.output())


def make_empty_pdf() -> bytes:
    """A PDF page with a drawing and no text layer, like a scan."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 50, 30)
    return bytes(pdf.output())


def make_html(lines: Sequence[str]) -> str:
    """A report as an office suite opens it: one paragraph per line, and each run of ``a | b | c``
    rows as a real table (LibreOffice then saves it as a .docx with Word tables)."""
    tables = {t.rows[0].line_no: t for t in pipe_tables(lines)}
    in_table: set[int] = set()
    parts = ['<html><head><meta charset="utf-8"></head><body>']
    for line_no, line in enumerate(lines, 1):
        if line_no in tables:
            rows = tables[line_no].rows
            in_table.update(r.line_no for r in rows)
            cells = ("".join(f"<td>{html.escape(c)}</td>" for c in r.grid) for r in rows)
            parts.append('<table border="1">' + "".join(f"<tr>{c}</tr>" for c in cells) + "</table>")
        elif line_no not in in_table:
            parts.append(f"<p>{html.escape(line)}</p>")
    return "\n".join([*parts, "</body></html>"])
