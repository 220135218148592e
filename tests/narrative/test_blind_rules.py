"""Rules found in the blind round (reports written and labelled before the extractor saw them):
a whole written after the rate, asides in brackets, ratios after ``năm`` / ``tài khoản``, a
running total in brackets, ``Trong N ...`` as a whole, counts inside a ``Tỷ lệ ...`` measure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest.narrative.extract import Statement, extract_statements
from ingest.registry import Registry

D = Decimal


def _run(text: str, registry: Registry) -> list[Statement]:
    return list(extract_statements(text.splitlines(), registry=registry))


def _tuples(text: str, registry: Registry) -> list[tuple[int | None, int | None, Decimal | None]]:
    return [(s.numerator, s.denominator, s.reported_rate_pct) for s in _run(text, registry)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The whole follows the rate, in brackets or named as a quota.
        (
            "- THPT: đã xác thực 128.017 học sinh, đạt tỉ lệ 98,4% (tổng số 130.099 học sinh);",
            [(128017, 130099, D("98.4"))],
        ),
        (
            "Đã cấp 1.046.552 tài khoản định danh điện tử mức 2, đạt 103,2% chỉ tiêu được giao (1.014.100 tài khoản).",
            [(1046552, 1014100, D("103.2"))],
        ),
        # A bracket that does not give the rate is not a whole.
        ("Đã cấp 1.046 tài khoản, đạt 50% (theo Kế hoạch số 12/KH-UBND).", [(1046, None, D("50"))]),
        # A bracketed aside between a ratio and its rate.
        (
            "Đã xác thực 798.214/812.905 người (cán bộ, giáo viên, học sinh), đạt 98,19%.",
            [(798214, 812905, D("98.19"))],
        ),
        # "lớp 1" qualifies the measure, it is not a figure in the way of the rate.
        ("166/166 xã đã rà soát dữ liệu trẻ vào lớp 1, đạt 100%.", [(166, 166, D("100"))]),
        # After "năm" / "tài khoản" a counted ratio is no date and no clause number.
        ("Lũy kế từ đầu năm 402/431 hồ sơ trực tuyến, đạt 93,27%.", [(402, 431, D("93.27"))]),
        ("Chi trả lương hưu qua tài khoản 612 người trên tổng số 655 người, tỉ lệ 93,44%.", [(612, 655, D("93.44"))]),
        ("Báo cáo tháng 02/2026 và năm 2025/2026.", []),
        # A running total in brackets is not a part of the month's figure.
        ("Trong tháng, thu nhận 12.486 hồ sơ (lũy kế từ đầu năm 58.903 hồ sơ).", []),
        # "Trong N ..." names a whole; a remainder after it is a part of it too.
        (
            "Trong 12 nhiệm vụ được giao, đã hoàn thành 9 nhiệm vụ, đạt 75%; 3 nhiệm vụ đang triển khai.",
            [(9, 12, D("75")), (3, 12, None)],
        ),
        # A count inside a "Tỷ lệ ..." measure does not carry the rate.
        (
            "Tỷ lệ hộ gia đình có ít nhất 01 thành viên sử dụng dịch vụ công trực tuyến đạt 62,5%.",
            [(None, None, D("62.5"))],
        ),
    ],
)
def test_blind_round_rules(
    text: str, expected: list[tuple[int | None, int | None, Decimal | None]], registry: Registry
) -> None:
    assert _tuples(text, registry) == expected


def test_share_of_the_population_is_of_another_kind(registry: Registry) -> None:
    [st] = _run("Đã tạo lập 2.846.901 sổ sức khỏe điện tử, đạt 85,9% dân số toàn tỉnh.", registry)
    assert (st.numerator, st.reported_rate_pct, st.denominator_kind) == (2846901, D("85.9"), "other")


def test_a_cited_plan_is_no_quota(registry: Registry) -> None:
    [st] = _run("Đã triển khai 08/09 mô hình điểm theo Kế hoạch số 112/KH-CAT ngày 03/3/2026.", registry)
    assert (st.numerator, st.denominator, st.denominator_kind) == (8, 9, "total")


def test_a_later_clause_does_not_set_the_scope(registry: Registry) -> None:
    text = (
        "- Đăng ký khai sinh: tiếp nhận 86 hồ sơ, trong đó 81 hồ sơ trực tuyến, đạt 94,19%; "
        "lũy kế từ đầu năm 402/431 hồ sơ trực tuyến."
    )
    scopes = {(s.numerator, s.denominator): s.scope for s in _run(text, registry)}
    assert scopes == {(81, 86): "month", (402, 431): "cumulative"}


def test_tax_codes_count_taxpayers(registry: Registry) -> None:
    [st] = _run("Đã đối sánh được 402.118 mã số thuế cá nhân trên tổng số 415.660 mã số thuế, đạt 96,74%.", registry)
    assert (st.count_unit, st.indicator_code) == ("mã số thuế", "TAX_MATCHED")
