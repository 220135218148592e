"""What real reports contain: number formats, glued footnote marks, markdown, typos, slashes that
are not ratios, totals and parts in separate clauses, statements broken across lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest.narrative.extract import Statement, extract_statements
from ingest.registry import Registry


def _run(text: str | list[str], registry: Registry) -> list[Statement]:
    lines = text.splitlines() if isinstance(text, str) else text
    return list(extract_statements(lines, registry=registry))


def _tuples(text: str | list[str], registry: Registry) -> list[tuple[int | None, int | None, Decimal | None]]:
    return [(s.numerator, s.denominator, s.reported_rate_pct) for s in _run(text, registry)]


D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "." groups thousands, "," is the decimal mark.
        ("Đã cấp 1.584.959 tài khoản/1.030.000 tài khoản chỉ tiêu, đạt 153,88%.", [(1584959, 1030000, D("153.88"))]),
        # No separators at all.
        ("Khai sinh: 2076 hồ sơ trực tuyến/2076 hồ sơ tiếp nhận, tỷ lệ 100%.", [(2076, 2076, D("100"))]),
        # Zero-padded values.
        ("Điện lực tiếp nhận 00/223 hồ sơ trực tuyến.", [(0, 223, None)]),
        ("Đã hoàn thành 08/25 xã.", [(8, 25, None)]),
        # Numbers glued to words and to footnote marks.
        ("Đã cấp 1.584.959tài khoản/1.030.000 tài khoản chỉ tiêu, đạt 153,88%.", [(1584959, 1030000, D("153.88"))]),
        ("Kết quả 25 dịch vụ công thiết yếu3: đã triển khai 25/25 dịch vụ, đạt 100%¹.", [(25, 25, D("100"))]),
        ("tổng số còn phải thực hiện: 7047⁴; Tổng số dữ liệu: 11015", []),
        # Markdown emphasis around numbers.
        (
            "(tổng số TTHC 222 hồ sơ: chi tiết cấp tỉnh là **157** hồ sơ, cấp xã là **65** hồ sơ)",
            [(157, 222, None), (65, 222, None)],
        ),
        ("Đã triển khai **03**/**05** mô hình điểm.", [(3, 5, None)]),
        # tỷ lệ, tỉ lệ and typos.
        ("Hồ sơ được số hóa thành phần hồ sơ đạt tỉ lệ 97,11%.", [(None, None, D("97.11"))]),
        ("Tra cứu thành công 216.112/218.430 lượt, đạt tỉ lê 98,94%.", [(216112, 218430, D("98.94"))]),
        ("Tra cứu thành công 216.112/218.430 lượt, tý lệ 98,94 %.", [(216112, 218430, D("98.94"))]),
        # "X trên tổng số Y", "X trong tổng số Y", "X so với chỉ tiêu Y".
        ("Đã trả 8.398 thẻ căn cước trên tổng số 8.510 thẻ đã nhận về, đạt 98,68%.", [(8398, 8510, D("98.68"))]),
        ("Có 45 xã trong tổng số 52 xã đã triển khai.", [(45, 52, None)]),
        ("Đã cấp 1.200 tài khoản so với chỉ tiêu 1.000 tài khoản, đạt 120%.", [(1200, 1000, D("120"))]),
        # A rate in brackets before its ratio.
        ("Tỷ lệ hồ sơ trực tuyến đạt 99% (99/100 hồ sơ).", [(99, 100, D("99"))]),
    ],
)
def test_formats(text: str, expected: list[tuple[int | None, int | None, Decimal | None]], registry: Registry) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Thực hiện Công văn số 752/CAT-QLHC ngày 23/8/2025 của Công an tỉnh.",
        "Báo cáo kết quả thực hiện nhiệm vụ chuyển đổi số tháng 02/2026.",
        "Quyết định số 06/QĐ-TTg ngày 06/01/2022; Nghị định số 60/2021/NĐ-CP.",
        "Triển khai Đề án 06/CP trên địa bàn tỉnh.",
        "Cấp điện mới từ lưới điện hạ áp (220/380V).",
        "Hỗ trợ người dân 24/7 qua tổng đài.",
        "Kế hoạch số 02-KH/BCĐTW ngày 19/6/2025; Chương trình số 08-CTr/TU.",
        "Thời gian thực hiện: Trong quí III/2025, hoàn thành trong tháng 12/2025.",
        "Sở ban hành văn bản cho ý kiến đối với 12 Nghị quyết¹; 14 Quyết định².",
        "Giai đoạn 2026 - 2030, định hướng đến năm 2035.",
        "Số thuê bao tăng 5% so với tháng trước.",
    ],
)
def test_slashes_and_numbers_that_are_not_statements(text: str, registry: Registry) -> None:
    assert _run(text, registry) == []


def test_total_and_parts_in_separate_clauses(registry: Registry) -> None:
    text = (
        "Tổng số dữ liệu cần số hóa, làm sạch: 11015; đã làm sạch dữ liệu và số hóa: 3968; dữ liệu đã "
        "đồng bộ, chia sẻ với Cơ sở dữ liệu quốc gia về dân cư: 3839; tổng số còn phải thực hiện: 7047."
    )
    got = _run(text, registry)
    assert [(s.numerator, s.denominator, s.relation) for s in got] == [
        (3968, 11015, "part"),
        (3839, 11015, "part"),
        (7047, 11015, "remainder"),
    ]
    assert [s.indicator_code for s in got] == ["HN_CLEANED", "HN_SYNCED", None]
    assert len({s.group_id for s in got}) == 1


def test_whole_then_part_in_the_next_sentence(registry: Registry) -> None:
    got = _run("1. Tổng số hồ sơ tiếp nhận: 88 hồ sơ. Số hồ sơ có số hóa thành phần hồ sơ: 88 hồ sơ.", registry)
    assert [(s.numerator, s.denominator, s.indicator_code) for s in got] == [(88, 88, "TTHC_DIGITISED_DOSSIER")]
    # A sibling count after a full stop is not a part of the previous whole.
    got = _run("3. Tổng số hồ sơ đang giải quyết: 23 hồ sơ. Dừng xử lý/hủy: 03 hồ sơ.", registry)
    assert got == []


def test_ratio_under_a_stated_whole_is_one_statement(registry: Registry) -> None:
    text = (
        "3.1. Đăng ký khai sinh: Tổng số tiếp nhận: 2076 hồ sơ; trong đó: "
        "2076 hồ sơ trực tuyến/2076 hồ sơ tiếp nhận, tỷ lệ 100% hồ sơ trực tuyến."
    )
    (st,) = _run(text, registry)
    assert (st.numerator, st.denominator, st.reported_rate_pct) == (2076, 2076, D("100"))
    assert (st.indicator_code, st.service_code, st.group_total) == ("DVC_ONLINE_RECEIVED", "DV12", 2076)


def test_part_with_its_rate_and_a_rate_that_names_the_denominator(registry: Registry) -> None:
    got = _run("Tiếp nhận 1.250 hồ sơ, trong đó trực tuyến 1.100 hồ sơ, đạt 88%.", registry)
    assert [(s.numerator, s.denominator, s.reported_rate_pct) for s in got] == [(1100, 1250, D("88"))]
    got = _run("Đã cấp 1.584.959 tài khoản; đã kích hoạt 1.203.442 tài khoản, đạt tỉ lệ 75,93%.", registry)
    assert [(s.numerator, s.denominator, s.reported_rate_pct) for s in got] == [(1203442, 1584959, D("75.93"))]
    got = _run("Đã kích hoạt 1.203.442 tài khoản, đạt 75,93%.", registry)
    assert [(s.numerator, s.denominator, s.relation) for s in got] == [(1203442, None, "count_rate")]


def test_a_rate_of_another_measure_does_not_attach_to_a_count(registry: Registry) -> None:
    got = _run("Tiếp nhận 120 hồ sơ, tỷ lệ hồ sơ trực tuyến đạt 95%.", registry)
    assert [(s.numerator, s.reported_rate_pct, s.relation) for s in got] == [(None, D("95"), "rate")]
    assert got[0].subject == "hồ sơ trực tuyến"


def test_hard_wrapped_statement_with_blank_lines(registry: Registry) -> None:
    lines = [
        "Phấn đấu đến hết năm 2025, 80% thủ tục hành chính áp dụng dịch vụ công trực ",
        "",
        "tuyến toàn trình, 40% dân số trưởng thành sử dụng dịch vụ công trực tuyến. Hết ",
        " tháng 6 năm 2025, 100% hồ sơ giải quyết thủ tục hành chính được gắn định ",
        "",
        "danh cá nhân.",
    ]
    got = _run(lines, registry)
    assert [(s.line_no, s.reported_rate_pct, s.denominator_kind) for s in got] == [
        (1, D("80"), "target"),
        (3, D("40"), "target"),
        (4, D("100"), "target"),
    ]
    assert got[0].indicator_code == "TTHC_FULL_ONLINE"
    assert got[0].subject.endswith("toàn trình")


def test_wrapped_number_and_rate_on_the_next_lines(registry: Registry) -> None:
    lines = [
        "Đến ngày 30/4/2026, đã đối sánh thông tin người nộp thuế là cá nhân với Cơ sở dữ liệu",
        "quốc gia về dân cư được 312.450/318.900 người nộp thuế, đạt",
        "97,98%.",
    ]
    (st,) = _run(lines, registry)
    assert (st.line_no, st.numerator, st.denominator, st.reported_rate_pct) == (2, 312450, 318900, D("97.98"))
    assert (st.indicator_code, st.scope) == ("TAX_MATCHED", "cumulative")


def test_statement_interrupted_by_footnotes(registry: Registry) -> None:
    lines = [
        "- Tiếp tục rà soát, cập nhật Cơ sở dữ liệu hộ tịch điện tử toàn quốc để khai thác sử dụng",
        "",
        "¹ Số liệu tổng hợp từ UBND cấp xã",
        "",
        "² Công văn số 1006/STP-HC&BTTP ngày 16/4/2025.",
        "",
        "5.625.798/5.625.798 dữ liệu, đạt 100%.",
    ]
    (st,) = _run(lines, registry)
    assert (st.line_no, st.numerator, st.reported_rate_pct, st.indicator_code) == (7, 5625798, D("100"), "HT_SYNCED")


def test_bare_rate_tied_to_a_measure(registry: Registry) -> None:
    (st,) = _run("Trong tháng, nộp hồ sơ trực tuyến đạt tỷ lệ 47,41%.", registry)
    assert (st.numerator, st.denominator, st.reported_rate_pct) == (None, None, D("47.41"))
    assert (st.denominator_kind, st.scope, st.indicator_code) == ("other", "month", "DVC_ONLINE_RECEIVED")
    assert st.subject == "nộp hồ sơ trực tuyến"


def test_rates_in_a_plan_section_are_targets(registry: Registry) -> None:
    lines = [
        "I. KẾT QUẢ THỰC HIỆN",
        "Tỷ lệ tra cứu thành công đạt 98%.",
        "II. PHƯƠNG HƯỚNG, NHIỆM VỤ THÁNG 5",
        "Tỷ lệ tra cứu thành công đạt 99%.",
    ]
    assert [s.denominator_kind for s in _run(lines, registry)] == ["other", "target"]


def test_decimal_and_plain_counts_are_not_confused(registry: Registry) -> None:
    # "1,5 triệu" is not a count; "2.076" is two thousand and seventy-six.
    assert _tuples("Khoảng 1,5 triệu lượt truy cập; tiếp nhận 2.076/2.100 hồ sơ.", registry) == [(2076, 2100, None)]


def test_nfc_and_decomposed_input_give_the_same_result(registry: Registry) -> None:
    import unicodedata

    text = "Đăng ký khai tử: 1363 hồ sơ trực tuyến/1365 hồ sơ tiếp nhận, tỷ lệ 100%."
    nfd = unicodedata.normalize("NFD", text)
    assert _tuples(nfd, registry) == _tuples(text, registry)
    assert _run(nfd, registry)[0].service_code == "DV13"


def test_parts_in_bullet_lines_under_trong_do(registry: Registry) -> None:
    lines = [
        "Tổng số hồ sơ cấp phiếu lý lịch tư pháp tiếp nhận: 1.250 hồ sơ, trong đó:",
        "+ Tiếp nhận trực tuyến: 1.100 hồ sơ (đạt 88%);",
        "+ Tiếp nhận trực tiếp: 150 hồ sơ.",
        "Ngoài ra còn 12 hồ sơ chuyển kỳ sau.",
    ]
    got = _run(lines, registry)
    assert [(s.line_no, s.numerator, s.denominator, s.reported_rate_pct) for s in got] == [
        (2, 1100, 1250, D("88")),
        (3, 150, 1250, None),
    ]
    assert got[0].group_id == got[1].group_id and got[0].group_total == 1250
    assert (got[0].indicator_code, got[0].service_code) == ("DVC_ONLINE_RECEIVED", "DV15")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "Trong đó" opening the next sentence, with unit-less parts.
        (
            "Tổng số hồ sơ: 1.250. Trong đó: trực tuyến 1.100 (88%), trực tiếp 150.",
            [(1100, 1250, D("88")), (150, 1250, None)],
        ),
        # A whole whose parts are in brackets.
        ("Tiếp nhận 1.234 hồ sơ (trực tuyến: 1.100 hồ sơ, đạt 89,14%).", [(1100, 1234, D("89.14"))]),
        # A table row turned into text: the rate names the denominator.
        ("Đăng ký khai sinh | 120 | 118 | 98,3%", [(118, 120, D("98.3"))]),
        # Figures with thousands separators need no unit; unknown units are fine then.
        ("Đã số hóa 1.234.567/1.300.000 trang tài liệu.", [(1234567, 1300000, None)]),
        ("Issued 1,234,567/1,300,000 accounts.", [(1234567, 1300000, None)]),
        # A long unit phrase before the slash.
        ("Có 3.450 lượt khám chữa bệnh bằng căn cước/3.500 lượt khám, đạt 98,57%.", [(3450, 3500, D("98.57"))]),
        # "mức 2" inside the gap between a ratio and its rate.
        (
            "Có 1.234/1.250 cán bộ, công chức có tài khoản định danh điện tử mức 2, đạt 98,72%.",
            [(1234, 1250, D("98.72"))],
        ),
        # A count with a rate against the plan.
        ("Tiếp nhận 12.345 hồ sơ cấp căn cước (đạt 102% kế hoạch).", [(12345, None, D("102"))]),
        # A rate range keeps its upper bound as a bare rate; the lower bound is not a count.
        ("Tỷ lệ hài lòng từ 70-80%.", [(None, None, D("80"))]),
    ],
)
def test_more_shapes(
    text: str, expected: list[tuple[int | None, int | None, Decimal | None]], registry: Registry
) -> None:
    assert _tuples(text, registry) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Giảm 50% lệ phí khi nộp hồ sơ trực tuyến; miễn 100% lệ phí cấp bản sao.",
        "Hoàn thành bản đồ địa chính tỷ lệ 1/500 và 1/2000.",
        "Liên hệ 0296.3852.123 hoặc 1900.1234 để được hỗ trợ.",
        "Tổng đài hoạt động 24/24 giờ, 7/7 ngày.",
        "Triển khai giai đoạn 2024 - 2025, định hướng đến 2030.",
        "Trong tháng tiếp nhận 3.450 hồ sơ, tăng 12% so với tháng trước.",
    ],
)
def test_more_things_that_are_not_statements(text: str, registry: Registry) -> None:
    assert _run(text, registry) == []


def test_quota_named_after_the_rate(registry: Registry) -> None:
    (st,) = _run("Đã ban hành 45/45 văn bản, đạt 100% kế hoạch.", registry)
    assert st.denominator_kind == "target"
    (st,) = _run("Thu nhận 8.742 hồ sơ/9.000 hồ sơ theo kế hoạch tháng, đạt 97,13%.", registry)
    assert (st.denominator_kind, st.reported_rate_pct) == ("target", D("97.13"))
    (st,) = _run("Sổ sức khỏe điện tử: đã tạo lập 1.254.300 sổ trên tổng số 1.310.000 dân số, đạt 95,75%.", registry)
    assert st.denominator_kind == "other"  # books counted against people
