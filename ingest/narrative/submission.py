"""Narrative reports as submissions: confident figures load as facts, the rest go to review.

A statement becomes a fact (source kind ``narrative``, with its line and snippet as lineage)
when the report names its unit and month, the statement has a numerator, and its mapping to
the indicator registry is confident.  Every other statement is quarantined with the reason
``needs_review`` and written to a review workbook that a person corrects and sends back
through the normal submission path.  So rows read (statements) = rows loaded + rows quarantined.

>>> rows = list(narrative_parser(load_registry(), "2026-03")(open("bc.docx", "rb"), "bc.docx"))
"""

from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ingest.narrative.extract import Statement, extract_statements
from ingest.narrative.header import ReportHeader, read_header
from ingest.narrative.readers import NarrativeError, read_lines
from ingest.registry import NO_SERVICE, Registry, Unit
from ingest.submissions.model import RowProblem, SubmissionError, SubmissionRow

CONFIDENT = 0.75
"""Minimum mapping confidence for a statement to load without review."""

Parser = Callable[[BinaryIO, str], Iterator[SubmissionRow | RowProblem]]


@dataclass(frozen=True)
class NarrativeReport:
    header: ReportHeader
    unit: Unit | None
    statements: list[Statement]


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


def read_report(fp: BinaryIO, name: str, registry: Registry) -> NarrativeReport:
    try:
        lines = read_lines(fp, name=name)
    except NarrativeError as exc:
        raise SubmissionError(
            name, "unreadable_report", f"Không đọc được báo cáo: {exc}", f"cannot read the report: {exc}"
        ) from exc
    header = read_header(lines, registry)
    statements = list(extract_statements(lines, registry=registry, header=header))
    return NarrativeReport(header, resolve_unit(header, registry), statements)


def _review_reason(report: NarrativeReport, st: Statement, period: str | None) -> tuple[str, str, str] | None:
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
            why = _review_reason(report, st, period)
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
                    raw_row={k: None if v is None else str(v) for k, v in st.to_json().items()},
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
                note=None,
                flags=flags,
                source_line=st.line_no,
                snippet=st.snippet[:1000],
            )

    return parse
