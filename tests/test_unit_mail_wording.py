"""The rules in words: each finding reads as a Vietnamese sentence built from the registry's
indicator texts, with numbers as officials write them.  Expected sentences are written here by
hand from indicators.yml (numerator / denominator texts) and checks.yml.
"""

from __future__ import annotations

import pytest

from ingest.registry import load_registry
from ingest.reporting.wording import finding_sentence, number_vi, percent_vi

REGISTRY = load_registry()


@pytest.mark.parametrize(
    ("value", "text"),
    [(1597452, "1.597.452"), (97.114, "97,11"), (5111, "5.111"), (0, "0"), (12.5, "12,5"), (-3.5, "-3,5"), (None, "")],
)
def test_numbers_read_as_vietnamese(value: object, text: str) -> None:
    assert number_vi(value) == text


def test_percent() -> None:
    assert percent_vi(82.5) == "82,5%" and percent_vi(100) == "100%"


@pytest.mark.parametrize(
    ("check", "indicator", "values", "sentence"),
    [
        (
            "numerator_exceeds_denominator",
            "DVC_ONLINE_RECEIVED",
            {"numerator": 6194, "denominator": 5111, "reported_rate": None},
            "Số hồ sơ tiếp nhận trực tuyến trong tháng (6.194) không được vượt quá "
            "tổng số hồ sơ tiếp nhận trong tháng (5.111)",
        ),
        (
            "funnel_break",
            "HT_ENTERED",
            {
                "funnel": "ho_tich",
                "upper_step": "HT_SCANNED",
                "upper_value": 900,
                "lower_step": "HT_ENTERED",
                "lower_value": 1200,
            },
            "Số dữ liệu hộ tịch lịch sử đã nhập liệu (1.200) không được vượt quá "
            "số dữ liệu hộ tịch lịch sử đã scan (900)",
        ),
        (
            "stock_decrease",
            "HT_SCANNED",
            {
                "numerator": 850,
                "denominator": 1000,
                "previous_period": "2026-02",
                "previous_numerator": 900,
                "previous_denominator": 1000,
            },
            "Số dữ liệu hộ tịch lịch sử đã scan (850) giảm so với tháng 02/2026 (900)",
        ),
        (
            "rate_mismatch",
            "DVC_ONLINE_RECEIVED",
            {"numerator": 233, "denominator": 295, "reported_rate": 88.98, "computed_rate": 78.98},
            "Tỷ lệ ghi 88,98% không khớp với số hồ sơ tiếp nhận trực tuyến trong tháng (233) ÷ "
            "tổng số hồ sơ tiếp nhận trong tháng (295) = 78,98%",
        ),
        (
            "parts_exceed_total",
            "DVC_ONLINE_RECEIVED",
            {"numerator_total": 100, "numerator_parts": 130, "rule": "dich_vu"},
            "Tổng số hồ sơ tiếp nhận trực tuyến trong tháng của các dịch vụ (130) không được vượt quá dòng tổng (100)",
        ),
        (
            "missing_submission",
            None,
            {"deadline": "2026-04-10T17:00:00+00:00"},
            "Chưa nhận được báo cáo tháng; hạn nộp 00:00 ngày 11/04/2026",
        ),
    ],
)
def test_a_finding_reads_as_its_rule_in_words(check: str, indicator: str | None, values: dict, sentence: str) -> None:
    assert finding_sentence(REGISTRY, check, indicator, values) == sentence


def test_a_check_without_a_pattern_reads_as_its_title() -> None:
    said = finding_sentence(REGISTRY, "numerator_exceeds_denominator", "DVC_ONLINE_RECEIVED", {})
    assert said == "Tử số lớn hơn mẫu số", "values of another shape read as the check's title"
    assert finding_sentence(REGISTRY, "no_such_check", None, {"a": 1000}) == "no_such_check: a 1.000"
