"""Narrative reports as submissions: confident figures load as facts, the rest go to review.

A statement becomes a fact (source kind ``narrative``, with its line and snippet as lineage)
when the report names its unit and month, the statement has a numerator, and its mapping to
the indicator registry is confident.  Every other statement is quarantined with the reason
``needs_review`` and written to a review workbook that a person corrects and sends back
through the normal submission path.  So rows read (statements) = rows loaded + rows quarantined.

The statements are those of the prose (:func:`ingest.narrative.extract.extract_statements`) and
one per row of each per-service table (:mod:`ingest.narrative.tables`: the tables of a ``.docx``
and the ruled tables of a PDF), in the order of the report.  A PDF statement names its page and
the line of the page in its note (``trang 2, dòng 7``).  A statement read by OCR from a scanned
page loads only when its own figures check out (numerator ÷ denominator = the stated rate, within
the registry's ``rate_mismatch_pp`` and the precision printed); otherwise its confidence drops to
:data:`OCR_CONFIDENCE` and it goes to review.

>>> rows = list(narrative_parser(load_registry(), "2026-03")(open("bc.docx", "rb"), "bc.docx"))
"""

from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import BinaryIO

from ingest.narrative.document import Document
from ingest.narrative.extract import Statement, extract_statements
from ingest.narrative.header import ReportHeader, read_header
from ingest.narrative.readers import NarrativeError, read_document
from ingest.narrative.tables import table_statements
from ingest.registry import NO_SERVICE, Registry, Unit
from ingest.submissions.model import RowProblem, SubmissionError, SubmissionRow

CONFIDENT = 0.75
"""Minimum mapping confidence for a statement to load without review."""
OCR_CONFIDENCE = 0.5
"""The confidence of an OCR statement whose figures do not check out: below :data:`CONFIDENT`."""

Parser = Callable[[BinaryIO, str], Iterator[SubmissionRow | RowProblem]]


@dataclass(frozen=True)
class NarrativeReport:
    header: ReportHeader
    unit: Unit | None
    statements: list[Statement]
    document: Document = field(default_factory=lambda: Document(lines=[]))
    """Where each line stands (page, OCR) and the tables, as read."""
    unchecked_ocr: frozenset[int] = frozenset()
    """Indexes in :attr:`statements` of OCR statements whose figures do not check out."""


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _period_end(period: str) -> dt.date:
    y, m = map(int, period.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def resolve_unit(header: ReportHeader, registry: Registry) -> Unit | None:
    """The registry unit that sent the report: its role in the province named, valid that month."""
    if not (header.unit_role and header.province_name and header.period):
        return None
    day = _period_end(header.period)
    wanted = _fold(header.province_name).replace("tinh ", "").replace("thanh pho ", "").strip()
    provinces = [
        u
        for u in registry.units.values()
        if u.kind == "province" and u.valid_on(day) and wanted in _fold(u.name_vi).replace("(cu)", "")
    ]
    for province in provinces:
        code = province.code if header.unit_role == "province" else f"{province.code}.{header.unit_role}"
        unit = registry.units.get(code)
        if unit is not None and unit.valid_on(day):
            return unit
    return None


def figures_check_out(st: Statement, registry: Registry) -> bool:
    """True when numerator ÷ denominator gives the stated rate, within the registry's tolerance
    plus half a unit of the last decimal printed (``99,7`` for 99,71 is fine).

    >>> st = next(extract_statements(["Khai tử: 1.363 hồ sơ trực tuyến/1.365 hồ sơ, tỷ lệ 99,85%."]))
    >>> figures_check_out(st, load_registry()), figures_check_out(replace(st, numerator=1383), load_registry())
    (True, False)
    """
    if st.numerator is None or not st.denominator or st.reported_rate_pct is None:
        return False
    tolerance = registry.tolerances.default.rate_mismatch_pp
    if st.indicator_code is not None and st.indicator_code in registry.indicators:
        tolerance = registry.tolerances.for_indicator(st.indicator_code).rate_mismatch_pp
    exponent = st.reported_rate_pct.as_tuple().exponent
    printed = Decimal(5).scaleb((exponent if isinstance(exponent, int) else 0) - 1)
    computed = Decimal(100) * Decimal(st.numerator) / Decimal(st.denominator)
    return abs(computed - st.reported_rate_pct) <= tolerance + printed


def document_statements(
    document: Document, header: ReportHeader, registry: Registry
) -> tuple[list[Statement], frozenset[int]]:
    """The statements of a report as read, in line order: one per row of each service table and
    those of the prose around them; and the indexes of OCR statements whose figures do not check
    out (their confidence lowered to :data:`OCR_CONFIDENCE`).

    >>> doc = read_document(io.BytesIO("Khai sinh: 2070 hồ sơ trực tuyến/2076 hồ sơ.".encode()), name="a.txt")
    >>> [s.numerator for s in document_statements(doc, read_header(doc.lines), load_registry())[0]]
    [2070]
    """
    from_tables, table_lines = table_statements(document.tables, registry, header.unit_role)
    prose = [("" if i in table_lines else line) for i, line in enumerate(document.lines, 1)]
    found = list(extract_statements(prose, registry=registry, header=header))
    statements = sorted(found + from_tables, key=lambda st: st.line_no)
    unchecked: set[int] = set()
    for i, st in enumerate(statements):
        if document.is_ocr(st.line_no) and not figures_check_out(st, registry):
            statements[i] = replace(st, confidence=min(st.confidence, OCR_CONFIDENCE))
            unchecked.add(i)
    return statements, frozenset(unchecked)


def read_report(fp: BinaryIO, name: str, registry: Registry) -> NarrativeReport:
    """Read a report, its header and statements (prose and service tables), in document order."""
    try:
        document = read_document(fp, name=name)
    except NarrativeError as exc:
        raise SubmissionError(
            name, "unreadable_report", f"Không đọc được báo cáo: {exc}", f"cannot read the report: {exc}"
        ) from exc
    header = read_header(document.lines, registry)
    statements, unchecked = document_statements(document, header, registry)
    return NarrativeReport(header, resolve_unit(header, registry), statements, document, unchecked)


def _lineage(report: NarrativeReport, st: Statement) -> dict[str, str | None]:
    """Where an official finds the statement on paper: page and line of the page (PDF), OCR."""
    page, line = report.document.where(st.line_no)
    if page is None:
        return {}
    note = f"trang {page}, dòng {line}" + (" (OCR)" if report.document.is_ocr(st.line_no) else "")
    return {
        "page": str(page),
        "page_line": str(line),
        "ocr": "1" if report.document.is_ocr(st.line_no) else None,
        "note": note,
    }


def _review_reason(
    report: NarrativeReport, st: Statement, period: str | None, index: int = -1
) -> tuple[str, str, str] | None:
    """Why a statement needs a person: (column, Vietnamese, English); None if it can load."""
    if report.unit is None:
        return (
            "unit_code",
            "Không xác định được đơn vị báo cáo từ tiêu đề văn bản",
            "the reporting unit is not stated in the report's header",
        )
    if report.header.period is None:
        return (
            "period",
            "Không xác định được kỳ báo cáo từ tiêu đề văn bản",
            "the reported month is not stated in the report's header",
        )
    if period is not None and report.header.period != period:
        return (
            "period",
            f"Báo cáo kỳ {report.header.period}, không phải kỳ {period}",
            f"the report is for {report.header.period}, not {period}",
        )
    if st.numerator is None:
        return (
            "numerator",
            "Chỉ có tỷ lệ, không có tử số: cần bổ sung số liệu",
            "a bare rate without a numerator: figures needed",
        )
    if index in report.unchecked_ocr:
        return (
            "numerator",
            "Số liệu đọc bằng OCR từ bản scan, tử số/mẫu số không khớp tỷ lệ nêu: cần người rà soát",
            "figures read by OCR from a scan that do not check out against the stated rate: needs review",
        )
    if st.indicator_code is None or st.confidence < CONFIDENT:
        return (
            "indicator_code",
            "Chưa xác định chắc chắn chỉ tiêu tương ứng: cần người rà soát",
            "the indicator is not mapped with confidence: needs review",
        )
    if st.service_code is None:
        return (
            "service_code",
            "Chưa xác định được dịch vụ công: cần người rà soát",
            "the essential service is not identified: needs review",
        )
    return None


def narrative_parser(registry: Registry, period: str | None) -> Parser:
    """A parser with the submission parsers' contract, for .txt, .docx and .pdf reports."""

    def parse(fp: BinaryIO, name: str) -> Iterator[SubmissionRow | RowProblem]:
        report = read_report(fp, name, registry)
        first_line: dict[tuple[str, str], int] = {}
        for row_no, st in enumerate(report.statements, 1):
            why = _review_reason(report, st, period, row_no - 1)
            lineage = _lineage(report, st)
            key = (st.indicator_code or "", st.service_code or NO_SERVICE)
            if why is None and key in first_line:
                # A report often repeats a figure broken down (in a footnote, by former province):
                # the first statement is the unit's figure, the others are for a person to read.
                why = (
                    "indicator_code",
                    f"Chỉ tiêu này đã có số liệu ở dòng {first_line[key]}: cần người rà soát",
                    f"the report already gave this indicator on line {first_line[key]}: needs review",
                )
            elif why is None:
                first_line[key] = st.line_no
            if why is not None:
                column, vi, en = why
                yield RowProblem(
                    row_no=row_no,
                    column=column,
                    raw_value=st.snippet[:500],
                    reason_code="needs_review",
                    reason_vi=vi,
                    reason_en=en,
                    raw_row={k: None if v is None else str(v) for k, v in st.to_json().items()} | lineage,
                )
                continue
            assert report.unit is not None and report.header.period is not None
            assert st.numerator is not None and st.indicator_code is not None
            indicator = registry.indicators[st.indicator_code]
            flags: tuple[str, ...] = ()
            if indicator.denominator_kind == "total" and st.denominator is not None and st.numerator > st.denominator:
                flags = ("numerator_above_denominator",)
            yield SubmissionRow(
                row_no=row_no,
                unit_code=report.unit.code,
                period=report.header.period,
                indicator_code=st.indicator_code,
                service_code=st.service_code or NO_SERVICE,
                numerator=st.numerator,
                denominator=st.denominator,
                reported_rate=st.reported_rate_pct,
                note=lineage.get("note"),
                flags=flags,
                source_line=st.line_no,
                snippet=st.snippet[:1000],
            )

    return parse
