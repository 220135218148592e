"""Consistency findings per report, with Vietnamese messages for officials."""

from __future__ import annotations

from decimal import Decimal

from ingest.narrative.extract import Statement, extract_statements
from ingest.narrative.findings import consistency_findings, format_count, format_rate
from ingest.registry import Registry

from .conftest import sample_lines


def _findings(lines: list[str], registry: Registry) -> list[tuple[int, str]]:
    return [(f.line_no, f.code) for f in consistency_findings(extract_statements(lines, registry=registry))]


def test_seed_000_stated_100_percent_for_1363_of_1365(registry: Registry) -> None:
    found = consistency_findings(extract_statements(sample_lines("000_912342d7bb84c32c"), registry=registry))
    assert [(f.line_no, f.code) for f in found] == [(52, "rate_mismatch"), (52, "full_rate_but_incomplete")]
    assert "99,85%" in found[0].message_vi and "1.363/1.365" in found[0].message_vi
    assert "thiếu 2 hồ sơ" in found[1].message_vi
    # 3968 cleaned + 7047 remaining = 11015: no remainder finding.
    assert all(f.code != "remainder_mismatch" for f in found)


def test_seed_002_parts_add_up(registry: Registry) -> None:
    # 157 + 65 = 222; 88 of 88; 62 of 62.
    assert _findings(sample_lines("002_67a72e19db5d95ba"), registry) == []


def test_seed_003_plan_targets_have_no_findings(registry: Registry) -> None:
    assert _findings(sample_lines("003_91e0c137462c6d8a"), registry) == []


def test_synthetic_breakdown_and_rate(registry: Registry) -> None:
    found = consistency_findings(extract_statements(sample_lines("synthetic_cat_dong_thap_2026_04"), registry=registry))
    assert [(f.line_no, f.code) for f in found] == [(37, "parts_sum_mismatch"), (43, "rate_mismatch")]
    assert "100 + 15 = 115" in found[0].message_vi and "120" in found[0].message_vi
    # A target may be exceeded: 1.584.959 of 1.030.000 (153,88%) is not a finding.
    assert all(f.line_no != 17 for f in found)


def test_remainder_that_does_not_add_up(registry: Registry) -> None:
    lines = ["Tổng số dữ liệu cần số hóa: 1.000 dữ liệu; đã số hóa: 700 dữ liệu; còn lại: 200 dữ liệu."]
    found = consistency_findings(extract_statements(lines, registry=registry))
    assert [f.code for f in found] == ["remainder_mismatch"]
    assert "200" in found[0].message_vi and "1.000" in found[0].message_vi


def test_ratio_under_a_whole_with_another_denominator(registry: Registry) -> None:
    lines = ["Khai tử: Tổng số tiếp nhận: 1365 hồ sơ; trong đó: 1360 hồ sơ trực tuyến/1362 hồ sơ tiếp nhận."]
    assert [f.code for f in consistency_findings(extract_statements(lines, registry=registry))] == [
        "ratio_total_mismatch"
    ]


def test_part_above_its_total_but_not_above_a_target(registry: Registry) -> None:
    over_total = ["Tổng số hồ sơ tiếp nhận: 100 hồ sơ; trong đó trực tuyến 120 hồ sơ."]
    over_target = ["Chỉ tiêu được giao: 100 tài khoản; đã cấp: 120 tài khoản, đạt 120%."]
    assert [f.code for f in consistency_findings(extract_statements(over_total, registry=registry))] == [
        "part_exceeds_total"
    ]
    assert consistency_findings(extract_statements(over_target, registry=registry)) == []


def test_tolerance_is_five_hundredths_of_a_point(registry: Registry) -> None:
    # 2/3 = 66,666...%: 66,67% and 66,7% are within 0,05 points, 66,6% is not.
    def codes(rate: str) -> list[str]:
        lines = [f"Đã xử lý 2/3 hồ sơ, đạt {rate}%."]
        return [f.code for f in consistency_findings(extract_statements(lines, registry=registry))]

    assert codes("66,67") == []
    assert codes("66,7") == []
    assert codes("66,6") == ["rate_mismatch"]


def test_rate_above_100_for_a_part_of_a_total() -> None:
    st = Statement(
        line_no=3,
        numerator=None,
        denominator=None,
        reported_rate_pct=Decimal("104"),
        computed_rate_pct=None,
        denominator_kind="total",
        scope="month",
        subject="hồ sơ trực tuyến",
        count_unit="hồ sơ",
        indicator_code=None,
        service_code=None,
        snippet="chiếm 104% tổng số hồ sơ",
        relation="rate",
    )
    assert [f.code for f in consistency_findings([st])] == ["rate_above_100"]


def test_number_formatting_for_officials() -> None:
    assert format_count(5625798) == "5.625.798"
    assert format_rate(Decimal("99.8534")) == "99,85%"
    assert format_rate(Decimal("100")) == "100%"
    assert format_rate(Decimal("88.80")) == "88,8%"
