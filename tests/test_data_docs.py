"""Our Data Docs open where officials are: offline, in Chromium, in Vietnamese.

A real quality gate runs on a small month loaded from hand-written files (one numerator above
its denominator, one stated rate that does not match its figures).  Its page is opened with
file:// in headless Chromium whose network is cut (host resolution fails, the proxy is a closed
port, background services are off); the DevTools performance log lists every request the page
made, and the test asserts they were all local.  The screenshot is kept in pytest's tmp dir.
GX's own Data Docs, opened in the same browser, serve as the control: the log does see their
CDN requests, and their tables stay unstyled.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest import pipeline
from ingest.config import inbox_dir
from ingest.quality.data_docs import (
    checks_from_validation_results,
    index_path,
    render_run_page,
    run_page_path,
)
from ingest.registry import load_registry

PERIOD = "2026-02"
RUN_ID = "kiem_tra_offline"
HEADER = "unit_code,period,indicator_code,service_code,numerator,denominator,reported_rate\n"
TITLE = f"Kết quả kiểm tra chất lượng dữ liệu Đề án 06 – kỳ {PERIOD} – lần chạy {RUN_ID}"
TRANSPARENT = "rgba(0, 0, 0, 0)"


# -- the renderer on hand-written GX results (no database, no browser) --------------------------


def _suite_result(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A suite validation result in the JSON shape GX stores, with one failing column-pair check."""
    return {
        "success": False,
        "suite_name": "d06__total_kind_values",
        "results": [
            {
                "success": False,
                "expectation_config": {
                    "type": "expect_column_pair_values_a_to_be_greater_than_b",
                    "kwargs": {"column_A": "denominator", "column_B": "numerator"},
                    "meta": {"check_name": "numerator_not_above_denominator", "description_vi": "Tử số ≤ mẫu số"},
                },
                "result": {
                    "element_count": 40,
                    "unexpected_count": 3,
                    "unexpected_percent": 7.5,
                    "partial_unexpected_list": [[856, 849]],
                    "unexpected_index_list": rows,
                },
            },
            {
                "success": True,
                "expectation_config": {"type": "expect_table_row_count_to_be_between", "meta": {}},
                "result": {"observed_value": 40},
            },
        ],
    }


def test_a_page_shows_units_and_indicators_only_escaped_and_says_what_it_did_not_list() -> None:
    registry = load_registry()
    rows = [
        # A row as GX returns it: the keys, and the value of the column it checked.
        {"unit_code": "AG.CAT", "indicator_code": "HT_SYNCED", "service_code": "NA", "numerator": 856},
        {"unit_code": "<script>alert(1)</script>", "indicator_code": None, "service_code": None, "ho_ten": "X"},
    ]
    checks = checks_from_validation_results(
        [_suite_result(rows)], registry=registry, suite_labels={"d06__total_kind_values": "Nhóm A"}
    )
    assert [c.check_name for c in checks] == ["numerator_not_above_denominator", "expect_table_row_count_to_be_between"]
    failing = checks[0]
    assert (failing.evaluated, failing.unexpected, failing.rows_not_listed) == (40, 3, 1)
    cat = next(r for r in failing.failing_rows if r.unit_code == "AG.CAT")
    assert cat.unit_name == registry.units["AG.CAT"].name_vi
    assert cat.indicator_name == registry.indicators["HT_SYNCED"].name_vi
    assert checks[1].evaluated == 40 and checks[1].failing_rows == []

    html = render_run_page(PERIOD, "r1", checks, validated_at=dt.datetime(2026, 3, 11, 2, 0, tzinfo=dt.UTC))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "856" not in html and "ho_ten" not in html, "values and other columns never reach the page"
    assert "liệt kê 2 dòng đầu tiên, còn 1 dòng khác" in html
    assert "09:00 ngày 11/03/2026" in html, "times are shown in Vietnam's time zone"
    assert not re.search(r"https?://", html)


# -- a real gate, opened in headless Chromium with no network --------------------------------------


@pytest.fixture(scope="module")
def gate(warehouse_dsn: str) -> dict[str, Any]:
    folder = inbox_dir() / PERIOD
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "AG.STP": f"AG.STP,{PERIOD},HT_SYNCED,NA,700,1000,70%\nAG.STP,{PERIOD},HT_SCANNED,NA,90,100,70%\n",
        "AG.CAT": f"AG.CAT,{PERIOD},HT_SYNCED,NA,1200,1000,\n",
        "AG.BHXH": f"AG.BHXH,{PERIOD},HT_SYNCED,NA,500,1000,50%\n",
    }
    for unit, rows in files.items():
        (folder / f"{unit}.csv").write_text(HEADER + rows, encoding="utf-8")
    pipeline.ingest_period(PERIOD, run_id=RUN_ID, today=dt.date(2026, 3, 5))
    pipeline.stage_models(RUN_ID)
    pipeline.audit(PERIOD, run_id=RUN_ID)
    pipeline.build_publication(RUN_ID)
    gate = pipeline.quality_gate(PERIOD, run_id=RUN_ID)
    pipeline.publish(RUN_ID)
    report = Path(pipeline.render_report(PERIOD, run_id=RUN_ID))
    return {**gate, "report": report}


def _browser_paths() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("Chromium is not installed: run `make browser` (apt-get install chromium chromium-driver)")
    return chromium, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in [
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,1800",
        "--lang=vi",
        # No network: names do not resolve, the proxy is a closed port, nothing runs in the background.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
    ]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    # An explicit driver path: Selenium Manager never runs, nothing is downloaded.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _requests(driver: Any) -> list[str]:
    """The URLs the browser asked for since the last call (DevTools performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _open(driver: Any, path: Path) -> list[str]:
    driver.get_log("performance")  # forget what came before
    driver.get(path.as_uri())
    return _requests(driver)


def test_the_gate_returns_our_page_and_the_report_links_it(gate: dict[str, Any]) -> None:
    page = run_page_path(PERIOD, RUN_ID)
    assert gate["data_docs"] == str(page) and page.is_file()
    assert index_path().is_file()
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html), "the page names no other host"
    assert "Content-Security-Policy" in html
    report = gate["report"].read_text(encoding="utf-8")
    assert str(page) in report
    summary = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    # AG.CAT's 1200/1000 is held out of the marts the checkpoint validates; AG.STP's stated rate
    # (70 % for 90/100) is a warning: published, and failed on the page.
    assert "stated_rate_matches_figures" in summary["failed_checks"]
    assert "numerator_not_above_denominator" not in summary["failed_checks"]


def test_the_page_renders_offline_in_chromium(
    gate: dict[str, Any], browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from selenium.webdriver.common.by import By

    registry = load_registry()
    page = Path(gate["data_docs"])
    requests = _open(browser, page)
    shot = tmp_path_factory.mktemp("screenshots") / "ket_qua_kiem_tra.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    assert requests == [page.as_uri()], f"the page asked for more than itself: {requests}"
    assert browser.title == TITLE
    assert browser.execute_script("return document.characterSet") == "UTF-8"
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == "Kết quả kiểm tra chất lượng dữ liệu Đề án 06 – kỳ báo cáo tháng 02/2026"

    rows = browser.find_elements(By.CSS_SELECTOR, "#bang-kiem-tra tbody tr")
    assert len(rows) == gate["passed"] + gate["failed"] > 0
    header = browser.find_element(By.CSS_SELECTOR, "#bang-kiem-tra th")
    assert header.value_of_css_property("background-color") not in (TRANSPARENT, "transparent")
    assert header.value_of_css_property("background-color") == "rgba(226, 232, 240, 1)"
    assert browser.find_element(By.TAG_NAME, "header").value_of_css_property("background-color") != TRANSPARENT

    failing = browser.find_element(By.CSS_SELECTOR, "tr[data-check='stated_rate_matches_figures']")
    assert "Không đạt" in failing.text
    assert failing.find_element(By.CSS_SELECTOR, "td.fail").value_of_css_property("color") == "rgba(197, 48, 48, 1)"
    section = browser.find_element(By.ID, "kt-stated_rate_matches_figures")
    cells = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in section.find_elements(By.CSS_SELECTOR, "table.dong-khong-dat tbody tr")
    ]
    assert cells == [
        ["AG.STP", registry.units["AG.STP"].name_vi, "HT_SCANNED", registry.indicators["HT_SCANNED"].name_vi, ""]
    ]
    late = browser.find_element(By.ID, "kt-units_report_on_time")
    assert [th.text for th in late.find_elements(By.TAG_NAME, "th")] == ["Mã đơn vị", "Tên đơn vị"], (
        "whole submissions are listed by unit only"
    )
    assert "Tử số không vượt quá mẫu số" in browser.find_element(By.TAG_NAME, "body").text


def test_index_and_report_lead_to_the_page_offline(gate: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    requests = _open(browser, index_path())
    assert requests == [index_path().as_uri()]
    assert browser.title == "Kết quả kiểm tra chất lượng dữ liệu Đề án 06 – các lần kiểm tra"
    browser.find_element(By.LINK_TEXT, RUN_ID).click()
    assert browser.title == TITLE

    report = gate["report"]
    requests = _open(browser, report)
    # Local files, and the report's charts embedded as data: URIs: nothing reaches the network.
    assert all(u.startswith(("file://", "data:image/png;base64,")) for u in requests), requests
    assert any(u.startswith("data:image/png") for u in requests), "the report's charts are not shown"
    browser.find_element(By.LINK_TEXT, "trang kết quả kiểm tra").click()
    assert browser.title == TITLE
    assert browser.current_url == Path(gate["data_docs"]).as_uri()


def test_control_gx_own_data_docs_reach_for_cdns_and_the_log_sees_it(gate: dict[str, Any], browser: Any) -> None:
    """Why we render our own page, and proof that the request check above would catch a CDN link."""
    from selenium.webdriver.common.by import By

    gx_index = next((index_path().parents[1]).glob("**/data_docs/local_site/index.html"), None)
    if gx_index is None:
        pytest.skip("GX built no local Data Docs site")
    requests = _open(browser, gx_index)
    external = [u for u in requests if u.startswith(("http://", "https://"))]
    assert external, "the performance log sees the CDN requests of GX's own Data Docs"
    blocked_table = browser.find_elements(By.CSS_SELECTOR, "table th")
    if blocked_table:  # without bootstrap's CSS, headers keep the browser's default background
        assert blocked_table[0].value_of_css_property("background-color") == TRANSPARENT
