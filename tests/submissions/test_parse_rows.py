"""Row checks: each bad row becomes one RowProblem with its column, raw value and reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ingest.submissions.model import RowProblem, SubmissionRow

from .files import HEADER_EN, csv_bytes, data_rows, json_bytes, loaded, problems, row, xlsx_bytes


def one(parse, r: list, **kwargs) -> SubmissionRow | RowProblem:
    (item,) = parse(csv_bytes([r]), "bao_cao.csv", rows=1, **kwargs)
    return item


def problem(parse, r: list, **kwargs) -> RowProblem:
    item = one(parse, r, **kwargs)
    assert isinstance(item, RowProblem), item
    assert item.row_no == 2
    assert item.reason_vi and item.reason_en
    return item


def test_valid_row_loads_with_every_field(parse):
    item = one(parse, row(numerator="1.597.452", denominator="1.600.000", rate="99,84%", note=" ghi chú "))
    assert item == SubmissionRow(
        row_no=2,
        unit_code="AG.STP",
        period="2026-03",
        indicator_code="HT_SCANNED",
        service_code="NA",
        numerator=1597452,
        denominator=1600000,
        reported_rate=Decimal("99.84"),
        note="ghi chú",
    )


def test_unknown_unit(parse):
    p = problem(parse, row(unit="AG.XYZ"))
    assert (p.reason_code, p.column, p.raw_value) == ("unknown_unit", "unit_code", "AG.XYZ")
    assert p.reason_vi == "Mã đơn vị không có trong danh mục đơn vị"


@pytest.mark.parametrize(
    ("unit", "period"),
    [("KG91.STP", "2026-03"), ("AG.STP", "2025-03"), ("AG.X.CHAUDOC", "2025-06")],
)
def test_unit_not_valid_in_period(parse, unit, period):
    p = problem(parse, row(unit=unit, period=period))
    assert (p.reason_code, p.column, p.raw_value) == ("unit_not_valid_in_period", "unit_code", unit)


@pytest.mark.parametrize(("unit", "period"), [("KG91.STP", "2025-06"), ("AG.STP", "2025-07")])
def test_unit_valid_in_its_months(parse, unit, period):
    item = one(parse, row(unit=unit, period=period))
    assert isinstance(item, SubmissionRow)
    assert item.unit_code == unit


def test_codes_match_without_regard_to_case(parse):
    item = one(parse, row(unit="ag.stp", indicator="dvc_online_received", service="dv12"))
    assert isinstance(item, SubmissionRow)
    assert (item.unit_code, item.indicator_code, item.service_code) == (
        "AG.STP",
        "DVC_ONLINE_RECEIVED",
        "DV12",
    )


def test_unknown_indicator(parse):
    p = problem(parse, row(indicator="HT_SCANED"))
    assert (p.reason_code, p.column, p.raw_value) == ("unknown_indicator", "indicator_code", "HT_SCANED")


@pytest.mark.parametrize("period", ["2026/03", "13/2026", "2026-13", "2026-00", "tháng 3", "202603", "03-2026"])
def test_malformed_period(parse, period):
    p = problem(parse, row(period=period))
    assert (p.reason_code, p.column, p.raw_value) == ("invalid_period", "period", period)


@pytest.mark.parametrize("period", ["2026-03", "03/2026", "3/2026", "2026-3"])
def test_period_forms(parse, period):
    item = one(parse, row(period=period))
    assert isinstance(item, SubmissionRow)
    assert item.period == "2026-03"


@pytest.mark.parametrize("period", ["2026-04", "05/2026", "2030-01"])
def test_future_period(parse, period):
    p = problem(parse, row(period=period))
    assert (p.reason_code, p.column) == ("future_period", "period")


def test_month_is_reportable_once_it_has_ended(parse):
    assert isinstance(one(parse, row(period="2026-03"), today=dt.date(2026, 4, 1)), SubmissionRow)
    assert problem(parse, row(period="2026-03"), today=dt.date(2026, 3, 31)).reason_code == "future_period"


def test_period_mismatch_with_the_expected_period(parse):
    p = problem(parse, row(period="2026-02"), period="03/2026")
    assert p.reason_code == "period_mismatch"
    assert "2026-03" in p.reason_en
    assert isinstance(one(parse, row(period="03/2026"), period="2026-03"), SubmissionRow)


def test_duplicates_point_at_the_first_row(parse):
    rows = [row(), row(indicator="HT_ENTERED"), row(period="03/2026"), row(numerator="9")]
    items = parse(csv_bytes(rows), "dup.csv", rows=4)
    assert [type(i) for i in items] == [SubmissionRow, SubmissionRow, RowProblem, RowProblem]
    for p in problems(items):
        assert p.reason_code == "duplicate_row"
        assert "dòng 2" in p.reason_vi
        assert "row 2" in p.reason_en


def test_same_indicator_for_different_services_is_not_a_duplicate(parse):
    rows = [row(indicator="DVC_ONLINE_RECEIVED", service=s) for s in ("DV12", "DV13", "", "NA")]
    items = parse(csv_bytes(rows), "svc.csv", rows=4)
    assert [getattr(i, "service_code", None) for i in items[:3]] == ["DV12", "DV13", "NA"]
    assert items[3].reason_code == "duplicate_row"  # empty and NA are the same all-services total


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "not_a_whole_number"),
        ("12,5", "not_a_whole_number"),
        ("12.5", "not_a_whole_number"),
        ("-", "not_a_whole_number"),
        ("-5", "negative_number"),
        ("- 1.000", "negative_number"),
    ],
)
@pytest.mark.parametrize("column", ["numerator", "denominator"])
def test_bad_counts(parse, column, value, reason):
    p = problem(parse, row(**{column: value}))
    assert (p.reason_code, p.column, p.raw_value) == (reason, column, value)


def test_missing_required_value(parse):
    p = problem(parse, row(numerator=""))
    assert (p.reason_code, p.column, p.raw_value) == ("missing_value", "numerator", None)
    assert p.reason_vi == "Thiếu giá trị bắt buộc ở cột “Tử số”"


def test_empty_denominator_is_allowed(parse):
    item = one(parse, row(denominator=""))
    assert isinstance(item, SubmissionRow)
    assert item.denominator is None


def test_numerator_above_denominator_loads_flagged(parse):
    item = one(parse, row(numerator="1.200", denominator="1.000"))
    assert isinstance(item, SubmissionRow)
    assert item.flags == ("numerator_above_denominator",)


def test_target_kind_may_exceed_its_quota(parse):
    r = row(
        unit="AG.X.CHAUDOC",
        indicator="VNEID_REGISTERED",
        numerator="12.500",
        denominator="12.000",
        rate="104,17",
    )
    item = one(parse, r)
    assert isinstance(item, SubmissionRow)
    assert (item.flags, item.reported_rate) == ((), Decimal("104.17"))


def test_rate_mismatch_is_a_soft_flag(parse):
    item = one(parse, row(numerator="850", denominator="1.000", rate="85,04"))
    assert isinstance(item, SubmissionRow)
    assert item.flags == ()
    item = one(parse, row(numerator="850", denominator="1.000", rate="85,06"))
    assert isinstance(item, SubmissionRow)
    assert item.flags == ("rate_mismatch",)


@pytest.mark.parametrize("rate", ["abc", "85,0,1", "1.2.3"])
def test_unparsable_rate(parse, rate):
    p = problem(parse, row(rate=rate))
    assert (p.reason_code, p.column, p.raw_value) == ("invalid_rate", "reported_rate", rate)


@pytest.mark.parametrize("rate", ["-1", "-0,5%"])
def test_a_negative_rate_is_out_of_range(parse, rate):
    p = problem(parse, row(rate=rate))
    assert (p.reason_code, p.column) == ("rate_out_of_range", "reported_rate")


@pytest.mark.parametrize(("rate", "expected"), [("100,01", Decimal("100.01")), ("150%", Decimal("150"))])
def test_a_readable_rate_above_100_on_a_total_loads_flagged_for_the_gate(parse, rate, expected):
    # Quarantine is for what cannot be read; a unit's own "100,82%" is read, and the gate judges it.
    loaded = one(parse, row(rate=rate))
    assert isinstance(loaded, SubmissionRow)
    assert loaded.reported_rate == expected
    assert "numerator_above_denominator" in loaded.flags


def test_the_issue_example_numerator_above_denominator_with_its_rate_loads(parse):
    loaded = one(parse, row(numerator="856", denominator="849", rate="100,82%"))
    assert isinstance(loaded, SubmissionRow)
    assert (loaded.numerator, loaded.denominator, loaded.reported_rate) == (856, 849, Decimal("100.82"))
    assert loaded.flags == ("numerator_above_denominator",)  # 856/849 = 100.8245… %: no mismatch


def test_unknown_service(parse):
    p = problem(parse, row(indicator="DVC_ONLINE_RECEIVED", service="DV99"))
    assert (p.reason_code, p.column, p.raw_value) == ("unknown_service", "service_code", "DV99")


def test_any_known_service_is_accepted(parse):
    # DV01 is a police service, not expected of Sở Tư pháp, but a unit may report it.
    item = one(parse, row(indicator="DVC_ONLINE_RECEIVED", service="DV01"))
    assert isinstance(item, SubmissionRow)
    assert item.service_code == "DV01"


def test_service_given_for_an_indicator_without_services(parse):
    p = problem(parse, row(indicator="HT_SCANNED", service="DV12"))
    assert (p.reason_code, p.column, p.raw_value) == ("unexpected_service", "service_code", "DV12")
    assert isinstance(one(parse, row(indicator="HT_SCANNED", service="na")), SubmissionRow)


def test_raw_row_keeps_the_cells_under_the_headers_as_written(parse):
    header = [
        "Mã đơn vị",
        "Kỳ báo cáo",
        "Mã chỉ tiêu",
        "Mã dịch vụ",
        "Tử số",
        "Mẫu số",
        "Tỷ lệ",
        "Ghi chú",
        "Người lập",
    ]
    (p,) = parse(csv_bytes([[*row(numerator="nhiều"), "Lê Thị B"]], header), "vi.csv", rows=1)
    assert isinstance(p, RowProblem)
    assert p.raw_row == {
        "Mã đơn vị": "AG.STP",
        "Kỳ báo cáo": "2026-03",
        "Mã chỉ tiêu": "HT_SCANNED",
        "Mã dịch vụ": None,
        "Tử số": "nhiều",
        "Mẫu số": "1.000",
        "Tỷ lệ": None,
        "Ghi chú": None,
        "Người lập": "Lê Thị B",
    }


def test_every_data_row_yields_one_item_and_blank_rows_none(parse):
    rows = [
        row(),
        ["", "", "", "", "", "", "", ""],
        row(unit="NOPE"),
        [" ", "", "", "", "", "", "", ""],
        row(indicator="HT_ENTERED", numerator="x"),
        row(indicator="HT_SYNCED"),
    ]
    items = parse(csv_bytes(rows), "mixed.csv", rows=data_rows(rows))
    assert data_rows(rows) == 4
    assert [i.row_no for i in items] == [2, 4, 6, 7]  # row numbers as a text editor shows them
    assert len(loaded(items)) + len(problems(items)) == 4


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_same_outcomes_in_every_format(parse, fmt):
    rows = [row(), row(unit="NOPE"), row(indicator="HT_ENTERED", numerator="-3"), row(period="2026-05")]
    data = {
        "csv": lambda: csv_bytes(rows),
        "xlsx": lambda: xlsx_bytes(rows),
        "json": lambda: json_bytes(rows, HEADER_EN),
    }[fmt]()
    items = parse(data, f"AG.STP.{fmt}", rows=4)
    assert [getattr(i, "reason_code", "ok") for i in items] == [
        "ok",
        "unknown_unit",
        "negative_number",
        "future_period",
    ]
    assert [i.row_no for i in items] == ([1, 2, 3, 4] if fmt == "json" else [2, 3, 4, 5])
