"""What a person needs after a narrative report is loaded: its consistency findings, stored for
the quality report, and a review workbook of the statements that could not load by themselves.

The workbook uses the submission contract's columns (Vietnamese aliases), pre-filled with what
the extractor found.  A person corrects the indicator and service codes, deletes what is not a
monthly figure, and sends the file back through the inbox like any submission.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
from openpyxl.styles import Alignment, Font, PatternFill

from ingest.config import data_dir
from ingest.narrative.findings import consistency_findings
from ingest.narrative.submission import read_report
from ingest.registry import Registry
from ingest.safety import neutralise_formula, safe_filename
from ingest.submissions.model import RowProblem, SubmissionRow

REVIEW_KEYWORD = "d06:ra-soat"
"""Written into a review workbook's document keywords, so that it is recognised when it comes back
(office suites keep document properties when a person edits and saves the file)."""
CONTRACT_HEADERS = ["ma_don_vi", "ky_bao_cao", "ma_chi_tieu", "ma_dich_vu", "tu_so", "mau_so", "ty_le", "ghi_chu"]
HELPER_HEADERS = ["dong_trong_bao_cao", "do_tin_cay", "ly_do_can_ra_soat", "noi_dung_trich"]
GUIDE = [
    "Hướng dẫn rà soát số liệu trích từ báo cáo văn bản",
    "",
    "1. Mỗi dòng ở trang 'du_lieu' là một số liệu máy đọc được nhưng chưa chắc chắn.",
    "2. Điền hoặc sửa mã chỉ tiêu (ma_chi_tieu) và mã dịch vụ (ma_dich_vu) theo danh mục; "
    "xóa các dòng không phải số liệu của tháng.",
    "3. Kiểm tra tử số, mẫu số, tỷ lệ với nội dung trích ở cột 'noi_dung_trich'.",
    "4. Lưu tệp và gửi lại vào hộp thư đến như một báo cáo định kỳ bình thường.",
]


def review_path(file_name: str, period: str | None) -> Path:
    stem = Path(safe_filename(file_name)).stem
    return data_dir() / "review" / (period or "unknown") / f"{stem}_ra_soat.xlsx"


def _review_note(source_name: str, r: dict[str, str | None]) -> str:
    """Where the figure stands: the line, and for a PDF the page and line of the page (OCR said)."""
    where = f"dòng {r.get('line_no')}"
    if r.get("page"):
        where = f"trang {r['page']}, dòng {r.get('page_line')}" + (" (đọc bằng OCR)" if r.get("ocr") else "")
    return f"Rà soát từ báo cáo văn bản {source_name}, {where}".replace("  ", " ")


def write_review_workbook(
    path: Path, unit_code: str | None, period: str | None, problems: list[RowProblem], source_name: str = ""
) -> Path:
    """Write the statements that need a person to ``path`` (an XLSX the parser accepts back).

    Each row keeps its lineage: the report it came from, its line and the sentence."""
    wb = openpyxl.Workbook()
    wb.properties.keywords = REVIEW_KEYWORD
    wb.properties.subject = f"Rà soát số liệu: {source_name}"
    ws = wb.active
    assert ws is not None
    ws.title = "du_lieu"
    ws.append(CONTRACT_HEADERS + HELPER_HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for p in problems:
        r = p.raw_row
        values = [
            unit_code,
            period,
            r.get("indicator_code"),
            r.get("service_code"),
            r.get("numerator"),
            r.get("denominator"),
            r.get("reported_rate_pct"),
            _review_note(source_name, r),
            r.get("line_no"),
            r.get("confidence"),
            p.reason_vi,
            r.get("snippet"),
        ]
        ws.append([neutralise_formula(v) for v in values])
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKL", [14, 11, 24, 11, 12, 12, 9, 30, 10, 10, 40, 90], strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, min_col=12, max_col=12):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    guide = wb.create_sheet("huong_dan")
    for line in GUIDE:
        guide.append([line])
    guide["A1"].font = Font(bold=True, size=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def after_narrative_load(
    conn: psycopg.Connection[Any],
    file_id: int,
    name: str,
    data: bytes,
    items: list[SubmissionRow | RowProblem],
    registry: Registry,
) -> None:
    """Store the report's consistency findings and write its review workbook."""
    report = read_report(io.BytesIO(data), name, registry)
    findings = consistency_findings(report.statements)
    conn.execute("delete from raw.narrative_finding where file_id = %s", (file_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "insert into raw.narrative_finding (file_id, finding_no, line_no, code, message_vi, message_en, snippet) "
            "values (%s, %s, %s, %s, %s, %s, %s)",
            [
                (file_id, i, f.line_no, f.code, f.message_vi, f.message_en, f.snippet[:1000])
                for i, f in enumerate(findings, 1)
            ],
        )
    problems = [i for i in items if isinstance(i, RowProblem)]
    if problems:
        write_review_workbook(
            review_path(name, report.header.period),
            report.unit.code if report.unit else None,
            report.header.period,
            problems,
            name,
        )
