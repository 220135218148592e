"""Unit role, province and reported month, read from the report itself."""

from __future__ import annotations

import pytest

from ingest.narrative.header import read_header
from ingest.registry import Registry

from .conftest import sample_lines


@pytest.mark.parametrize(
    ("name", "role", "province", "period"),
    [
        ("000_912342d7bb84c32c", "STP", "An Giang", "2026-03"),
        ("002_67a72e19db5d95ba", "STP", "An Giang", "2026-02"),  # "tháng 02 và phương hướng ... tháng 03"
        ("003_91e0c137462c6d8a", "province", "An Giang", None),  # a plan for "6 tháng cuối năm 2025"
        ("synthetic_cat_dong_thap_2026_04", "CAT", "Đồng Tháp", "2026-04"),
        ("synthetic_commune_vinh_long_2026_05", "commune", "Vĩnh Long", "2026-05"),
        ("synthetic_syt_ca_mau_2026_03", "SYT", "Cà Mau", "2026-03"),
    ],
)
def test_samples(name: str, role: str, province: str, period: str | None, registry: Registry) -> None:
    head = read_header(sample_lines(name), registry)
    assert (head.unit_role, head.province_name, head.period) == (role, province, period)


def test_title_line_and_kind(registry: Registry) -> None:
    head = read_header(sample_lines("000_912342d7bb84c32c"), registry)
    assert head.title_line == "Về kết quả triển khai, thực hiện Đề án 06 tháng 3 năm 2026"
    assert head.document_kind == "BÁO CÁO"
    assert read_header(sample_lines("003_91e0c137462c6d8a"), registry).document_kind == "KẾ HOẠCH"


@pytest.mark.parametrize(
    ("lines", "role"),
    [
        (["SỞ TƯ PHÁP", "Số: 12/BC-STP", "BÁO CÁO", "Kết quả tháng 3 năm 2026"], "STP"),
        (["UBND TỈNH HẬU GIANG", "SỞ Y TẾ", "BÁO CÁO", "Kết quả tháng 3/2026"], "SYT"),
        (["Số: 45/BC-SGDĐT", "BÁO CÁO", "Kết quả tháng 3/2026"], "SGDDT"),
        (["ỦY BAN NHÂN DÂN", "PHƯỜNG AN BÌNH", "BÁO CÁO", "Kết quả tháng 3/2026"], "commune"),
        (["BÁO CÁO", "Kết quả tháng 3/2026", "Bảo hiểm xã hội tỉnh Lào Cai báo cáo như sau:"], "BHXH"),
        # A unit that only asked for the report is not the sender.
        (
            [
                "BÁO CÁO",
                "Kết quả tháng 3/2026",
                "Thực hiện Công văn của Sở Khoa học và Công nghệ tỉnh về việc báo cáo, Sở Nội vụ báo cáo như sau:",
            ],
            "SNV",
        ),
    ],
)
def test_sender(lines: list[str], role: str, registry: Registry) -> None:
    assert read_header(lines, registry).unit_role == role


@pytest.mark.parametrize(
    ("title", "period"),
    [
        ("Kết quả thực hiện Đề án 06 tháng 12 năm 2025", "2025-12"),
        ("Kết quả tháng 02/2026", "2026-02"),
        ("Kết quả thực hiện quý I năm 2026", None),
        ("Kết quả 6 tháng đầu năm 2026", None),
    ],
)
def test_period_from_title(title: str, period: str | None, registry: Registry) -> None:
    assert read_header(["BÁO CÁO", title, "Thực hiện Kế hoạch số 1/KH-UBND."], registry).period == period


def test_province_from_the_date_line_or_tinh_x(registry: Registry) -> None:
    assert read_header(["Hà Tĩnh, ngày 5 tháng 4 năm 2026", "BÁO CÁO"], registry).province_name == "Hà Tĩnh"
    lines = ["Long Xuyên, ngày 5 tháng 4 năm 2026", "BÁO CÁO", "Kết quả", "Công an tỉnh Kiên Giang báo cáo."]
    assert read_header(lines, registry).province_name == "Kiên Giang"


def test_title_on_the_kind_line(registry: Registry) -> None:
    lines = ["SỞ Y TẾ", "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06 THÁNG 3 NĂM 2026", "Thực hiện Kế hoạch số 1/KH-UBND."]
    head = read_header(lines, registry)
    assert (head.document_kind, head.period, head.unit_role) == ("BÁO CÁO", "2026-03", "SYT")
