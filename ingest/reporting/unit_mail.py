"""What each unit is told after a run, and what the standing office is told.

A unit hears only about itself: its quarantined rows, its open findings (each rule in words,
:mod:`ingest.reporting.wording`), its files that did not load, the plan tasks it leads that are
overdue, its own charts, and where to fix or explain (the portal).  The province's summary
counts per unit and lists no row and no address.  One message goes to each address: a unit's
sections (and the summary, for the standing office) are gathered under the address they go to,
so no message carries another mailbox's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.quality import violations
from ingest.registry import NO_SERVICE, Registry
from ingest.reporting.charts import Chart
from ingest.reporting.quality_report import ReportData, quarantine_by_unit, subject
from ingest.reporting.wording import finding_sentence, month_vi, number_vi

FILE_STATUS_VI = {"rejected": "Bị từ chối", "failed": "Lỗi hệ thống", "loaded": "Đã nạp (có cảnh báo)"}


@dataclass
class UnitNotice:
    """Everything one unit must fix or explain for a period (its own rows only)."""

    unit_code: str
    unit_name: str
    email: str
    quarantine_total: int = 0
    quarantine_rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    """The first findings of each check (``rows_per_unit``), most serious first."""
    counts: dict[str, int] = field(default_factory=dict)
    """Open and explained findings by severity (all of them)."""
    files: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    @property
    def findings_total(self) -> int:
        return sum(self.counts.values())

    @property
    def findings_more(self) -> int:
        return self.findings_total - len(self.findings)

    @property
    def quarantine_more(self) -> int:
        return self.quarantine_total - len(self.quarantine_rows)

    def needs_mail(self) -> bool:
        """Something to fix: rows, an error or warning, a file that did not load, an overdue task."""
        serious = self.counts.get("error", 0) + self.counts.get("warning", 0)
        return bool(self.quarantine_total or serious or self.files or self.overdue)


def collect_notices(
    conn: Any, registry: Registry, data: ReportData, overdue: Sequence[dict[str, Any]]
) -> dict[str, UnitNotice]:
    """Per unit of the registry with something to fix in ``data.period``: its notice."""
    notices: dict[str, UnitNotice] = {}

    def notice(code: str) -> UnitNotice | None:
        if code not in registry.units:
            return None
        if code not in notices:
            unit = registry.units[code]
            notices[code] = UnitNotice(code, unit.name_vi, unit.contact_email)
        return notices[code]

    for group in quarantine_by_unit(conn, data.period, data.run_id, data.rows_per_unit, registry):
        if group["unit_code"] and (n := notice(group["unit_code"])):
            n.quarantine_total, n.quarantine_rows = int(group["total"]), group["rows"]
    _add_findings(conn, registry, data, notice)
    for f in data.files:
        if f.get("unit_code") and (f["status"] != "loaded" or f.get("warnings")) and (n := notice(f["unit_code"])):
            n.files.append(
                {
                    "file_name": f["file_name"],
                    "status_vi": FILE_STATUS_VI.get(f["status"], f["status"]),
                    "detail_vi": "; ".join(filter(None, [f.get("error_vi"), *f.get("warnings", [])])),
                }
            )
    for task in overdue:
        if task["lead_unit_code"] and (n := notice(task["lead_unit_code"])):
            n.overdue.append(task)
    return {code: n for code, n in sorted(notices.items()) if n.needs_mail()}


def _add_findings(conn: Any, registry: Registry, data: ReportData, notice: Any) -> None:
    """Each unit's open and explained findings: counted by severity, the first of each check listed."""
    shown: dict[tuple[str, str], int] = {}
    for v in violations.iter_violations(conn, registry, period=data.period, status=violations.ACTIVE):
        n = notice(v.unit_code)
        if n is None:
            continue
        n.counts[v.severity] = n.counts.get(v.severity, 0) + 1
        key = (v.unit_code, v.check_code)
        if shown.get(key, 0) >= data.rows_per_unit:
            continue
        shown[key] = shown.get(key, 0) + 1
        check = registry.checks.get(v.check_code)
        indicator = registry.indicators.get(v.indicator_code or "")
        service = registry.services.get(v.service_code or "") if v.service_code != NO_SERVICE else None
        n.findings.append(
            {
                "check_code": v.check_code,
                "severity": v.severity,
                "severity_vi": violations.SEVERITY_VI[v.severity],
                "status_vi": violations.STATUS_VI[v.status],
                "title_vi": check.title_vi if check else v.check_code,
                "fix_vi": check.fix_vi if check else "",
                "sentence_vi": finding_sentence(registry, v.check_code, v.indicator_code, v.values),
                "indicator_name": indicator.name_vi if indicator else "",
                "service_name": service.name_vi if service else "",
            }
        )


# --- messages ----------------------------------------------------------------------------------


@dataclass
class Outgoing:
    """One message of a run: to one address, of one kind, in the forms it may be sent as."""

    kind: str
    """``unit`` or ``summary`` (the standing office's; it may carry the office's own unit sections)."""
    recipient: str
    units: list[UnitNotice]
    subject: str
    text: str
    html: str
    html_without_charts: str
    """The same HTML without its images: sent when the charts would make it too large."""
    charts: list[Chart]
    text_short: str = ""
    """The last resort when even ``text`` is too large: counts and where the details are."""

    @property
    def unit_codes(self) -> list[str]:
        return [n.unit_code for n in self.units]


def summary_rows(notices: Iterable[UnitNotice]) -> list[dict[str, Any]]:
    """The summary's table: per unit, counts only (no row, no address)."""
    return [
        {
            "unit_code": n.unit_code,
            "unit_name": n.unit_name,
            "quarantined": n.quarantine_total,
            "errors": n.counts.get("error", 0),
            "warnings": n.counts.get("warning", 0),
            "files": len(n.files),
            "overdue": len(n.overdue),
        }
        for n in notices
    ]


def unit_subject(period: str, units: Sequence[UnitNotice]) -> str:
    names = ", ".join(n.unit_name for n in units)
    return f"[Đề án 06] Kỳ {period}: số liệu cần sửa hoặc giải trình – {names}"


def unit_text(period: str, units: Sequence[UnitNotice], portal: str) -> str:
    """The unit's message as plain text: its own rows and findings, each in words."""
    lines = [f"Kết quả kiểm tra số liệu Đề án 06, kỳ báo cáo tháng {month_vi(period)}.", ""]
    for n in units:
        lines.append(f"{n.unit_name} ({n.unit_code}):")
        for f in n.files:
            lines.append(f"- Tệp {f['file_name']}: {f['status_vi']}. {f['detail_vi']}".rstrip())
        if n.quarantine_total:
            lines.append(f"- {number_vi(n.quarantine_total)} dòng bị cách ly (chưa được nạp):")
            lines += [
                f"  * {q['file_name']}, dòng {q['row_no']}, cột {q['column_name'] or ''}: {q['reason_vi']}"
                for q in n.quarantine_rows
            ]
            if n.quarantine_more:
                lines.append(f"  … và {number_vi(n.quarantine_more)} dòng khác")
        if n.findings:
            lines.append(f"- {number_vi(n.findings_total)} phát hiện của kiểm tra chất lượng:")
            lines += [f"  * [{f['severity_vi']}] {f['sentence_vi']}. {f['fix_vi']}" for f in n.findings]
            if n.findings_more:
                lines.append(f"  … và {number_vi(n.findings_more)} phát hiện khác")
        if n.overdue:
            lines.append("- Nhiệm vụ quá hạn:")
            lines += [
                f"  * {t['task_id']}: {t['title_vi']} (hạn {t['deadline_vi']}, {t['status_vi']})" for t in n.overdue
            ]
        lines.append("")
    lines.append(f"Sửa số liệu, gửi lại tệp hoặc giải trình tại cổng tiếp nhận: {portal}")
    return "\n".join(lines) + "\n"


def summary_text(
    data: ReportData,
    rows: Sequence[dict[str, Any]],
    overdue: Sequence[dict[str, Any]],
    *,
    report_path: Path,
    portal: str,
    per_unit: bool = True,
) -> str:
    """The province's summary as plain text: counts, per unit (unless not ``per_unit``), and
    where the full report is."""
    s = data.submissions
    lines = [
        f"Báo cáo chất lượng dữ liệu Đề án 06, kỳ {data.period}.",
        f"Tệp đã nhận: {number_vi(len(data.files))}; dòng đã nạp: {number_vi(data.rows_loaded)}; "
        f"dòng bị cách ly: {number_vi(data.rows_quarantined)}.",
        f"Đơn vị nộp đúng hạn: {s.get('on_time', 0)}/{s.get('expected', 0)}; trễ hạn: {s.get('late', 0)}; "
        f"chưa nộp: {s.get('missing', 0)}.",
        f"Đơn vị có nội dung cần xử lý (đã được gửi thư riêng): {number_vi(len(rows))}.",
    ]
    if per_unit:
        lines += [
            f"- {r['unit_name']} ({r['unit_code']}): {number_vi(r['quarantined'])} dòng cách ly, "
            f"{number_vi(r['errors'])} lỗi, {number_vi(r['warnings'])} cảnh báo, "
            f"{number_vi(r['overdue'])} nhiệm vụ quá hạn"
            for r in rows
        ]
    if overdue:
        lines.append("Nhiệm vụ quá hạn:")
        lines += [f"- {t['task_id']}: {t['title_vi']} (hạn {t['deadline_vi']}, {t['status_vi']})" for t in overdue]
    lines.append(f"Báo cáo đầy đủ được lưu trên máy chủ tại: {report_path}")
    if data.quarantine_csv is not None:
        lines.append(f"Danh sách đầy đủ các dòng bị cách ly (tệp CSV): {data.quarantine_csv}")
    if data.violations_csv is not None:
        lines.append(f"Danh sách đầy đủ kết quả kiểm tra (tệp CSV): {data.violations_csv}")
    lines.append(f"Cổng tiếp nhận: {portal}")
    return "\n".join(lines) + "\n"


def summary_subject(data: ReportData) -> str:
    return subject(data)
