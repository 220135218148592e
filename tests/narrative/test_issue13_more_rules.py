"""More rules of issue 13, from the classes the second held-out set missed (hand-written
sentences of other services and figures, hand-computed tuples): a base with a multiplier after
the rate, "trong số N ..., có x% ..." wholes, "vượt x% kế hoạch" changes, a bracketed ratio after
a rate and its measure, highest/lowest lists of places, three-way respectively-lists of ratios,
"trong số này" parts, a count's rate given by an earlier figure of another unit, and remainders
confirmed by arithmetic on the figures before them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest.narrative.extract import extract_statements
from ingest.registry import Registry

D = Decimal
Tuple = tuple[int | None, int | None, Decimal | None]


def _tuples(text: str, registry: Registry) -> list[Tuple]:
    return [
        (s.numerator, s.denominator, s.reported_rate_pct)
        for s in extract_statements(text.splitlines(), registry=registry)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tỷ lệ thanh toán trực tuyến đạt 64,5% trên tổng số gần 1,2 triệu giao dịch.", [(None, 1200000, D("64.5"))]),
        ("Hồ sơ nộp trực tuyến chiếm 81,3% trên tổng số hơn 860 nghìn hồ sơ tiếp nhận.",
         [(None, 860000, D("81.3"))]),
    ],
)  # fmt: skip
def test_a_multiplied_base_after_the_rate(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Trong số hơn 2,4 triệu lượt khám chữa bệnh BHYT 6 tháng đầu năm, có 71,2% lượt sử dụng căn cước.",
         [(None, 2400000, D("71.2"))]),
        ("Trong tổng số 56.000 hồ sơ tiếp nhận, 88,5% hồ sơ được nộp trực tuyến.", [(None, 56000, D("88.5"))]),
    ],
)  # fmt: skip
def test_a_rate_out_of_a_whole_named_before_it(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Công an tỉnh thu nhận 58.300 hồ sơ cấp căn cước, vượt 6,2% kế hoạch năm.",
        "Số tài khoản định danh điện tử được kích hoạt vượt 12% so với chỉ tiêu được giao.",
    ],
)
def test_exceeding_by_a_share_is_a_change(text: str, registry: Registry) -> None:
    assert _tuples(text, registry) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ngành y tế có 100% trạm y tế xã (48/48 trạm) đã kết nối liên thông dữ liệu.", [(48, 48, D("100"))]),
        ("Đã có 95,5% cơ sở giáo dục (191/200 cơ sở) triển khai thu học phí không dùng tiền mặt.",
         [(191, 200, D("95.5"))]),
    ],
)  # fmt: skip
def test_a_bracketed_ratio_after_a_rate_and_its_measure(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tỷ lệ hồ sơ trực tuyến cao nhất là phường Bến Thành (99,1%), thấp nhất là xã Thạnh An (72,4%).",
         [(None, None, D("99.1")), (None, None, D("72.4"))]),
        ("Ở cấp xã, tỷ lệ thanh toán trực tuyến cao nhất thuộc về phường Tân Định (94,2%), phường Long Biên 2 "
         "(93,6%) và xã Yên Lạc (90,8%).", [(None, None, D("94.2")), (None, None, D("93.6")), (None, None, D("90.8"))]),
        # "mức 2" qualifies the measure; "số 4" names the place.
        ("Tỷ lệ kích hoạt tài khoản định danh điện tử mức 2 theo khu dân cư: cao nhất là khu dân cư số 4 (97,3%), "
         "thấp nhất là khu dân cư số 11 (80,2%).", [(None, None, D("97.3")), (None, None, D("80.2"))]),
    ],
)  # fmt: skip
def test_highest_and_lowest_lists(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


def test_three_ratios_with_their_rates_respectively(registry: Registry) -> None:
    text = (
        "Hồ sơ trực tuyến của đăng ký thường trú, tạm trú và khai báo tạm vắng lần lượt là 412/430, 95/95 và "
        "61/70 hồ sơ, đạt tỷ lệ lần lượt 95,81%, 100% và 87,14%."
    )
    assert _tuples(text, registry) == [(412, 430, D("95.81")), (95, 95, D("100")), (61, 70, D("87.14"))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Toàn tỉnh đã cấp 1.250.000 tài khoản định danh điện tử mức 2; trong số này, 1.010.000 tài khoản đã "
         "kích hoạt.", [(1010000, 1250000, None)]),
        ("Đã cấp gần 1,2 triệu tài khoản định danh điện tử, đạt 96% chỉ tiêu; trong số đó, hơn 980 nghìn tài "
         "khoản đã kích hoạt.", [(1200000, None, D("96")), (980000, 1200000, None)]),
    ],
)  # fmt: skip
def test_parts_after_trong_so_nay(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 2.376 / 2.400 = 99,00 %; 2.400 - 2.376 = 24.
        ("Tiếp nhận 2.400 hồ sơ đề nghị cấp thẻ BHYT, đã cấp thẻ cho 2.376 trẻ (99%); 24 hồ sơ còn lại đang "
         "bổ sung.", [(2376, 2400, D("99")), (24, 2400, None)]),
        # 612 / 640 = 95,625 -> 95,63 %.
        ("Nhận 640 hồ sơ đăng ký khai sinh liên thông, đã giải quyết cho 612 trẻ em, đạt 95,63%.",
         [(612, 640, D("95.63"))]),
        # 612 / 640 is not 91 %: the earlier figure is no base.
        ("Nhận 640 hồ sơ đăng ký khai sinh liên thông, đã giải quyết cho 612 trẻ em, đạt 91%.",
         [(612, None, D("91"))]),
    ],
)  # fmt: skip
def test_a_rate_given_by_an_earlier_figure_of_another_unit(
    text: str, expected: list[Tuple], registry: Registry
) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 50.000 - 46.500 = 3.500.
        ("- Tổng số hồ sơ cần số hóa: 50.000 hồ sơ.\n- Đã số hóa 46.500 hồ sơ, đạt 93%.\n"
         "- Số hồ sơ chưa số hóa còn lại: 3.500 hồ sơ.", [(46500, 50000, D("93")), (3500, 50000, None)]),
        # 3.400 is not 50.000 - 46.500: no whole is confirmed, so no statement.
        ("- Tổng số hồ sơ cần số hóa: 50.000 hồ sơ.\n- Đã số hóa 46.500 hồ sơ, đạt 93%.\n"
         "- Số hồ sơ chưa số hóa còn lại: 3.400 hồ sơ.", [(46500, 50000, D("93"))]),
    ],
)  # fmt: skip
def test_a_remainder_confirmed_by_the_figures_before_it(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected
