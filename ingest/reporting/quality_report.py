"""The monthly quality report: what was received, what was quarantined and why, which checks
failed and for which units, and who has not reported.  Written in Vietnamese for the officials
and units who receive it; it names units and indicators, never persons.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import jinja2
import psycopg
from psycopg.rows import dict_row

from ingest.config import report_deadline_day, report_rows_per_unit
from ingest.quality import violations
from ingest.quality.data_docs import run_page_path
from ingest.registry import NO_SERVICE, Registry, load_registry
from ingest.reporting.overdue import overdue_tasks
from ingest.reporting.wording import value_vi, when_vi
from ingest.safety import neutralise_formula
from ingest.submissions.parse import COLUMNS
from ingest.submissions.periods import held_files
from ingest.warehouse.db import connect

if TYPE_CHECKING:
    from ingest.reporting.charts import Chart

COLUMN_LABELS_VI = {c.name: c.label_vi for c in COLUMNS}
MART_TABLES = ["dim_unit", "dim_indicator", "dim_service", "dim_period", "fct_indicator_monthly", "fct_submission"]


@dataclass
class ReportData:
    period: str
    run_id: str
    generated_at: dt.datetime
    files: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    """One entry per unit (or per file without a unit): its first ``rows_per_unit`` rows and the total."""
    rows_per_unit: int = field(default_factory=report_rows_per_unit)
    quarantine_csv: Path | None = None
    """The full quarantine export on the server, once written (see ``write_quarantine_csv``)."""
    checks: list[dict[str, Any]] = field(default_factory=list)
    submissions: dict[str, int] = field(default_factory=dict)
    late_units: list[dict[str, Any]] = field(default_factory=list)
    missing_units: list[dict[str, Any]] = field(default_factory=list)
    mart_counts: dict[str, int] = field(default_factory=dict)
    held_files: list[dict[str, Any]] = field(default_factory=list)
    narrative_findings: list[dict[str, Any]] = field(default_factory=list)
    deadline_day: int = field(default_factory=report_deadline_day)
    data_docs: Path | None = None
    """The run's offline Data Docs page (``ingest.quality.data_docs``), when the quality gate wrote one."""
    check_groups: list[dict[str, Any]] = field(default_factory=list)
    """One entry per check code with open or explained findings in the period, most serious first:
    the check's catalogue entry, its count and its first ``rows_per_unit`` findings."""
    held_units: list[dict[str, Any]] = field(default_factory=list)
    """Units with an open or explained error in the period: held out of the official figures."""
    violations_csv: Path | None = None
    """The export of every finding of the period, once written (see ``write_violations_csv``)."""
    charts: list[Chart] = field(default_factory=list)
    """The province's charts (``ingest.reporting.charts``), embedded in the report as data: URIs."""
    overdue: list[dict[str, Any]] = field(default_factory=list)
    """The plan's tasks overdue in the period (``ingest.reporting.overdue``)."""

    @property
    def rows_loaded(self) -> int:
        return sum(f["rows_loaded"] for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f["rows_quarantined"] for f in self.files)

    @property
    def checks_failed(self) -> int:
        return sum(not c["success"] for c in self.checks)

    def units_to_notify(self) -> set[str]:
        codes = {q["unit_code"] for q in self.quarantine if q.get("unit_code")}
        codes |= {f["unit_code"] for f in self.narrative_findings if f.get("unit_code")}
        codes |= {r["unit_code"] for c in self.checks for r in c["failing_rows"] if r.get("unit_code")}
        codes |= {u["unit_code"] for u in self.late_units + self.missing_units}
        codes |= {u["unit_code"] for u in self.held_units}
        codes |= {f["unit_code"] for g in self.check_groups if g["severity"] != "info" for f in g["findings"]}
        codes |= {
            f["unit_code"] for f in self.files if f.get("unit_code") and (f.get("warnings") or f["status"] != "loaded")
        }
        return codes


def _dicts(
    conn: psycopg.Connection[Any], query: str, params: Mapping[str, Any] | tuple[Any, ...]
) -> list[dict[str, Any]]:
    """The rows of ``query`` as dicts keyed by column name."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query.encode(), params).fetchall()


def _unit_name(registry: Registry, code: str | None) -> str:
    if code and code in registry.units:
        return registry.units[code].name_vi
    return code or "(không xác định)"


def collect(
    period: str, run_id: str, registry: Registry | None = None, *, rows_per_unit: int | None = None
) -> ReportData:
    """Everything the report shows, read from the warehouse (the quarantine only up to ``rows_per_unit`` per unit)."""
    registry = registry or load_registry()
    data = ReportData(period=period, run_id=run_id, generated_at=dt.datetime.now(dt.UTC))
    if rows_per_unit is not None:
        data.rows_per_unit = rows_per_unit
    with connect() as conn:
        data.files = _dicts(
            conn,
            """select file_id, file_name, unit_code, status, rows_read, rows_loaded, rows_quarantined,
                      error_vi, received_at, notices
               from audit.load_ledger where period = %s or (period is null and batch_id = %s)
               order by file_name""",
            (period, run_id),
        )
        for f in data.files:
            f["unit_name"] = _unit_name(registry, f["unit_code"])
            f["warnings"] = [n["message_vi"] for n in f.get("notices") or [] if n.get("severity") == "warning"]
        data.quarantine = quarantine_by_unit(conn, period, run_id, data.rows_per_unit, registry)
        data.checks = _checks(conn, run_id, registry)
        add_findings(conn, data, registry)
        _add_submissions(conn, data, registry)
        data.narrative_findings = _dicts(
            conn,
            """select l.file_name, l.unit_code, f.line_no, f.code, f.message_vi, f.snippet
               from raw.narrative_finding f join audit.load_ledger l using (file_id)
               where l.period = %s order by l.file_name, f.finding_no""",
            (period,),
        )
        data.held_files = [
            {"file_name": name, "unit_code": unit, "unit_name": _unit_name(registry, unit)}
            for _, name, unit in held_files(conn, period)
        ]
        for table in MART_TABLES:
            (n,) = conn.execute(f"select count(*) from marts.{table}").fetchone()  # type: ignore[misc]
            data.mart_counts[table] = int(n)
    page = run_page_path(period, run_id)
    data.data_docs = page if page.exists() else None
    return data


# The quarantined rows of a report: the files of the period, or of this run when a file has no period.
# A unit's rows are grouped by the file's unit; a file without a unit is a group of its own.
_QUARANTINE_SCOPE = """
    scoped as (
        select l.unit_code, case when l.unit_code is null then l.file_name end as orphan_file,
               l.file_id, l.file_name, q.row_no, q.column_name, q.raw_value, q.reason_vi
        from raw.quarantine q join audit.load_ledger l using (file_id)
        where l.period = %(period)s or (l.period is null and l.batch_id = %(run_id)s)
    )"""


def quarantine_by_unit(
    conn: psycopg.Connection[Any], period: str, run_id: str, limit: int, registry: Registry
) -> list[dict[str, Any]]:
    """Per unit: the number of quarantined rows and the first ``limit`` of them (ranked in SQL)."""
    params = {"period": period, "run_id": run_id, "limit": limit}
    groups = {
        (g["unit_code"], g["orphan_file"]): {**g, "unit_name": _unit_name(registry, g["unit_code"]), "rows": []}
        for g in _dicts(
            conn,
            f"""with {_QUARANTINE_SCOPE}
                select unit_code, orphan_file, count(*) as total from scoped
                group by unit_code, orphan_file order by unit_code nulls last, orphan_file""",
            params,
        )
    }
    first_rows = _dicts(
        conn,
        f"""with {_QUARANTINE_SCOPE},
            ranked as (
                select *, row_number() over (
                    partition by unit_code, orphan_file order by file_name, file_id, row_no) as rank_in_unit
                from scoped
            )
            select unit_code, orphan_file, file_name, row_no, column_name, raw_value, reason_vi
            from ranked where rank_in_unit <= %(limit)s
            order by unit_code nulls last, orphan_file, rank_in_unit""",
        params,
    )
    for q in first_rows:
        # Officials read the column as their template names it.
        q["column_name"] = COLUMN_LABELS_VI.get(q["column_name"], q["column_name"])
        groups[(q["unit_code"], q["orphan_file"])]["rows"].append(q)
    for g in groups.values():
        g["more"] = g["total"] - len(g["rows"])
    return list(groups.values())


def _checks(conn: psycopg.Connection[Any], run_id: str, registry: Registry) -> list[dict[str, Any]]:
    checks = []
    cur = conn.execute(
        """select check_name, description_vi, success, evaluated, unexpected, details
           from audit.check_result where run_id = %s order by success, check_name""",
        (run_id,),
    )
    for name, desc, success, evaluated, unexpected, details in cur.fetchall():
        rows = [
            {
                **r,
                "unit_name": _unit_name(registry, r.get("unit_code")),
                "indicator_name": registry.indicators[r["indicator_code"]].name_vi
                if r.get("indicator_code") in registry.indicators
                else r.get("indicator_code"),
                "service_name": ""
                if r.get("service_code") in (None, NO_SERVICE)
                else registry.services[r["service_code"]].name_vi
                if r.get("service_code") in registry.services
                else r.get("service_code"),
            }
            for r in (details or {}).get("failing_rows", [])
            # Rows without an indicator are whole submissions: section 2 lists those units.
            if r.get("indicator_code")
        ]
        checks.append(
            {
                "check_name": name,
                "description_vi": desc,
                "success": success,
                "evaluated": evaluated,
                "unexpected": unexpected,
                "failing_rows": rows,
            }
        )
    return checks


def _indicator_name(registry: Registry, code: str | None) -> str:
    if code is None:
        return ""
    return registry.indicators[code].name_vi if code in registry.indicators else code


def _service_name(registry: Registry, code: str | None) -> str:
    if code is None or code == NO_SERVICE:
        return ""
    return registry.services[code].name_vi if code in registry.services else code


def add_findings(conn: psycopg.Connection[Any], data: ReportData, registry: Registry) -> None:
    """The period's open and explained findings grouped by check code, and the units they hold."""
    data.check_groups = _check_groups(conn, data.period, registry, data.rows_per_unit)
    data.held_units = [
        {"unit_code": code, "unit_name": _unit_name(registry, code), "errors": n}
        for code, n in violations.held_units(conn, data.period).items()
    ]


def _check_groups(conn: psycopg.Connection[Any], period: str, registry: Registry, limit: int) -> list[dict[str, Any]]:
    """Per check code with open or explained findings: its catalogue wording, count and first ``limit`` findings."""
    groups: dict[str, dict[str, Any]] = {}
    for c in violations.count_by_check(conn, registry, period):
        check = registry.checks.get(c.check_code)
        groups[c.check_code] = {
            "code": c.check_code,
            "severity": c.severity,
            "severity_vi": violations.SEVERITY_VI[c.severity],
            "title_vi": check.title_vi if check else c.check_code,
            "fix_vi": check.fix_vi if check else "",
            "total": c.count,
            "findings": [],
        }
    shown = violations.list_violations(conn, registry, period=period, status=violations.ACTIVE, limit_per_check=limit)
    for v in shown:
        if v.check_code not in groups:  # found by a gate run that finished between the two queries
            continue
        groups[v.check_code]["findings"].append(
            {
                "unit_code": v.unit_code,
                "unit_name": _unit_name(registry, v.unit_code),
                "indicator_code": v.indicator_code,
                "indicator_name": _indicator_name(registry, v.indicator_code),
                "service_name": _service_name(registry, v.service_code),
                "values_vi": values_vi(v.values),
                "status_vi": violations.STATUS_VI[v.status],
            }
        )
    for g in groups.values():
        g["more"] = max(0, g["total"] - len(g["findings"]))
    return list(groups.values())


VALUE_LABELS_VI = {
    "numerator": "tử số",
    "denominator": "mẫu số",
    "reported_rate": "tỷ lệ ghi (%)",
    "rate": "tỷ lệ (%)",
    "computed_rate": "tỷ lệ tính lại (%)",
    "pooled_rate": "tỷ lệ chung của các đơn vị cùng loại (%)",
    "previous_period": "tháng trước",
    "previous_numerator": "tử số tháng trước",
    "previous_denominator": "mẫu số tháng trước",
    "factor": "hệ số",
    "limit": "ngưỡng",
    "units": "số đơn vị so sánh",
    "funnel": "chuỗi bước",
    "upper_step": "bước trước",
    "upper_value": "giá trị bước trước",
    "lower_step": "bước sau",
    "lower_value": "giá trị bước sau",
    "numerator_total": "tử số dòng tổng",
    "numerator_parts": "tổng tử số các phần",
    "denominator_total": "mẫu số dòng tổng",
    "denominator_parts": "tổng mẫu số các phần",
    "rule": "quy tắc",
    "deadline": "hạn nộp",
    "received_at": "thời điểm nhận",
    "file_id": "số hiệu tệp",
    "reported_numerator": "tử số đơn vị báo cáo",
    "extract_numerator": "tử số theo dữ liệu hệ thống nguồn",
    "reported_denominator": "mẫu số đơn vị báo cáo",
    "extract_denominator": "mẫu số theo dữ liệu hệ thống nguồn",
    "tolerance_pct": "sai lệch cho phép (%)",
    "extract": "dữ liệu nguồn",
    "scope": "phạm vi đối chiếu",
    "system_of_record": "nguồn được coi là đúng",
    "record_types": "loại sổ hộ tịch",
    "record_type": "loại sổ hộ tịch",
}
"""How the report names a finding's values (``audit.violation.values``); a key not listed shows as it is."""


def _value_vi(v: Any) -> str:
    """``1597452`` -> ``1.597.452``, ``97.114`` -> ``97,11``, an ISO time -> ``00:00 ngày 10/04/2026``."""
    return value_vi(v)


def _when(t: dt.datetime | None) -> str:
    """A time as officials read it, in Vietnam's time zone: ``08:30 ngày 10/04/2026``."""
    return when_vi(t)


def values_vi(values: Mapping[str, Any]) -> str:
    """A finding's values in a short readable form: ``tử số 900; mẫu số 856``."""
    return "; ".join(f"{VALUE_LABELS_VI.get(k, k)} {_value_vi(v)}" for k, v in values.items())


def _add_submissions(conn: psycopg.Connection[Any], data: ReportData, registry: Registry) -> None:
    """Counts of expected, on-time, late and missing submissions, and the late and missing units."""
    cur = conn.execute(
        "select unit_code, timeliness, received_at, completeness from marts.fct_submission "
        "where period = %s order by unit_code",
        (data.period,),
    )
    counts = {"expected": 0, "on_time": 0, "late": 0, "missing": 0}
    for unit_code, timeliness, received_at, completeness in cur.fetchall():
        counts["expected"] += 1
        counts[timeliness] += 1
        entry = {
            "unit_code": unit_code,
            "unit_name": _unit_name(registry, unit_code),
            "received_at": received_at,
            "completeness": completeness,
        }
        if timeliness == "late":
            data.late_units.append(entry)
        elif timeliness == "missing":
            data.missing_units.append(entry)
    data.submissions = counts


QUARANTINE_CSV_HEADER_VI = ["Mã đơn vị", "Tên đơn vị", "Tệp", "Dòng", "Cột", "Giá trị", "Lý do"]


def quarantine_csv_path(out_dir: Path, period: str, run_id: str) -> Path:
    """Where the full quarantine export of a run's report lives: next to the report."""
    return out_dir / f"quarantine_{period}_{safe_name(run_id)}.csv"


def write_quarantine_csv(period: str, *, run_id: str, path: Path, registry: Registry | None = None) -> int:
    """Export every quarantined row of the report's scope to ``path``; return the number of rows.

    UTF-8 with a BOM (so Excel reads the Vietnamese), Vietnamese headers, and every text cell
    passed through ``neutralise_formula``: a cell such as ``=HYPERLINK(...)`` that a unit sent
    cannot run when an official opens the file.  The file appears whole or not at all.
    """
    registry = registry or load_registry()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8-sig", newline="") as f:
            n = _stream_quarantine(f, period, run_id, registry)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return n


def _stream_quarantine(f: TextIO, period: str, run_id: str, registry: Registry) -> int:
    """Write the quarantine as CSV rows, read through a server-side cursor (never all in memory)."""
    writer = csv.writer(f)
    writer.writerow(QUARANTINE_CSV_HEADER_VI)
    n = 0
    with connect() as conn, conn.cursor(name="quarantine_export") as cur:
        cur.itersize = 5000
        cur.execute(
            f"""with {_QUARANTINE_SCOPE}
                select unit_code, file_name, row_no, column_name, raw_value, reason_vi from scoped
                order by unit_code nulls last, orphan_file, file_name, file_id, row_no""".encode(),
            {"period": period, "run_id": run_id},
        )
        for unit_code, file_name, row_no, column, raw_value, reason_vi in cur:
            cells = [
                unit_code or "",
                _unit_name(registry, unit_code) if unit_code else "",
                file_name,
                row_no,
                COLUMN_LABELS_VI.get(column, column) if column else "",
                "" if raw_value is None else raw_value,
                reason_vi,
            ]
            writer.writerow([neutralise_formula(c) for c in cells])
            n += 1
    return n


VIOLATIONS_CSV_HEADER_VI = [
    "Mã kiểm tra",
    "Nội dung kiểm tra",
    "Mức độ",
    "Trạng thái",
    "Mã đơn vị",
    "Tên đơn vị",
    "Mã chỉ tiêu",
    "Tên chỉ tiêu",
    "Mã dịch vụ",
    "Tên dịch vụ",
    "Số liệu",
    "Phát hiện lần đầu",
]


def violations_csv_path(out_dir: Path, period: str, run_id: str) -> Path:
    """Where the export of a period's findings lives: next to the report."""
    return out_dir / f"violations_{period}_{safe_name(run_id)}.csv"


def write_violations_csv(period: str, *, path: Path, registry: Registry | None = None) -> int:
    """Export every finding of the period (whatever its status) to ``path``; return the number of rows.

    The same form as the quarantine export: UTF-8 with a BOM, Vietnamese headers, formulas
    neutralised, written whole or not at all.  Who decided and their comment are left out."""
    registry = registry or load_registry()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8-sig", newline="") as f, connect() as conn:
            writer = csv.writer(f)
            writer.writerow(VIOLATIONS_CSV_HEADER_VI)
            n = 0
            for v in violations.iter_violations(conn, registry, period=period):
                writer.writerow([neutralise_formula(c) for c in _violation_cells(v, registry)])
                n += 1
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return n


def _violation_cells(v: violations.Violation, registry: Registry) -> list[Any]:
    check = registry.checks.get(v.check_code)
    return [
        v.check_code,
        check.title_vi if check else "",
        violations.SEVERITY_VI.get(v.severity, v.severity),
        violations.STATUS_VI.get(v.status, v.status),
        v.unit_code,
        _unit_name(registry, v.unit_code),
        v.indicator_code or "",
        _indicator_name(registry, v.indicator_code),
        v.service_code or "",
        _service_name(registry, v.service_code),
        values_vi(v.values),
        v.first_seen_at.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%d/%m/%Y %H:%M"),
    ]


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("ingest", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_env.filters["vn"] = lambda n: "" if n is None else f"{n:,}".replace(",", ".")
_env.filters["pct"] = lambda x: "" if x is None else f"{100 * float(x):.1f}".replace(".", ",") + "%"
_env.filters["when"] = _when
template_env = _env
"""The report's and the e-mails' templates (``ingest/templates``), with the filters vn, pct, when."""


def render(data: ReportData, *, compact: bool = False, report_path: Path | None = None) -> str:
    """The report as HTML.  ``compact`` keeps the summary sections and points to ``report_path``
    on the server for the details: the form sent when the full report is too large to e-mail."""
    docs_href = None
    if data.data_docs is not None:
        # Relative to the report on the server; the path is printed beside it for the e-mailed copy.
        docs_href = (
            Path(os.path.relpath(data.data_docs, report_path.parent)).as_posix()
            if report_path is not None
            else data.data_docs.as_uri()
        )
    return _env.get_template("quality_report.html.j2").render(
        d=data, compact=compact, report_path=report_path, docs_href=docs_href
    )


def safe_name(run_id: str) -> str:
    """``run_id`` as it appears in file names (letters, digits, - and _)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)


def write_report(period: str, *, run_id: str, out_dir: Path) -> Path:
    """Write the HTML report, the full quarantine CSV when rows were quarantined, and the period's
    findings as CSV when it has any; return the report's path."""
    registry = load_registry()
    data = collect(period, run_id, registry)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = quarantine_csv_path(out_dir, period, run_id)
    if data.quarantine:
        write_quarantine_csv(period, run_id=run_id, path=csv_path, registry=registry)
        data.quarantine_csv = csv_path
    else:
        csv_path.unlink(missing_ok=True)  # a rerun of the same run id must not point at stale rows
    data.violations_csv = _export_violations(data, out_dir, registry)
    add_charts_and_tasks(data, registry)
    path = out_dir / f"bao_cao_chat_luong_{period}_{safe_name(run_id)}.html"
    path.write_text(render(data, report_path=path), encoding="utf-8")
    return path


def add_charts_and_tasks(data: ReportData, registry: Registry) -> None:
    """The province's charts and the plan's overdue tasks, for the report on disk."""
    from ingest.reporting.charts import province_charts  # matplotlib: only when a report is drawn

    with connect() as conn:
        data.charts = province_charts(conn, registry, data.period)
        data.overdue = overdue_tasks(conn, data.period, registry)


def _export_violations(data: ReportData, out_dir: Path, registry: Registry) -> Path | None:
    """Write the period's findings next to the report when it has any; return the export's path."""
    csv_path = violations_csv_path(out_dir, data.period, data.run_id)
    with connect() as conn:
        (any_finding,) = conn.execute(  # type: ignore[misc]
            "select exists (select 1 from audit.violation where period = %s)", (data.period,)
        ).fetchone()
    if not any_finding:
        csv_path.unlink(missing_ok=True)
        return None
    write_violations_csv(data.period, path=csv_path, registry=registry)
    return csv_path


def subject(data: ReportData) -> str:
    return (
        f"[Đề án 06] Báo cáo chất lượng dữ liệu kỳ {data.period}: "
        f"{data.checks_failed} kiểm tra không đạt, {data.rows_quarantined} dòng bị cách ly"
    )


def plain_text(data: ReportData, *, report_path: Path | None = None) -> str:
    """The summary as plain text; with ``report_path``, the form that says where the full report is."""
    s = data.submissions
    text = (
        f"Báo cáo chất lượng dữ liệu Đề án 06, kỳ {data.period}.\n"
        f"Tệp đã nhận: {len(data.files)}; dòng đã nạp: {data.rows_loaded}; "
        f"dòng bị cách ly: {data.rows_quarantined}.\n"
        f"Đơn vị nộp đúng hạn: {s.get('on_time', 0)}/{s.get('expected', 0)}; trễ hạn: {s.get('late', 0)}; "
        f"chưa nộp: {s.get('missing', 0)}.\n"
        f"Kiểm tra chất lượng: {len(data.checks) - data.checks_failed} đạt, {data.checks_failed} không đạt.\n"
    )
    if data.check_groups:
        text += "Phát hiện còn mở theo mã kiểm tra: " + "; ".join(
            f"{g['title_vi']} ({g['code']}, {g['severity_vi']}): {g['total']}" for g in data.check_groups
        )
        text += f".\nĐơn vị bị giữ lại, chưa công bố số liệu tháng này: {len(data.held_units)}.\n"
    if report_path is None:
        return text + "Chi tiết xem trong báo cáo HTML kèm theo thư này.\n"
    text += f"Báo cáo đầy đủ quá lớn để gửi qua thư điện tử; báo cáo được lưu trên máy chủ tại: {report_path}\n"
    if data.quarantine_csv is not None:
        text += f"Danh sách đầy đủ các dòng bị cách ly (tệp CSV) được lưu tại: {data.quarantine_csv}\n"
    if data.violations_csv is not None:
        text += f"Danh sách đầy đủ kết quả kiểm tra (tệp CSV) được lưu tại: {data.violations_csv}\n"
    return text


def deliver_report(period: str, *, run_id: str, report_path: Path) -> dict[str, Any]:
    """E-mail the run's report: each unit its own message, the standing office the summary
    (``ingest.reporting.mail_delivery``); each address once per run, across retries.

    Raises ``ReportDeliveryError`` when the mail server cannot be reached or refuses a message;
    the report and its CSV stay on disk.
    """
    from ingest.reporting.mail_delivery import deliver_all

    return deliver_all(period, run_id=run_id, report_path=report_path)
