"""Word files as offices write them, and scanned PDFs (issue 13, parts 3 and 4).

Every file here is made at test time by the real LibreOffice from the hand-written sources in
``tests/narrative/office/`` (see its README), and the scan is read back by the real Tesseract.
The expected values are written by hand from those sources.  ``make office`` installs
LibreOffice and Tesseract (with its Vietnamese model) when missing; in CI nothing is skipped.
"""

from __future__ import annotations

import doctest
import io
import os
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingest.narrative import document as document_module
from ingest.narrative import tables as tables_module
from ingest.narrative.document import Table, TableRow
from ingest.narrative.header import read_header
from ingest.narrative.readers import read_document, read_lines
from ingest.narrative.submission import narrative_parser, read_report
from ingest.narrative.tables import service_columns, table_statements
from ingest.registry import Registry, load_registry
from ingest.submissions.model import RowProblem, SubmissionRow

OFFICE = Path(__file__).resolve().parent / "office"
REPORT = "bao_cao_stp_2026_03"
TRACKED = "bao_cao_sua_doi"
SCAN = "bao_cao_scan_2026_03"
SCAN_DPI = 200
"""A common scanner setting; the reader must not resample it (see readers._scan_dpi)."""


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        message = f"{tool} is missing: run `make office` (LibreOffice, Tesseract with tesseract-ocr-vie)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return exe


def _soffice(args: list[str], out: Path) -> None:
    exe = _need("soffice")
    profile = (out / "lo-profile").as_uri()  # our own profile: no clash with another soffice
    command = [exe, "--headless", "--norestore", f"-env:UserInstallation={profile}", *args, "--outdir", str(out)]
    done = subprocess.run(command, capture_output=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]


def _rasterise(pdf: bytes, dpi: int) -> bytes:
    """Every page of ``pdf`` as a grey image, saved as a PDF with no text layer (a scan)."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        images = [page.to_image(resolution=dpi).original.convert("L") for page in doc.pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return out.getvalue()


@pytest.fixture(scope="session")
def office(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The fixtures, made by LibreOffice in three runs (a run takes some seconds)."""
    out = tmp_path_factory.mktemp("office")
    sources = [str(OFFICE / f"{REPORT}.html"), str(OFFICE / f"{TRACKED}.fodt")]
    _soffice(["--convert-to", "docx:MS Word 2007 XML", *sources], out)
    _soffice(["--convert-to", "pdf:writer_pdf_Export", str(out / f"{REPORT}.docx")], out)
    _soffice(
        [
            "--infilter=Text (encoded):UTF8,LF,Liberation Serif,vi-VN",
            "--convert-to",
            "pdf:writer_pdf_Export",
            str(OFFICE / f"{SCAN}.txt"),
        ],
        out,
    )
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    files["scan.pdf"] = _rasterise(files[f"{SCAN}.pdf"], SCAN_DPI)
    return files


@pytest.fixture(scope="session")
def reg() -> Registry:
    return load_registry()


def _parse(data: bytes, name: str, reg: Registry) -> tuple[list[SubmissionRow], list[RowProblem]]:
    items = list(narrative_parser(reg, "2026-03")(io.BytesIO(data), name))
    return [i for i in items if isinstance(i, SubmissionRow)], [i for i in items if isinstance(i, RowProblem)]


def _figures(rows: list[SubmissionRow]) -> list[tuple[str, str, int, int | None, Decimal | None]]:
    return [(r.indicator_code, r.service_code, r.numerator, r.denominator, r.reported_rate) for r in rows]


# The .docx of bao_cao_stp_2026_03.html, line by line, as an official reads it (by hand).
REPORT_LINES = [
    "UBND TỈNH AN GIANG",
    "SỞ TƯ PHÁP",
    "Số: 15/BC-STP",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "An Giang, ngày 6 tháng 4 năm 2026",
    "BÁO CÁO",
    "Kết quả thực hiện Đề án 06 tháng 3 năm 2026",
    "I. KẾT QUẢ THỰC HIỆN",
    "1. Về dữ liệu hộ tịch: tiếp tục số hóa Sổ hộ tịch và đồng bộ dữ liệu với Cơ sở dữ liệu quốc gia về dân cư¹.",
    "¹ Trong tháng, Đăng ký khai tử: 1.363 hồ sơ trực tuyến/1.365 hồ sơ tiếp nhận, tỷ lệ 99,85%.",
    "2. Kết quả tiếp nhận hồ sơ của các dịch vụ công thiết yếu trong tháng:",
    "STT | Tên thủ tục/dịch vụ | Số hồ sơ | Tỷ lệ",
    "STT | Tên thủ tục/dịch vụ | Tổng số hồ sơ tiếp nhận | Hồ sơ trực tuyến | Tỷ lệ",
    "1 | Đăng ký khai sinh | 2.076 | 2.070 | 99,71%",
    "2 | Đăng ký kết hôn | 845 | 845 | 100%",
    "3 | Cấp phiếu lý lịch tư pháp | 312 | 298 | 95,51%",
    "4 | Liên thông đăng ký khai tử - xóa đăng ký thường trú - trợ cấp mai táng phí | 402 | 100%",
    " | Tổng cộng | 3.635 | 3.615 | 99,45%",
    "3. Tài khoản định danh điện tử: đã cấp 1.584.959 tài khoản; đã kích hoạt 1.203.442 tài khoản, đạt 75,93%.",
    "4. Số hóa kết quả giải quyết thủ tục hành chính: 1.940/2.000 hồ sơ, đạt 97%.",
]
# The table's rows, by hand: (indicator, service, online, received, rate as stated).  The indicator
# is the registry's "received online / received" one; the services are those the rows name.
TABLE_FIGURES = [
    ("DVC_ONLINE_RECEIVED", "DV12", 2070, 2076, Decimal("99.71")),
    ("DVC_ONLINE_RECEIVED", "DV14", 845, 845, Decimal("100")),
    ("DVC_ONLINE_RECEIVED", "DV15", 298, 312, Decimal("95.51")),
    ("DVC_ONLINE_RECEIVED", "DV17", 402, 402, Decimal("100")),
    ("DVC_ONLINE_RECEIVED", "NA", 3615, 3635, Decimal("99.45")),
]
# The figures of the prose, by hand: the footnote's, part 3 and part 4 (numerator, denominator,
# rate).  Where they load is the prose extractor's and mapper's business, tested elsewhere; here
# they must be read at all, from every format.
FOOTNOTE = (1363, 1365, Decimal("99.85"))
PROSE_FIGURES = [FOOTNOTE, (1203442, 1584959, Decimal("75.93")), (1940, 2000, Decimal("97"))]


def _statement_figures(data: bytes, name: str, reg: Registry) -> list[tuple[int | None, int | None, Decimal | None]]:
    report = read_report(io.BytesIO(data), name, reg)
    return [(s.numerator, s.denominator, s.reported_rate_pct) for s in report.statements]


def test_docx_lines_are_in_document_order(office: dict[str, bytes]) -> None:
    lines = read_lines(io.BytesIO(office[f"{REPORT}.docx"]), name=f"{REPORT}.docx")
    assert [line.rstrip() for line in lines] == REPORT_LINES


def test_letterhead_table_gives_the_sender_and_table_rows_load(office: dict[str, bytes], reg: Registry) -> None:
    report = read_report(io.BytesIO(office[f"{REPORT}.docx"]), f"{REPORT}.docx", reg)
    header = report.header
    assert (header.unit_role, header.province_name, header.period) == ("STP", "An Giang", "2026-03")
    assert report.unit is not None and report.unit.code == "AG.STP"
    rows, problems = _parse(office[f"{REPORT}.docx"], f"{REPORT}.docx", reg)
    table_rows = [r for r in rows if r.source_line in range(15, 20)]
    assert _figures(table_rows) == TABLE_FIGURES
    assert [p for p in problems if int(p.raw_row["line_no"] or 0) in range(13, 20)] == []
    assert {r.unit_code for r in rows} == {"AG.STP"}
    # Lineage: the line of each table row is the row itself.
    assert [(r.source_line, r.snippet) for r in table_rows[:2]] == [
        (15, "1 | Đăng ký khai sinh | 2.076 | 2.070 | 99,71%"),
        (16, "2 | Đăng ký kết hôn | 845 | 845 | 100%"),
    ]
    statements = [(s.numerator, s.denominator, s.reported_rate_pct) for s in report.statements]
    assert all(figure in statements for figure in PROSE_FIGURES)
    # Each table row is read once: not again as a sentence.
    assert sum(1 for s in report.statements if s.line_no in range(13, 20)) == len(TABLE_FIGURES)


def test_merged_cells_are_one_cell_and_equal_counts_are_two(office: dict[str, bytes]) -> None:
    doc = read_document(io.BytesIO(office[f"{REPORT}.docx"]), name=f"{REPORT}.docx")
    assert len(doc.tables) == 1  # the letterhead holds no figure: it is read as text, not as a table
    table = doc.tables[0]
    header, marriage, death = table.rows[1], table.rows[3], table.rows[5]
    # "Số hồ sơ" spans the two count columns of the first header row; STT spans both header rows.
    assert table.rows[0].grid[2:4] == ("Số hồ sơ", "Số hồ sơ")
    assert table.rows[0].cell_ids[2] == table.rows[0].cell_ids[3]
    assert header.cell_ids[0] == table.rows[0].cell_ids[0]
    # Two cells that both say 845 are two figures; one cell spanning two columns is one.
    assert marriage.grid == ("2", "Đăng ký kết hôn", "845", "845", "100%")
    assert marriage.cell_ids[2] != marriage.cell_ids[3]
    assert death.grid[2:] == ("402", "402", "100%") and death.cell_ids[2] == death.cell_ids[3]
    assert death.cells[2:] == ("402", "100%")
    columns = service_columns(table)
    assert columns is not None
    assert (columns.service, columns.received, columns.online, columns.rate, columns.header_rows) == (1, 2, 3, 4, 2)
    assert columns.labels[2:4] == ("Số hồ sơ Tổng số hồ sơ tiếp nhận", "Số hồ sơ Hồ sơ trực tuyến")


def test_tracked_insertions_are_text_and_deletions_are_not(office: dict[str, bytes], reg: Registry) -> None:
    data = office[f"{TRACKED}.docx"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert "<w:ins " in body and "<w:del " in body  # LibreOffice wrote the tracked changes
    lines = read_lines(io.BytesIO(data), name=f"{TRACKED}.docx")
    assert lines[5:7] == [
        "1. Đăng ký khai tử: 1.363 hồ sơ trực tuyến/1.365 hồ sơ tiếp nhận, tỷ lệ 99,85%.",
        "2. Đăng ký kết hôn: 845 hồ sơ trực tuyến/845 hồ sơ tiếp nhận, tỷ lệ 100%.",
    ]
    # The inserted denominator makes the first a ratio; the deleted 1.999 is no figure.
    assert _statement_figures(data, f"{TRACKED}.docx", reg) == [FOOTNOTE, (845, 845, Decimal("100"))]


def test_footnote_figure_is_in_the_docx_as_in_the_pdf(office: dict[str, bytes], reg: Registry) -> None:
    for name in (f"{REPORT}.docx", f"{REPORT}.pdf"):
        assert FOOTNOTE in _statement_figures(office[name], name, reg), name


def test_pdf_reads_the_same_figures_with_page_and_line(office: dict[str, bytes], reg: Registry) -> None:
    import pdfplumber

    data = office[f"{REPORT}.pdf"]
    rows, problems = _parse(data, f"{REPORT}.pdf", reg)
    # The table is read as a table from the PDF too: the same rows load.
    assert [f for f in _figures(rows) if f in TABLE_FIGURES] == TABLE_FIGURES
    statements = _statement_figures(data, f"{REPORT}.pdf", reg)
    assert all(figure in statements for figure in PROSE_FIGURES)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = [(page.extract_text() or "").splitlines() for page in pdf.pages]
    assert len(pages) == 2  # part 4 begins page 2 (a page break in the source)
    notes = {r.numerator: r.note for r in rows} | {
        int(p.raw_row["numerator"] or 0): p.raw_row.get("note") for p in problems
    }
    assert notes[1940] == "trang 2, dòng 1"
    shown = {1940: "1.940", 1363: "1.363", 1203442: "1.203.442", 2070: "2.070", 298: "298", 3615: "3.615"}
    for numerator, text in shown.items():
        note = notes[numerator]
        assert note is not None and note.startswith("trang ")
        page, line = (int(x) for x in note.removeprefix("trang ").split(", dòng "))
        assert text in pages[page - 1][line - 1], (numerator, note)  # the official finds the figure there


def test_pdf_table_knows_merged_cells(office: dict[str, bytes]) -> None:
    doc = read_document(io.BytesIO(office[f"{REPORT}.pdf"]), name=f"{REPORT}.pdf")
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.rows[0].cells == ("STT", "Tên thủ tục/dịch vụ", "Số hồ sơ", "Tỷ lệ")
    marriage, death = table.rows[3], table.rows[5]
    assert marriage.grid == ("2", "Đăng ký kết hôn", "845", "845", "100%")
    assert marriage.cell_ids[2] != marriage.cell_ids[3]
    assert death.grid[2:] == ("402", "402", "100%") and death.cell_ids[2] == death.cell_ids[3]
    assert doc.lines[marriage.line_no - 1] == "2 | Đăng ký kết hôn | 845 | 845 | 100%"


def test_scanned_pdf_is_read_by_ocr_and_unchecked_figures_go_to_review(office: dict[str, bytes], reg: Registry) -> None:
    import pdfplumber

    _need("tesseract")
    data = office["scan.pdf"]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert [len(page.chars) for page in pdf.pages] == [0]  # no text layer at all
    report = read_report(io.BytesIO(data), "scan.pdf", reg)  # OCR takes seconds: read twice, not thrice
    assert report.document.ocr_pages == {1}
    assert report.unit is not None and (report.unit.code, report.header.period) == ("AG.STP", "2026-03")
    figures = [(s.numerator, s.denominator, s.reported_rate_pct) for s in report.statements]
    assert figures == [
        (2070, 2076, Decimal("99.71")),  # 2070 / 2076 = 99,71 %: checks out
        (845, 845, Decimal("100")),  # 845 / 845 = 100 %: checks out
        (298, 312, None),  # no rate stated: nothing to check against
        (1363, 1365, Decimal("98.85")),  # 1363 / 1365 = 99,85 %, not the 98,85 % stated
    ]
    assert sorted(report.unchecked_ocr) == [2, 3]
    assert all(report.statements[i].confidence <= 0.5 for i in report.unchecked_ocr)
    rows, problems = _parse(data, "scan.pdf", reg)
    held = [(p.raw_row["numerator"], p.raw_row["denominator"], p.raw_row["reported_rate_pct"]) for p in problems]
    ocr_held = [h for h, p in zip(held, problems, strict=True) if "OCR" in p.reason_vi and "OCR" in p.reason_en]
    assert ocr_held == [("298", "312", None), ("1363", "1365", "98.85")]
    # Figures that check out are not held for being OCR; they load as the prose would.
    assert {r.numerator for r in rows} <= {2070, 845}
    assert all(r.note is not None and r.note.startswith("trang 1, dòng ") and r.note.endswith("(OCR)") for r in rows)
    assert all(p.raw_row.get("ocr") == "1" for p in problems)


def test_a_hostile_cell_span_is_capped(office: dict[str, bytes]) -> None:
    """A cell claiming two billion grid columns (edited into the LibreOffice file) is read, capped."""
    source = io.BytesIO(office[f"{REPORT}.docx"])
    edited = io.BytesIO()
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(edited, "w", zipfile.ZIP_DEFLATED) as out:
        for item in z.infolist():
            data = z.read(item.filename)
            if item.filename == "word/document.xml":
                assert b'<w:gridSpan w:val="2"/>' in data
                data = data.replace(b'<w:gridSpan w:val="2"/>', b'<w:gridSpan w:val="2000000000"/>')
            out.writestr(item, data)
    doc = read_document(io.BytesIO(edited.getvalue()), name="span.docx")
    assert max(len(row.grid) for table in doc.tables for row in table.rows) <= 64 + 4
    assert "SỞ TƯ PHÁP" in doc.lines


def test_letterhead_columns_on_one_pdf_line_still_give_the_sender(reg: Registry) -> None:
    """pdfplumber gives the two letterhead columns as one line each; the issue place is mid-line."""
    lines = [
        "SỞ TƯ PHÁP CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 40/BC-STP Vĩnh Long, ngày 4 tháng 5 năm 2026",
        "BÁO CÁO",
        "Kết quả thực hiện Đề án 06 tháng 4 năm 2026",
    ]
    header = read_header(lines, reg)
    assert (header.unit_role, header.province_name, header.period) == ("STP", "Vĩnh Long", "2026-04")


def test_a_table_continued_on_the_next_page_keeps_its_columns(reg: Registry) -> None:
    """A PDF table cut by a page break is two tables; the second has no header of its own."""
    header = ("STT", "Tên thủ tục", "Tổng số hồ sơ tiếp nhận", "Hồ sơ trực tuyến", "Tỷ lệ")
    first = Table(
        (TableRow(1, header, (0, 1, 2, 3, 4)), TableRow(2, ("1", "Khai sinh", "120", "118", "98,3%"), (5, 6, 7, 8, 9)))
    )
    rest = Table((TableRow(4, ("2", "Cấp phiếu lý lịch tư pháp", "40", "40", "100%"), (10, 11, 12, 13, 14)),))
    other = Table((TableRow(6, ("Ghi chú", "3"), (15, 16)),))
    statements, used = table_statements([first, rest, other], reg, "STP")
    found = [
        (s.line_no, s.indicator_code, s.service_code, s.numerator, s.denominator, s.reported_rate_pct)
        for s in statements
    ]
    assert found == [
        (2, "DVC_ONLINE_RECEIVED", "DV12", 118, 120, Decimal("98.3")),
        (4, "DVC_ONLINE_RECEIVED", "DV15", 40, 40, Decimal("100")),
    ]
    assert used == {1, 2, 4}


@pytest.mark.parametrize("module", [document_module, tables_module])
def test_docstring_examples(module: Any) -> None:
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_submission_docstring_examples() -> None:
    from ingest.narrative import submission

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    names = {"io": io, "load_registry": load_registry}
    for name in ("figures_check_out", "document_statements"):
        for test in finder.find(getattr(submission, name), name, globs={**vars(submission), **names}):
            runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4
