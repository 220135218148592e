"""More rules of issue 13, from the classes the second held-out set missed (hand-written
sentences of other services and figures, hand-computed tuples): a base with a multiplier after
the rate, "trong số N ..., có x% ..." wholes, "vượt x% kế hoạch" changes, a bracketed ratio after
a rate and its measure, highest/lowest lists of places, three-way respectively-lists of ratios,
"trong số này" parts, a count's rate given by an earlier figure of another unit, and remainders
confirmed by arithmetic on the figures before them."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from ingest.narrative.extract import extract_statements
from ingest.narrative.header import read_header
from ingest.narrative.readers import read_document
from ingest.narrative.submission import document_statements
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


# --------------------------------------------------------------------------- third held-out set
# One test per class of miss of the third held-out run; own sentences, hand-computed figures.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tỷ lệ hồ sơ trực tuyến của cấp tỉnh và cấp xã lần lượt đạt 95,5% (1.910/2.000 hồ sơ) và 88% "
         "(440/500 hồ sơ).", [(1910, 2000, D("95.5")), (440, 500, D("88"))]),
        # 1.910 / 2.000 = 95,5 %, 440 / 500 = 88 %: each bracket is its rate's count.
        ("Tiếp nhận 2.000 hồ sơ cấp tỉnh và 500 hồ sơ cấp xã; tỷ lệ trực tuyến lần lượt đạt 95,5% (1.910 hồ sơ) "
         "và 88% (440 hồ sơ).", [(1910, 2000, D("95.5")), (440, 500, D("88"))]),
        # A bracket after a change explains the change.
        ("Tiếp nhận 1.260 hồ sơ, tăng 5% (60 hồ sơ) so với tháng trước.", []),
    ],
)  # fmt: skip
def test_a_bracket_after_a_rate_is_that_rates(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100% cán bộ của Sở và 03 đơn vị trực thuộc (212/212 người) đã kích hoạt tài khoản định danh điện tử.",
         [(212, 212, D("100"))]),
        # 2.050.000 / 2.000.000 = 102,5 %: a multiplied quota.
        ("Toàn tỉnh đã cấp hơn 2,05 triệu tài khoản định danh điện tử, đạt 102,5% chỉ tiêu (2 triệu tài khoản).",
         [(2050000, 2000000, D("102.5"))]),
        # 4.120 / 4.000 = 103 %: the quota after the rate confirms it past the long noun phrase.
        ("Có 4.120 hộ, cá nhân kinh doanh đăng ký sử dụng hóa đơn điện tử khởi tạo từ máy tính tiền, đạt 103% "
         "chỉ tiêu năm (4.000 hộ).", [(4120, 4000, D("103"))]),
    ],
)  # fmt: skip
def test_figures_a_rate_confirms(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nhiều xã duy trì tỷ lệ thanh toán trực tuyến ở mức cao như xã Tân Phú (92,1%), xã Long Hòa (90,4%)…",
         [(None, None, D("92.1")), (None, None, D("90.4"))]),
        ("Tỷ lệ cài đặt ứng dụng VNeID cao ở thôn Đông (88,2%), thôn Tây (85%); thấp nhất là thôn Nam (61,3%).",
         [(None, None, D("88.2")), (None, None, D("85")), (None, None, D("61.3"))]),
    ],
)  # fmt: skip
def test_lists_of_names_in_news_prose(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The measure's content words are the count's; "trong 6 tháng" does not matter.
        ("Có 215.400 lượt người bệnh sử dụng căn cước khi khám chữa bệnh trong 6 tháng, nâng tỷ lệ khám chữa "
         "bệnh bằng căn cước lên 64,3%.", [(215400, None, D("64.3"))]),
        # 36.000 / 40.000 = 90 %, 30.000 / 40.000 = 75 %.
        ("Trong tổng số 40.000 hộ, có 36.000 hộ nộp thuế điện tử và 30.000 hộ sử dụng hóa đơn điện tử, tương ứng "
         "tỷ lệ 90% và 75%.", [(36000, 40000, D("90")), (30000, 40000, D("75"))]),
        ("Số hồ sơ được số hóa kết quả giải quyết đạt 1,2 triệu, chiếm 95,2% số hồ sơ đã giải quyết.",
         [(1200000, None, D("95.2"))]),
        ("Đã thực hiện gần 3,6 triệu lượt xác thực thông tin công dân qua ứng dụng, với tỷ lệ thành công 99,1%.",
         [(None, 3600000, D("99.1"))]),
    ],
)  # fmt: skip
def test_rates_of_counts_in_news_prose(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 150 / 200 = 75 %; "từ 60% số tiểu thương trở lên" is a criterion of the count.
        ("Trong số 200 chợ, có 150 chợ có từ 60% số tiểu thương trở lên chấp nhận thanh toán không dùng tiền mặt, "
         "chiếm 75%.", [(150, 200, D("75"))]),
        ("Phấn đấu duy trì tỷ lệ hồ sơ trực tuyến từ 90% trở lên.", [(None, None, D("90"))]),
    ],
)  # fmt: skip
def test_a_lower_bound_inside_a_measure(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 3 + 2 = 5: the footnote lists the parts of the count its mark follows.
        ("- Đã giải quyết 500 hồ sơ, trong đó trễ hạn 05 hồ sơ¹.\n¹ Lĩnh vực đất đai 03 hồ sơ, lĩnh vực xây dựng "
         "02 hồ sơ.", [(5, 500, None), (3, 5, None), (2, 5, None)]),
        # 3 + 1 = 4, not 5: no parts.
        ("- Đã giải quyết 500 hồ sơ, trong đó trễ hạn 05 hồ sơ¹.\n¹ Lĩnh vực đất đai 03 hồ sơ, lĩnh vực xây dựng "
         "01 hồ sơ.", [(5, 500, None)]),
    ],
)  # fmt: skip
def test_a_footnote_listing_parts_that_add_up(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Accounts of citizens: the whole's label names the part's unit.
        ("Đã thu nhận hồ sơ cấp tài khoản định danh điện tử cho 52.000 công dân; trong đó 47.500 tài khoản đã "
         "được kích hoạt.", [(47500, 52000, None)]),
        # 700 / 800 = 87,5 %; 800 - 700 = 100: people counted as "đối tượng" and as "người".
        ("Chi trả trợ cấp cho 800 đối tượng, trong đó qua tài khoản 700 người, tỷ lệ 87,5%; còn lại 100 người "
         "nhận tiền mặt.", [(700, 800, D("87.5")), (100, 800, None)]),
        # 11.015 / 12.480 = 88,26 %: an earlier item counting the accounts' citizens.
        ("- Đã thu nhận hồ sơ cấp tài khoản định danh điện tử cho 12.480 công dân.\n- Số tài khoản đã kích hoạt "
         "là 11.015 tài khoản, chiếm 88,26% số tài khoản đã cấp.", [(11015, 12480, D("88.26"))]),
    ],
)  # fmt: skip
def test_wholes_counted_in_another_unit(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


def test_a_table_saved_as_text(registry: Registry) -> None:
    """A service table in a .txt report (cells joined by "|"): rates without "%", a row that
    received nothing, a total row whose number cell is empty - read through the product's path."""
    text = "\n".join(
        [
            "BÁO CÁO kết quả tháng 10/2026",
            "TT | Thủ tục | Tiếp nhận | Trực tuyến | Tỷ lệ (%)",
            "1 | Đăng ký khai sinh | 120 | 114 | 95",
            "2 | Đăng ký kết hôn có yếu tố nước ngoài | 0 | 0 | -",
            " | Tổng cộng | 120 | 114 | 95",
        ]
    )
    document = read_document(io.BytesIO(text.encode()), name="bc.txt")
    found = document_statements(document, read_header(document.lines, registry), registry)[0]
    assert [(s.line_no, s.numerator, s.denominator, s.reported_rate_pct, s.service_code) for s in found] == [
        (3, 114, 120, D("95"), "DV12"),
        (5, 114, 120, D("95"), "NA"),
    ]


# --------------------------------------------------------------------------- fourth held-out set
# One test per class of miss of the fourth held-out run; own sentences, hand-computed figures.


def test_a_rate_naming_a_whole_of_an_earlier_section(registry: Registry) -> None:
    # 9.113 / 13.000 = 70,10 %: "tổng số học sinh trên địa bàn tỉnh" names the whole of section 1.
    text = (
        "1. Xác thực thông tin học sinh\n"
        "- Tổng số học sinh trên địa bàn tỉnh là 13.000 học sinh; đã xác thực 12.350 học sinh, đạt 95%.\n"
        "2. Tài khoản định danh điện tử\n"
        "- Số học sinh đã có tài khoản định danh điện tử: 9.113 học sinh, chiếm 70,10% tổng số học sinh trên địa "
        "bàn tỉnh."
    )
    assert _tuples(text, registry) == [(12350, 13000, D("95")), (9113, 13000, D("70.10"))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chi trợ cấp thất nghiệp cho 1.200 người, 76,5% qua tài khoản cá nhân.", [(None, 1200, D("76.5"))]),
        # The 1.200 is the base of its share, not a part of the 500.
        ("Chi trả một lần cho 500 người, trong đó qua tài khoản 480 người (96%); chi trợ cấp thất nghiệp cho "
         "1.200 người, 76,5% qua tài khoản cá nhân.", [(480, 500, D("96")), (None, 1200, D("76.5"))]),
        ("Trong quý, toàn tỉnh tiếp nhận hơn 3,1 triệu hồ sơ; tỷ lệ hồ sơ nộp trực tuyến đạt 90,2%.",
         [(None, 3100000, D("90.2"))]),
        # The whole of the "trong đó" list, not its last part, is the base of the overall rate.
        ("Tiếp nhận 5.000 hồ sơ, trong đó trực tuyến 4.000 hồ sơ, qua bưu chính 600 hồ sơ; tỷ lệ hồ sơ trực "
         "tuyến chung đạt 80%.", [(4000, 5000, None), (600, 5000, None), (None, 5000, D("80"))]),
    ],
)  # fmt: skip
def test_a_count_as_the_base_of_a_share(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The base named after the rate counts the count's unit.
        ("Tiếp nhận 2.940 hồ sơ đăng ký, điều chỉnh thông tin BHXH, BHYT, đạt 93,33% tổng số hồ sơ phát sinh.",
         [(2940, None, D("93.33"))]),
        # 46 / 49 = 93,88 %; 5 / 8 = 62,5 %.
        ("Có 46/49 bệnh viện, trung tâm y tế (kể cả tuyến tỉnh) đã kết nối dữ liệu, đạt 93,88%.",
         [(46, 49, D("93.88"))]),
        ("Có 05/08 điểm du lịch do tỉnh quản lý đã bán vé điện tử (62,5%).", [(5, 8, D("62.5"))]),
        # 845 / 1.020 = 82,84 %: the whole of the part gives the rate past the long measure.
        ("Cấp 1.020 giấy chứng sinh, trong đó 845 giấy được gửi dữ liệu điện tử lên hệ thống tiếp nhận của Bảo "
         "hiểm xã hội Việt Nam phục vụ liên thông, đạt 82,84%.", [(845, 1020, D("82.84"))]),
        ("Duy trì Tổ Công nghệ số cộng đồng tại 21/21 tổ dân phố.", [(21, 21, None)]),
    ],
)  # fmt: skip
def test_rates_confirmed_past_a_long_measure(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


def test_a_ranked_list_after_the_overall_rate(registry: Registry) -> None:
    text = (
        "Tỷ lệ thanh toán viện phí không dùng tiền mặt tại các bệnh viện đạt 41,2%, trong đó cao nhất là Bệnh "
        "viện Phục hồi chức năng và Điều dưỡng tỉnh (58,3%), thấp nhất là Bệnh viện Lao và Bệnh phổi (12,7%)."
    )
    assert _tuples(text, registry) == [(None, None, D("41.2")), (None, None, D("58.3")), (None, None, D("12.7"))]


# --------------------------------------------------------------------------- fifth held-out set
# One test per class of miss of the fifth held-out run; own sentences, hand-computed figures.


@pytest.mark.parametrize(
    "header",
    ["STT | Sở, ngành | Tiếp nhận | Trực tuyến | Tỷ lệ (%)", "Lĩnh vực | Tiếp nhận | Trực tuyến | Tỷ lệ (%)"],
)
def test_a_table_of_departments_or_fields(header: str, registry: Registry) -> None:
    """Rows named by a department or a field, not a service: each is a statement, its service
    unknown (and so left to review)."""
    cells = [["1", "Sở Tư pháp", "400", "398", "99,50"], ["2", "Sở Xây dựng", "250", "200", "80"]]
    rows = [" | ".join(c if header.startswith("STT") else c[1:]) for c in cells]
    document = read_document(io.BytesIO("\n".join(["BÁO CÁO", header, *rows]).encode()), name="bc.txt")
    found = document_statements(document, read_header(document.lines, registry), registry)[0]
    assert [(s.numerator, s.denominator, s.reported_rate_pct, s.service_code) for s in found] == [
        (398, 400, D("99.50"), None),
        (200, 250, D("80"), None),
    ]


def test_parts_after_a_bracketed_quota_and_a_footnote_after_an_age(registry: Registry) -> None:
    text = (
        "- Thu nhận 5.000 hồ sơ cấp căn cước, đạt 125% kế hoạch tháng (4.000 hồ sơ); trong đó 900 hồ sơ cấp cho "
        "người dưới 14 tuổi¹.\n"
        "¹ Trong đó 700 hồ sơ thu nhận qua ứng dụng VNeID, 200 hồ sơ thu nhận trực tiếp."
    )
    assert _tuples(text, registry) == [(5000, 4000, D("125")), (900, 5000, None), (700, 900, None), (200, 900, None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dẫn đầu về tỷ lệ thanh toán trực tuyến là Sở Tài chính (98,2%), Sở Công Thương (96,4%).",
         [(None, None, D("98.2")), (None, None, D("96.4"))]),
        ("Tỷ lệ kích hoạt tài khoản định danh điện tử mức 2 cao nhất là xã Nậm Tăm (93,1%); thấp nhất là xã Pa "
         "Tần (70,4%).", [(None, None, D("93.1")), (None, None, D("70.4"))]),
        ("Duy trì Tổ Công nghệ số cộng đồng tại 27/27 xóm.", [(27, 27, None)]),
    ],
)  # fmt: skip
def test_lists_opened_by_la_and_hamlets_as_units(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Có 12/15 xã đạt tỷ lệ hồ sơ trực tuyến từ 90% trở lên.", [(12, 15, None)]),
        # A date is no count: the level of a goal stays a target rate.
        ("Phấn đấu đến ngày 31/12/2026 nâng tỷ lệ hồ sơ trực tuyến lên từ 95% trở lên.", [(None, None, D("95"))]),
    ],
)  # fmt: skip
def test_the_criterion_a_count_meets(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


def test_a_remainder_of_the_whole_it_completes(registry: Registry) -> None:
    # 800 - 760 = 40 (760 - 755 = 5 is not 40).
    text = (
        "Trong tổng số 800 hồ sơ tiếp nhận, đã giải quyết 760 hồ sơ (95%), trong đó đúng hạn 755 hồ sơ; còn lại "
        "40 hồ sơ đang giải quyết."
    )
    assert _tuples(text, registry) == [(760, 800, D("95")), (755, 760, None), (40, 800, None)]


# --------------------------------------------------------------------------- sixth held-out set
# One test per class of miss of the sixth held-out run; own sentences, hand-computed figures.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The share after "trong đó" is of the whole, not the whole's own rate.
        ("Toàn tỉnh tiếp nhận hơn 2,3 triệu hồ sơ thủ tục hành chính, trong đó 88,7% hồ sơ được nộp trực tuyến.",
         [(None, 2300000, D("88.7"))]),
        # 432.000 / 480.000 = 90 %: the multiplied count counts the unit its clause names.
        ("Đã cấp hơn 480 nghìn tài khoản mức 2. Số tài khoản đã kích hoạt là gần 432 nghìn, tương đương 90% số "
         "tài khoản được cấp.", [(432000, 480000, D("90"))]),
        ("Hơn 52 nghìn người hưởng chính sách đã nhận tiền qua tài khoản, chiếm 84,1% tổng số đối tượng.",
         [(52000, None, D("84.1"))]),
        # 45.210 / 48.929 = 92,40 %: the base's name holds an age.
        ("Có 45.210 tài khoản đã kích hoạt, đạt 92,4% số công dân từ đủ 14 tuổi trở lên (48.929 người).",
         [(45210, 48929, D("92.4"))]),
        ("Số người nộp thuế dùng eTax Mobile là 21.650 người, chiếm 21,65% trong tổng số 100.000 người nộp thuế.",
         [(21650, 100000, D("21.65"))]),
        # 1.200.000 / 1.250.000 = 96 %, near 96,3 %, but "số hồ sơ đã giải quyết" is not what was received.
        ("Tiếp nhận 1.250.000 hồ sơ, trong đó trực tuyến 1.100.000 hồ sơ (88%). Số hồ sơ được số hóa kết quả "
         "giải quyết đạt 1,2 triệu, chiếm 96,3% số hồ sơ đã giải quyết.",
         [(1100000, 1250000, D("88")), (1200000, None, D("96.3"))]),
    ],
)  # fmt: skip
def test_bases_named_after_a_rate(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 1.400.000 - 1.203.500 = 196.500: a remainder completing a ratio of an earlier item.
        ("- Đã số hóa 1.203.500/1.400.000 thửa đất, đạt 85,96%.\n- Số thửa đất chưa được số hóa còn lại là "
         "196.500 thửa.", [(1203500, 1400000, D("85.96")), (196500, 1400000, None)]),
        # 100.000 - 98.210 = 1.790 cases of taxpayers.
        ("Đã chuẩn hóa 98.210/100.000 người nộp thuế, đạt 98,21%; còn 1.790 trường hợp chưa khớp.",
         [(98210, 100000, D("98.21")), (1790, 100000, None)]),
        # A footnote opening "Số ... còn lại" continues the ratio its mark follows.
        ("- Đã nhập liệu 95.000/100.000 dữ liệu hộ tịch, đạt 95%¹.\n¹ Số dữ liệu chưa nhập liệu còn lại là 5.000 "
         "dữ liệu.", [(95000, 100000, D("95")), (5000, 100000, None)]),
        ("Tỷ lệ hồ sơ trực tuyến của các dịch vụ: đăng ký khai sinh (97,1%), đăng ký biến động quyền sử dụng đất do "
         "thay đổi thông tin về người được cấp Giấy chứng nhận (68,4%).",
         [(None, None, D("97.1")), (None, None, D("68.4"))]),
    ],
)  # fmt: skip
def test_remainders_and_long_names(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


# --------------------------------------------------------------------------- seventh held-out set
# One test per class of miss of the seventh held-out run; own sentences, hand-computed figures.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The rate qualifies the count's own events: the count is its base.
        ("Các cơ sở đã thực hiện 1.250.400 lượt tra cứu, tỷ lệ tra cứu thành công bình quân đạt 98,6%.",
         [(None, 1250400, D("98.6"))]),
        ("Đã thực hiện hơn 2,1 triệu lượt xác thực thông tin công dân, tỷ lệ xác thực thành công đạt 99,4%.",
         [(None, 2100000, D("99.4"))]),
        # ... but a rate of the count's own measure is its rate: 450 / 500 = 90 %.
        ("Đã cấp 500 tài khoản; đã kích hoạt 450 tài khoản, tỷ lệ kích hoạt đạt 90%.", [(450, 500, D("90"))]),
        # A bracketed change does not part a count from its rate: 98.000 / 100.000 = 98 %.
        ("Đã tạo lập sổ sức khỏe điện tử cho 98.000 người (tăng 1.200 người so với tháng trước), đạt 98% chỉ "
         "tiêu được giao (100.000 người).", [(98000, 100000, D("98"))]),
        ("Các bản khác đều có tỷ lệ kích hoạt từ 80% trở lên.", []),
    ],
)  # fmt: skip
def test_rates_of_events_changes_and_groups(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


def test_a_footnote_listing_the_clinics_of_a_remainder(registry: Registry) -> None:
    text = (
        "- Có 50 cơ sở, trong đó 45 cơ sở đã kết nối, đạt 90%; còn lại 05 cơ sở¹ đang hoàn thiện.\n"
        "¹ Gồm 03 phòng khám đa khoa và 02 phòng khám chuyên khoa."
    )
    assert _tuples(text, registry) == [(45, 50, D("90")), (5, 50, None), (3, 5, None), (2, 5, None)]


# --------------------------------------------------------------------------- eighth held-out set
# One test per class of miss of the eighth held-out run; own sentences, hand-computed figures.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 4.200 / 5.600 = 75 %: decisions are a count unit.
        ("Trong tháng ban hành 5.600 quyết định xử phạt; trong đó 4.200 quyết định đã được nộp phạt trực tuyến, "
         "đạt 75%.", [(4200, 5600, D("75"))]),
        # An approximate share after "trong đó" is of the whole, past an age in the whole's words.
        ("Đã thu nhận gần 52 nghìn hồ sơ cấp căn cước cho trẻ em dưới 14 tuổi, trong đó khoảng 38% hồ sơ được nộp "
         "qua ứng dụng VNeID.", [(None, 52000, D("38"))]),
        ("Tỷ lệ thanh toán viện phí không dùng tiền mặt tại 18 bệnh viện công lập đạt 58,2%; cao nhất là Bệnh viện "
         "Đa khoa tỉnh (79,5%), thấp nhất là Trung tâm Y tế khu vực Ba Tơ (30,1%).",
         [(None, None, D("58.2")), (None, None, D("79.5")), (None, None, D("30.1"))]),
    ],
)  # fmt: skip
def test_decisions_approximate_shares_and_ranked_lists(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


# --------------------------------------------------------------------------- ninth held-out set
# One test per class of miss of the ninth held-out run; own sentences, hand-computed figures.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 500 + 188 + 312 = 1.000; "chưa được báo giảm 312 người" is no decrease.
        ("- Còn 1.000 người chưa xác thực¹.\n¹ Bao gồm: sai lệch ngày sinh 500 người; sai lệch họ tên 188 người; "
         "người đã chết nhưng chưa được báo giảm 312 người.",
         [(500, 1000, None), (188, 1000, None), (312, 1000, None)]),
        # 1.190 / 1.200 = 99,17 %; 1.200 - 1.190 = 10 in the same sentence, with no cue.
        ("Tiếp nhận 1.200 hồ sơ; đã giải quyết 1.190 hồ sơ, đạt 99,17%; 10 hồ sơ bị từ chối do thiếu thông tin.",
         [(1190, 1200, D("99.17")), (10, 1200, None)]),
        # ... but not across a full stop.
        ("Tiếp nhận 1.200 hồ sơ; đã giải quyết 1.190 hồ sơ, đạt 99,17%. Có 10 hồ sơ được chuyển sang tháng sau.",
         [(1190, 1200, D("99.17"))]),
        ("Toàn thành phố tiếp nhận hơn 1,5 triệu hồ sơ, trong đó 90,2% được nộp trực tuyến.",
         [(None, 1500000, D("90.2"))]),
        # 620 / 640 = 96,875 -> 96,88 %, past "trong tháng 10".
        ("Tại đặc khu, 620/640 hồ sơ tiếp nhận trong tháng 10 đã được nộp trực tuyến (96,88%).",
         [(620, 640, D("96.88"))]),
        ("Theo từng xóm, tỷ lệ kích hoạt cao nhất là xóm Đông (97%); thấp nhất là xóm Tây (70,5%) do nhiều lao "
         "động đi làm ăn xa.", [(None, None, D("97")), (None, None, D("70.5"))]),
    ],
)  # fmt: skip
def test_ninth_set_classes(text: str, expected: list[Tuple], registry: Registry) -> None:
    assert _tuples(text, registry) == expected
