"""Row validation of monthly submissions, edge by edge (written to kill mutmut's surviving mutants).

Rows are fed as JSON (typed numbers, booleans) or XLSX (dates, formulas) so that each check sees
the cell types a unit's spreadsheet really produces.  Expected outcomes are worked out by hand from
``formats.md`` §1 and the registry: today is 15 April 2026, so March 2026 is the latest month that
can be reported; ``AG.STP`` exists from 1 July 2025, ``AG89`` (the former province) until 30 June
2025; ``HT_SCANNED`` counts against a total, ``VNEID_REGISTERED`` against a target, and
``DVC_ONLINE_RECEIVED`` is reported per essential service.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from ingest.registry import Registry, Unit, load_registry
from ingest.submissions.model import RowProblem, SubmissionRow
from ingest.submissions.parse import normalise_period, parse_submission, unit_valid_in_period

TODAY = dt.date(2026, 4, 15)
REGISTRY: Registry = load_registry()
BASE: dict[str, Any] = {
    "unit_code": "AG.STP",
    "period": "2026-03",
    "indicator_code": "HT_SCANNED",
    "service_code": None,
    "numerator": 850,
    "denominator": 1000,
    "reported_rate": None,
    "note": None,
}


def items(data: bytes, name: str, period: str | None = None) -> list[SubmissionRow | RowProblem]:
    parsed = parse_submission(io.BytesIO(data), name=name, registry=REGISTRY, today=TODAY, period=period)
    return [i for i in parsed if isinstance(i, SubmissionRow | RowProblem)]


def json_rows(*rows: dict[str, Any], submission_period: str | None = None) -> list[SubmissionRow | RowProblem]:
    data = json.dumps([{**BASE, **r} for r in rows], ensure_ascii=False).encode()
    got = items(data, "AG.STP_2026-03.json", submission_period)
    assert len(got) == len(rows)
    return got


def one(**changes: Any) -> SubmissionRow | RowProblem:
    (item,) = json_rows(changes)
    return item


def loads(**changes: Any) -> SubmissionRow:
    item = one(**changes)
    assert isinstance(item, SubmissionRow), item
    return item


def refused(reason: str, column: str | None, **changes: Any) -> RowProblem:
    item = one(**changes)
    assert isinstance(item, RowProblem), item
    assert (item.reason_code, item.column) == (reason, column)
    return item


def xlsx_row(**changes: Any) -> SubmissionRow | RowProblem:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "du_lieu"
    values = {**BASE, **changes}
    sheet.append(list(values))
    sheet.append(list(values.values()))
    out = io.BytesIO()
    workbook.save(out)
    (item,) = items(out.getvalue(), "AG.STP_2026-03.xlsx")
    return item


# --- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03", "2026-03"),
        ("2026-3", "2026-03"),
        ("03/2026", "2026-03"),
        ("3/2026", "2026-03"),
        (" 12/2025 ", "2025-12"),
        ("2025-12", "2025-12"),
        ("1900-01", "1900-01"),
        ("1/1900", "1900-01"),
    ],
)
def test_periods_in_every_accepted_spelling(text: str, expected: str) -> None:
    assert normalise_period(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-00", "2026-13", "0/2026", "13/2026", "1899-12", "12/1899", "2026-003", "26-03", "2026-03-01", "2026/03", ""],
)
def test_periods_that_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a period"):
        normalise_period(text)


def _unit(valid_from: dt.date, valid_to: dt.date | None) -> Unit:
    return Unit("X.TEST", "Đơn vị thử", "department", "X", "X", None, valid_from, valid_to, "x@example")


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "period", "expected"),
    [
        (dt.date(2025, 7, 1), None, "2025-06", False),
        (dt.date(2025, 7, 1), None, "2025-07", True),
        (dt.date(2000, 1, 1), dt.date(2025, 6, 30), "2025-06", True),
        (dt.date(2000, 1, 1), dt.date(2025, 6, 30), "2025-07", False),
        # a unit created or dissolved mid-month still reports that month
        (dt.date(2025, 7, 15), None, "2025-07", True),
        (dt.date(2000, 1, 1), dt.date(2025, 7, 15), "2025-07", True),
        (dt.date(2000, 1, 1), dt.date(2025, 7, 15), "2025-08", False),
        # the first and the last day of the month count
        (dt.date(2024, 3, 31), None, "2024-03", True),
        (dt.date(2000, 1, 1), dt.date(2024, 3, 1), "2024-03", True),
        (dt.date(2000, 1, 1), dt.date(2024, 2, 29), "2024-03", False),
        (dt.date(2024, 2, 29), None, "2024-02", True),
        (dt.date(2023, 3, 1), None, "2023-02", False),
        (dt.date(2025, 12, 31), None, "2025-12", True),
        (dt.date(2026, 1, 1), None, "2025-12", False),
    ],
)
def test_a_unit_is_valid_in_a_month_it_exists_on_one_day_of(
    valid_from: dt.date, valid_to: dt.date | None, period: str, expected: bool
) -> None:
    assert unit_valid_in_period(_unit(valid_from, valid_to), period) is expected


def test_the_last_ended_month_loads_and_the_current_one_does_not() -> None:
    assert loads(period="2026-03").period == "2026-03"
    assert loads(period="3/2026").period == "2026-03"
    problem = refused("future_period", "period", period="2026-04")
    assert "2026-04" in problem.reason_en
    refused("future_period", "period", period="2027-01")
    refused("invalid_period", "period", period="2026-13")


def test_a_submission_for_one_month_refuses_rows_of_another() -> None:
    (ok,) = json_rows({"period": "03/2026"}, submission_period="2026-03")
    assert isinstance(ok, SubmissionRow)
    (other,) = json_rows({"period": "2026-02"}, submission_period="2026-03")
    assert isinstance(other, RowProblem)
    assert (other.reason_code, other.column) == ("period_mismatch", "period")
    assert "2026-02" in other.reason_en and "2026-03" in other.reason_en


def test_excel_dates_as_periods() -> None:
    for value in (dt.date(2026, 3, 1), dt.datetime(2026, 3, 1)):
        item = xlsx_row(period=value)
        assert isinstance(item, SubmissionRow) and item.period == "2026-03"
    for value in (dt.datetime(2026, 3, 1, 10, 30), dt.date(2026, 3, 15)):
        item = xlsx_row(period=value)
        assert isinstance(item, RowProblem) and (item.reason_code, item.column) == ("invalid_period", "period")


# --- units, indicators, services --------------------------------------------------------------


def test_codes_resolve_to_the_registry_spelling() -> None:
    row = loads(unit_code="ag.stp", indicator_code="ht_scanned")
    assert (row.unit_code, row.indicator_code, row.service_code) == ("AG.STP", "HT_SCANNED", "NA")
    row = loads(indicator_code="DVC_ONLINE_RECEIVED", service_code="dv01")
    assert (row.indicator_code, row.service_code) == ("DVC_ONLINE_RECEIVED", "DV01")


def test_unknown_and_out_of_date_units() -> None:
    refused("unknown_unit", "unit_code", unit_code="XX.KHONG")
    problem = refused("unit_not_valid_in_period", "unit_code", unit_code="AG89")
    assert "AG89" in problem.reason_en and "2026-03" in problem.reason_en
    assert "(valid 01/01/2000 – 30/06/2025)" in problem.reason_en
    problem = refused("unit_not_valid_in_period", "unit_code", period="2025-06")
    assert "01/07/2025 – …" in problem.reason_en
    assert loads(unit_code="AG89", period="2025-06").unit_code == "AG89"


def test_indicators_and_services() -> None:
    refused("unknown_indicator", "indicator_code", indicator_code="HT_SCANNED_X")
    for code in (None, "", "NA", "na", " NA "):
        assert loads(service_code=code).service_code == "NA"
        assert loads(indicator_code="DVC_ONLINE_RECEIVED", service_code=code).service_code == "NA"
    problem = refused("unexpected_service", "service_code", service_code="DV01")
    assert "HT_SCANNED" in problem.reason_en
    refused("unknown_service", "service_code", indicator_code="DVC_ONLINE_RECEIVED", service_code="DV99")


def test_missing_required_values_name_the_first_missing_column() -> None:
    refused("missing_value", "unit_code", unit_code=None, period=None)
    refused("missing_value", "period", period="  ")
    refused("missing_value", "indicator_code", indicator_code="")
    refused("missing_value", "numerator", numerator=None)


def test_a_second_row_with_the_same_key_is_a_duplicate_of_the_first() -> None:
    first, second, third = json_rows({}, {"numerator": 1}, {"service_code": "NA", "unit_code": "ag.stp"})
    assert isinstance(first, SubmissionRow)
    for dup in (second, third):
        assert isinstance(dup, RowProblem)
        assert (dup.reason_code, dup.column, dup.raw_value) == ("duplicate_row", None, None)
        assert "row 1 " in dup.reason_en
    a, b = json_rows({}, {"period": "2026-02"})
    assert isinstance(a, SubmissionRow) and isinstance(b, SubmissionRow)


# --- counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        ("0", 0),
        (0.0, 0),
        (1597452, 1_597_452),
        ("1.597.452", 1_597_452),
        (2076.0, 2_076),
        (9_223_372_036_854_775_807, 9_223_372_036_854_775_807),
    ],
)
def test_numerators_that_load(value: Any, expected: int) -> None:
    assert loads(numerator=value).numerator == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-5, "negative_number"),
        (-5.0, "negative_number"),
        (-0.5, "negative_number"),
        ("-5", "negative_number"),
        ("−1.000", "negative_number"),
        ("– 5", "negative_number"),
        ("12.34", "not_a_whole_number"),
        ("1.50.000", "not_a_whole_number"),
        ("12,5", "not_a_whole_number"),
        (12.5, "not_a_whole_number"),
        (True, "not_a_whole_number"),
        ("abc", "not_a_whole_number"),
        ("a-5", "not_a_whole_number"),
        (9_223_372_036_854_775_808, "number_too_large"),
        ("9.223.372.036.854.775.808", "number_too_large"),
    ],
)
def test_numerators_and_denominators_that_are_refused(value: Any, reason: str) -> None:
    problem = refused(reason, "numerator", numerator=value)
    assert problem.raw_value == (value if isinstance(value, str) else problem.raw_value)
    refused(reason, "denominator", denominator=value)


def test_a_too_large_count_names_the_limit_in_both_languages() -> None:
    problem = refused("number_too_large", "numerator", numerator=2**63)
    assert "9,223,372,036,854,775,807" in problem.reason_en
    assert "9.223.372.036.854.775.807" in problem.reason_vi


def test_a_date_is_not_a_number() -> None:
    item = xlsx_row(numerator=dt.date(2026, 3, 1))
    assert isinstance(item, RowProblem) and (item.reason_code, item.column) == ("date_not_a_number", "numerator")
    item = xlsx_row(reported_rate=dt.date(2026, 3, 1))
    assert isinstance(item, RowProblem) and (item.reason_code, item.column) == ("invalid_rate", "reported_rate")


def test_a_formula_nobody_calculated_is_named() -> None:
    item = xlsx_row(numerator="=1+1")
    assert isinstance(item, RowProblem)
    assert (item.reason_code, item.column, item.raw_value) == ("formula_without_value", "numerator", "=1+1")


def test_an_empty_denominator_or_rate_loads_as_none() -> None:
    row = loads(denominator=None, reported_rate="")
    assert (row.denominator, row.reported_rate) == (None, None)
    assert loads(denominator="  ").denominator is None
    assert loads(denominator=0).denominator == 0


# --- rates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("85%", Decimal("85")),
        ("85,00", Decimal("85")),
        (85, Decimal("85")),
        (85.0, Decimal("85")),
        ("0", Decimal("0")),
        ("100", Decimal("100")),
        (100, Decimal("100")),
    ],
)
def test_rates_that_load(value: Any, expected: Decimal) -> None:
    assert loads(reported_rate=value).reported_rate == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-5%", "rate_out_of_range"),
        (-5, "rate_out_of_range"),
        ("−0,5", "rate_out_of_range"),
        ("abc", "invalid_rate"),
        (True, "invalid_rate"),
        ("10000000", "rate_too_large"),
    ],
)
def test_rates_that_are_refused(value: Any, reason: str) -> None:
    refused(reason, "reported_rate", reported_rate=value)


@pytest.mark.parametrize("value", ["100,01", 100.01, "100.01%"])
def test_a_rate_just_above_100_on_a_total_loads_flagged(value: Any) -> None:
    row = loads(reported_rate=value)
    assert row.reported_rate == Decimal("100.01")
    assert "numerator_above_denominator" in row.flags


def test_a_rate_of_exactly_100_is_not_flagged_above_the_total() -> None:
    assert "numerator_above_denominator" not in loads(reported_rate="100").flags


def test_a_rate_out_of_range_quotes_it_and_a_too_large_one_names_the_limit() -> None:
    assert "-5%" in refused("rate_out_of_range", "reported_rate", reported_rate="-5").reason_en
    problem = refused("rate_too_large", "reported_rate", reported_rate="10000000")
    assert "9,999,999.99" in problem.reason_en
    assert "9.999.999,99" in problem.reason_vi


def test_a_rate_above_100_is_fine_against_a_target() -> None:
    row = loads(indicator_code="VNEID_REGISTERED", numerator=1500, denominator=1000, reported_rate="150%")
    assert (row.reported_rate, row.flags) == (Decimal("150"), ())


# --- soft flags -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "flags"),
    [
        ({"numerator": 1000, "denominator": 1000}, ()),
        ({"numerator": 1001, "denominator": 1000}, ("numerator_above_denominator",)),
        ({"numerator": 0, "denominator": 0}, ()),
        ({"numerator": 5, "denominator": 0, "reported_rate": "50"}, ("numerator_above_denominator",)),
        ({"numerator": 5, "denominator": None, "reported_rate": "50"}, ()),
        ({"indicator_code": "VNEID_REGISTERED", "numerator": 1001, "denominator": 1000}, ()),
        # 850 / 1000 is 85.00 %: up to 0.05 points either way is the same rate
        ({"reported_rate": "85,05"}, ()),
        ({"reported_rate": "84,95"}, ()),
        ({"reported_rate": "85,06"}, ("rate_mismatch",)),
        ({"reported_rate": "84,94"}, ("rate_mismatch",)),
        ({"reported_rate": "0"}, ("rate_mismatch",)),
        (
            {"numerator": 1001, "denominator": 1000, "reported_rate": "0"},
            ("numerator_above_denominator", "rate_mismatch"),
        ),
        # 1 / 3 is 33.333… %
        ({"numerator": 1, "denominator": 3, "reported_rate": "33,33"}, ()),
        ({"numerator": 1, "denominator": 3, "reported_rate": "33,39"}, ("rate_mismatch",)),
    ],
)
def test_soft_flags(changes: dict[str, Any], flags: tuple[str, ...]) -> None:
    assert loads(**changes).flags == flags


def test_a_loaded_row_keeps_every_value() -> None:
    row = loads(note="  đã đối chiếu  ", reported_rate="85,00%")
    assert row == SubmissionRow(
        row_no=1,
        unit_code="AG.STP",
        period="2026-03",
        indicator_code="HT_SCANNED",
        service_code="NA",
        numerator=850,
        denominator=1000,
        reported_rate=Decimal("85.00"),
        note="đã đối chiếu",
        flags=(),
    )


# --- lineage columns of a review workbook -----------------------------------------------------


def test_a_reviewed_figure_keeps_its_report_line_and_sentence() -> None:
    row = loads(source_line="12", snippet="  1.363 hồ sơ trực tuyến/1.365 hồ sơ  ")
    assert (row.source_line, row.snippet) == (12, "1.363 hồ sơ trực tuyến/1.365 hồ sơ")
    row = loads(source_line=2_147_483_647)
    assert row.source_line == 2_147_483_647
    row = loads(source_line="", snippet=None)
    assert (row.source_line, row.snippet) == (None, None)


def test_a_report_line_must_fit_an_integer_column() -> None:
    problem = refused("number_too_large", "source_line", source_line=2_147_483_648)
    assert "2,147,483,647" in problem.reason_en and "2.147.483.647" in problem.reason_vi
    refused("negative_number", "source_line", source_line="-1")
