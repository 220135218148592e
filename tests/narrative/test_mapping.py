"""Mapping to the registry: indicators from keywords and units, services from services.csv."""

from __future__ import annotations

import pytest

from ingest.narrative.mapping import ASSIGN_THRESHOLD, map_statement, match_service
from ingest.registry import Registry


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("Đăng ký khai sinh", "DV12"),
        ("Đăng ký khai tử", "DV13"),
        ("Kết hôn", "DV14"),
        ("Cấp phiếu lý lịch tư pháp", "DV15"),
        ("Liên thông đăng ký khai sinh - đăng ký thường trú - cấp Thẻ bảo hiểm y tế cho trẻ em dưới 06 tuổi", "DV16"),
        ("Liên thông đăng ký khai tử - xóa đăng ký thường trú - trợ cấp mai táng phí", "DV17"),
        ("Cấp điện mới từ lưới điện hạ áp (220/380V)", "DV22"),
        ("Đăng ký thường trú", "DV03"),
        ("Giải quyết hưởng trợ cấp thất nghiệp", "DV25"),
    ],
)
def test_services_by_name(text: str, service: str, registry: Registry) -> None:
    assert match_service([text], registry)[0] == service


def test_no_service_for_unrelated_text(registry: Registry) -> None:
    assert match_service(["Tổng số tiếp nhận", "Kết quả thực hiện mô hình điểm"], registry) == (None, 0.0)


@pytest.mark.parametrize(
    ("label", "unit", "indicator"),
    [
        ("hồ sơ trực tuyến", "hồ sơ", "DVC_ONLINE_RECEIVED"),
        ("hồ sơ tiếp nhận trực tuyến", "hồ sơ", "DVC_ONLINE_RECEIVED"),
        ("đã làm sạch dữ liệu và số hóa", None, "HN_CLEANED"),
        ("Số hồ sơ có số hóa kết quả", "hồ sơ", "TTHC_DIGITISED_RESULT"),
        ("tài khoản định danh điện tử đã cấp", "tài khoản", "VNEID_REGISTERED"),
        ("lượt tra cứu thành công", "lượt", "BHYT_CHIP_LOOKUP"),
        ("học sinh trung học cơ sở đã xác thực", "học sinh", "EDU_VERIFIED_LOWER_SECONDARY"),
        ("đối tượng chi trả không dùng tiền mặt", "đối tượng", "SOCIAL_NONCASH"),
    ],
)
def test_indicators(label: str, unit: str | None, indicator: str, registry: Registry) -> None:
    m = map_statement(label=label, sentence="", surroundings="", count_unit=unit, registry=registry)
    assert m.indicator_code == indicator
    assert m.confidence >= ASSIGN_THRESHOLD


def test_a_different_unit_vetoes_a_keyword(registry: Registry) -> None:
    # "dịch vụ công trực tuyến" is a DVC keyword, but 40% of the adult population is not dossiers.
    m = map_statement(
        label="dân số trưởng thành sử dụng dịch vụ công trực tuyến",
        sentence="",
        surroundings="",
        count_unit="người",
        registry=registry,
    )
    assert m.indicator_code is None


def test_surroundings_alone_never_decide(registry: Registry) -> None:
    m = map_statement(
        label="hồ sơ giải quyết thủ tục hành chính được gắn định danh",
        sentence="",
        surroundings="nâng cao chất lượng dịch vụ công trực tuyến",
        count_unit="hồ sơ",
        registry=registry,
    )
    assert m.indicator_code is None


def test_one_word_keyword_needs_an_agreeing_unit(registry: Registry) -> None:
    def code(label: str, unit: str | None) -> str | None:
        return map_statement(
            label=label, sentence="", surroundings="", count_unit=unit, registry=registry
        ).indicator_code

    assert code("sử dụng VNeID trong khám chữa bệnh", None) is None
    assert code("tài khoản VNeID", "tài khoản") == "VNEID_REGISTERED"


def test_service_indicator_without_named_service_keeps_indicator(registry: Registry) -> None:
    m = map_statement(label="hồ sơ trực tuyến", sentence="", surroundings="", count_unit="hồ sơ", registry=registry)
    assert (m.indicator_code, m.service_code) == ("DVC_ONLINE_RECEIVED", None)
    named = map_statement(
        label="hồ sơ trực tuyến",
        sentence="",
        surroundings="",
        count_unit="hồ sơ",
        service_texts=["Đăng ký khai sinh"],
        registry=registry,
    )
    assert named.service_code == "DV12" and named.confidence > m.confidence


def test_non_service_indicator_gets_na(registry: Registry) -> None:
    m = map_statement(
        label="Số hồ sơ có số hóa thành phần hồ sơ", sentence="", surroundings="", count_unit="hồ sơ", registry=registry
    )
    assert (m.indicator_code, m.service_code) == ("TTHC_DIGITISED_DOSSIER", "NA")
