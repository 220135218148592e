"""The quality report groups the period's open and explained findings by check code (errors,
warnings, info; then the catalogue's order), names each check as the registry does, lists the
units held out of the official figures, and exports every finding of the period as CSV.

The ledger rows are made here by hand, in period 2032-01:

    numerator_exceeds_denominator  error    AG.STP x3 (DV01-DV03), open        -> group, AG.STP held
    funnel_break                   error    AG.SYT, explained                  -> group, AG.SYT held
    stock_decrease                 error    AG.BHXH, accepted                  -> no group, not held
    rate_mismatch                  warning  AG.CAT, open                       -> group
    count_jump                     warning  AG.SNV, corrected                  -> no group
    over_target                    info     AG.CAT, open                       -> group
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from test_violations_cli import insert

from ingest.pipeline import prepare_warehouse
from ingest.registry import load_registry
from ingest.reporting.quality_report import (
    VIOLATIONS_CSV_HEADER_VI,
    ReportData,
    add_findings,
    plain_text,
    render,
    values_vi,
    write_violations_csv,
)
from ingest.warehouse.db import connect

pytestmark = pytest.mark.warehouse
PERIOD = "2032-01"
CHECKS = load_registry().checks
GROUPS = ["numerator_exceeds_denominator", "funnel_break", "rate_mismatch", "over_target"]
DECIDER = "Nguyễn Văn Quyết"  # a person: never in the report


@pytest.fixture(scope="module")
def ledger(warehouse_dsn: str) -> Iterator[None]:
    prepare_warehouse()
    for service in ("DV01", "DV02", "DV03"):
        insert(
            warehouse_dsn,
            "numerator_exceeds_denominator",
            "AG.STP",
            "DVC_ONLINE_RESOLVED",
            service,
            {"numerator": 1900, "denominator": 1856, "reported_rate": 102.37},
            period=PERIOD,
        )
    rows = [
        ("funnel_break", "AG.SYT", "HT_ENTERED", "explained"),
        ("stock_decrease", "AG.BHXH", "HT_SYNCED", "accepted"),
        ("rate_mismatch", "AG.CAT", "HT_SCANNED", "open"),
        ("count_jump", "AG.SNV", "HT_SCANNED", "corrected"),
        ("over_target", "AG.CAT", "DVC_ONLINE_RECEIVED", "open"),
    ]
    for check, unit, indicator, status in rows:
        insert(warehouse_dsn, check, unit, indicator, "NA", {"numerator": 5}, status=status, period=PERIOD)
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(
            "update audit.violation set status_by = %s, status_comment = %s, status_at = now() "
            "where period = %s and status in ('explained', 'accepted')",
            (DECIDER, f"{DECIDER} đã xác minh", PERIOD),
        )
    yield
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("delete from audit.violation where period = %s", (PERIOD,))


def report(*, rows_per_unit: int = 2, compact: bool = False) -> tuple[ReportData, str]:
    data = ReportData(period=PERIOD, run_id="checks", generated_at=dt.datetime.now(dt.UTC), rows_per_unit=rows_per_unit)
    with connect() as conn:
        add_findings(conn, data, load_registry())
    return data, render(data, compact=compact)


def section(html: str) -> str:
    """The report's section of findings by check code."""
    return html.split("<h2>2. Kết quả kiểm tra chất lượng theo mã kiểm tra</h2>", 1)[1].split("<h2>3.", 1)[0]


def test_one_group_per_check_with_findings_most_serious_first(ledger: None) -> None:
    html = section(report()[1])
    assert re.findall(r'<h3 id="kiem-tra-([a-z_]+)">', html) == GROUPS
    for code in GROUPS:
        heading = html.split(f'<h3 id="kiem-tra-{code}">', 1)[1].split("</h3>", 1)[0]
        assert CHECKS[code].title_vi in heading and f"<code>{code}</code>" in heading
    assert "lỗi — giữ lại, không công bố</span>: 3 phát hiện" in html
    assert "cảnh báo</span>: 1 phát hiện" in html and "thông tin</span>: 1 phát hiện" in html
    for code in GROUPS:
        assert f"<b>Cách khắc phục:</b> {CHECKS[code].fix_vi}" in html


def test_a_check_without_open_findings_has_no_group(ledger: None) -> None:
    html = section(report()[1])
    for code in ("stock_decrease", "count_jump", "parts_exceed_total", "missing_submission"):
        assert f'id="kiem-tra-{code}"' not in html and CHECKS[code].title_vi not in html


def test_findings_are_capped_per_group_and_read_in_vietnamese(ledger: None) -> None:
    html = section(report(rows_per_unit=2)[1])
    first = html.split('id="kiem-tra-numerator_exceeds_denominator"', 1)[1].split("<h3", 1)[0]
    assert first.count("<td>Sở Tư pháp tỉnh An Giang (AG.STP)</td>") == 2
    assert "… và 1 phát hiện khác" in first
    assert "tử số 1.900; mẫu số 1.856; tỷ lệ ghi (%) 102,37" in first
    assert "<td>mở</td>" in first
    assert "<td>đã giải trình</td>" in html.split('id="kiem-tra-funnel_break"', 1)[1].split("<h3", 1)[0]
    everything = section(report(rows_per_unit=20)[1])
    assert "phát hiện khác" not in everything


def test_held_units_are_those_with_an_open_or_explained_error(ledger: None) -> None:
    data, html = report()
    assert [u["unit_code"] for u in data.held_units] == ["AG.STP", "AG.SYT"]
    held = section(html).split("Đơn vị bị giữ lại, chưa công bố số liệu tháng này", 1)[1]
    assert "<td>AG.STP</td>" in held and "<td>AG.SYT</td>" in held
    assert "AG.BHXH" not in held and "AG.CAT" not in held, "accepted errors and warnings hold nothing"
    assert {"AG.STP", "AG.SYT", "AG.CAT"} <= data.units_to_notify()
    assert "Đơn vị bị giữ lại, chưa công bố số liệu tháng này: 2" in plain_text(data)


def test_the_summary_form_counts_each_group_without_listing_findings(ledger: None) -> None:
    html = section(report(compact=True)[1])
    assert [c for c in GROUPS if f"<code>{c}</code>" in html] == GROUPS
    assert "Sở Tư pháp tỉnh An Giang (AG.STP)</td>" not in html and "Cách khắc phục" not in html
    assert "<td>AG.STP</td>" in html, "held units are listed in the summary too"


def test_no_personal_data_in_the_report(ledger: None) -> None:
    assert DECIDER not in report()[1]


def test_csv_export_holds_every_finding_of_the_period(ledger: None, tmp_path: Path) -> None:
    path = tmp_path / "violations.csv"
    assert write_violations_csv(PERIOD, path=path) == 8
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert header == VIOLATIONS_CSV_HEADER_VI
    assert [r[0] for r in rows][:4] == ["numerator_exceeds_denominator"] * 3 + ["stock_decrease"]
    assert {r[3] for r in rows} == {"mở", "đã giải trình", "đã chấp nhận", "đã sửa"}
    assert rows[0][1] == CHECKS["numerator_exceeds_denominator"].title_vi and rows[0][5] == "Sở Tư pháp tỉnh An Giang"
    assert DECIDER not in raw.decode("utf-8-sig")


def test_an_empty_period_says_so(ledger: None) -> None:
    data = ReportData(period="2032-02", run_id="checks", generated_at=dt.datetime.now(dt.UTC))
    with connect() as conn:
        add_findings(conn, data, load_registry())
    html = section(render(data))
    assert data.check_groups == [] and "Không có phát hiện nào còn mở trong kỳ 2032-02" in html
    assert "Đơn vị bị giữ lại" not in html


def test_values_read_as_vietnamese_numbers_and_times() -> None:
    values = {"numerator": 1597452, "computed_rate": 97.114, "deadline": "2032-02-10T00:00:00+07:00", "z": -3.5}
    assert values_vi(values) == "tử số 1.597.452; tỷ lệ tính lại (%) 97,11; hạn nộp 00:00 ngày 10/02/2032; z -3,5"
