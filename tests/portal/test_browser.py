"""A unit's month in the portal, in headless Chromium (Debian's ``chromium`` and ``chromedriver``,
never downloaded), against the portal served by uvicorn, the real warehouse and the real SMTP sink.

Sở Tư pháp An Giang (AG.STP) asks for a sign-in link, reads it from the .eml the SMTP sink wrote,
opens it and signs in; downloads its template and fills every row with 40 of 50, except
DVC_ONLINE_RECEIVED / DV12 which gets 120 of 100 (a numerator above its denominator); uploads it
and sees every filled row loaded.  It uploads a CSV for the month before with three rows: ``abc``
and ``-7`` as numerators (rows 2 and 3, quarantined) and 30 of 100 (row 4, loaded), and sees the
Vietnamese reasons.  The audit stage and the check catalogue run, as in the monthly load, and the
unit explains the violation they find.  Every page is checked for broken images and saved as a
screenshot under ``${D06_TEST_ARTIFACTS:-.warehouse/test-artifacts}/portal/``.
"""

from __future__ import annotations

import email
import os
import shutil
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import REPO, environment
from openpyxl import load_workbook

from ingest import pipeline
from ingest.reporting.smtp_sink import SmtpSink

from .conftest import REGISTRY, UNIT_A, make_app, previous_period, reporting_period, served

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = reporting_period()
EARLIER = previous_period(PERIOD)
ADDRESS = "stp@angiang.d06.example"
OVER = ("DVC_ONLINE_RECEIVED", "DV12")
BAD_CSV = (
    "ma_don_vi,ky_bao_cao,ma_chi_tieu,ma_dich_vu,tu_so,mau_so\n"
    f"{UNIT_A},{EARLIER},HT_SCANNED,NA,abc,100\n"
    f"{UNIT_A},{EARLIER},HT_ENTERED,NA,-7,100\n"
    f"{UNIT_A},{EARLIER},HT_SYNCED,NA,30,100\n"
)


def artifacts() -> Path:
    base = Path(os.environ.get("D06_TEST_ARTIFACTS") or REPO / ".warehouse" / "test-artifacts")
    folder = base / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(warehouse: str, smtp_sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The portal under uvicorn; its sign-in links point at it."""
    with served(make_app()) as base, environment(D06_PORTAL_URL=base):
        yield {"base": base, "dsn": warehouse, "outbox": Path(smtp_sink.outbox)}


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("Chromium is not installed: run `make browser` (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in [
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,1600",
        "--lang=vi",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # only the portal is reachable
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]:
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    # An explicit driver path: Selenium Manager never runs, nothing is downloaded.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def check_page(driver: Any, name: str) -> None:
    """No broken image on the page, and a screenshot of it kept as a test artefact."""
    wait_for(
        lambda: driver.execute_script("return Array.from(document.images).every(i => i.complete)"),
        f"{name}: the images to finish loading",
    )
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])"
    )
    assert images, f"{name}: the page shows no image (the logo)"
    broken = [src for src, ok in images if not ok]
    assert not broken, f"{name}: broken images {broken}"
    assert driver.find_element("tag name", "html").get_attribute("lang") == "vi"
    assert driver.save_screenshot(str(artifacts() / f"{name}.png"))


def wait_for(condition: Any, what: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def sign_in_link(outbox: Path) -> str:
    messages = sorted(outbox.glob("*.eml"))
    assert len(messages) == 1, "one e-mail: the sign-in link"
    message = email.message_from_bytes(messages[0].read_bytes(), policy=policy.default)
    assert message["To"] == ADDRESS
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    return next(line.strip() for line in text.splitlines() if "/dang-nhap/lien-ket?t=" in line)


def fill(template: Path, target: Path) -> int:
    """Every data row: 40 of 50; the DVC_ONLINE_RECEIVED / DV12 row: 120 of 100.  Returns the rows filled."""
    workbook = load_workbook(template)
    sheet = workbook["du_lieu"]
    filled = 0
    for row in range(2, sheet.max_row + 1):
        if not sheet.cell(row, 1).value:
            continue
        key = (sheet.cell(row, 3).value, sheet.cell(row, 4).value)
        numerator, denominator = (120, 100) if key == OVER else (40, 50)
        sheet.cell(row, 5, numerator)
        sheet.cell(row, 6, denominator)
        filled += 1
    workbook.save(target)
    return filled


def upload_file(driver: Any, base: str, path: Path, period: str) -> None:
    from selenium.webdriver.support.ui import Select

    driver.get(f"{base}/don-vi/{UNIT_A}")
    Select(driver.find_element("id", "ky-nop")).select_by_value(period)
    driver.find_element("id", "tep").send_keys(str(path))
    driver.find_element("id", "nop").click()
    wait_for(lambda: driver.find_elements("id", "ket-qua"), "the upload's result page")


def test_a_unit_signs_in_by_email_submits_and_explains(
    site: dict[str, Any], browser: Any, downloads: Path, tmp_path: Path
) -> None:
    base, driver = site["base"], browser
    driver.get(f"{base}/dang-nhap")
    check_page(driver, "01_dang_nhap")
    driver.find_element("id", "email").send_keys(ADDRESS)
    driver.find_element("id", "gui-lien-ket").click()
    wait_for(lambda: driver.find_elements("id", "da-gui"), "the page saying the link was sent")
    check_page(driver, "02_da_gui_lien_ket")

    link = sign_in_link(site["outbox"])
    assert link.startswith(f"{base}/dang-nhap/lien-ket?t=")
    driver.get(link)
    check_page(driver, "03_xac_nhan")
    driver.find_element("id", "xac-nhan").click()
    wait_for(lambda: driver.current_url == f"{base}/don-vi/{UNIT_A}", "the unit's page")
    assert REGISTRY.units[UNIT_A].name_vi in driver.find_element("tag name", "h1").text
    check_page(driver, "04_tong_quan")

    # the template of the month, downloaded by the browser, filled by hand
    driver.find_element("id", "tai-mau").click()
    template = downloads / f"{UNIT_A}_{PERIOD}.xlsx"
    wait_for(lambda: template.exists() and not list(downloads.glob("*.crdownload")), "the template download")
    filled_path = tmp_path / f"{UNIT_A}_{PERIOD}_da_dien.xlsx"
    filled = fill(template, filled_path)
    assert filled >= 2
    upload_file(driver, base, filled_path, PERIOD)
    assert driver.find_element("id", "trang-thai").get_attribute("data-status") == "loaded"
    assert driver.find_element("id", "so-dong-nap").text == str(filled)
    assert driver.find_element("id", "so-dong-cach-ly").text == "0"
    check_page(driver, "05_ket_qua_mau_bieu")

    # a bad file: the reasons in Vietnamese, with row, column and value
    bad = tmp_path / f"{UNIT_A}_{EARLIER}.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    upload_file(driver, base, bad, EARLIER)
    assert driver.find_element("id", "so-dong-nap").text == "1"
    assert driver.find_element("id", "so-dong-cach-ly").text == "2"
    rows = [
        [td.text for td in tr.find_elements("tag name", "td")]
        for tr in driver.find_elements("css selector", "#bang-cach-ly tbody tr")
    ]
    assert rows == [
        ["2", "Tử số", "abc", "Giá trị ở cột “Tử số” phải là số nguyên không âm (ví dụ 2076 hoặc 2.076)"],
        ["3", "Tử số", "-7", "Giá trị ở cột “Tử số” không được là số âm"],
    ]
    check_page(driver, "06_ket_qua_tep_loi")

    explain_the_violation_found_by_the_audit(site, driver)

    driver.find_element("id", "lien-ket-lich-su").click()
    wait_for(lambda: driver.find_elements("id", f"ky-{PERIOD}"), "the history page")
    assert driver.find_elements("id", f"ky-{EARLIER}")
    assert filled_path.name in driver.find_element("id", f"ky-{PERIOD}").text
    check_page(driver, "08_lich_su")


def explain_the_violation_found_by_the_audit(site: dict[str, Any], driver: Any) -> None:
    """The audit stage and the check catalogue, as the monthly load runs them; then the unit explains."""
    run_id = "portal_browser"
    dbt_paths = {
        "DBT_TARGET_PATH": os.environ.get("DBT_TARGET_PATH") or str(artifacts() / "dbt-target"),
        "DBT_LOG_PATH": os.environ.get("DBT_LOG_PATH") or str(artifacts() / "dbt-logs"),
    }
    with environment(**dbt_paths):
        pipeline.start_run(run_id, PERIOD)
        pipeline.stage_models(run_id)
        pipeline.audit(PERIOD, run_id=run_id)
    with psycopg.connect(site["dsn"]) as conn:
        found = conn.execute(
            """select violation_id from audit.violation where check_code = 'numerator_exceeds_denominator'
               and unit_code = %s and indicator_code = %s and service_code = %s and period = %s""",
            (UNIT_A, *OVER, PERIOD),
        ).fetchall()
    assert len(found) == 1, "the audit finds the 120 of 100"
    violation_id = found[0][0]

    driver.get(f"{site['base']}/don-vi/{UNIT_A}/vi-pham")
    article = driver.find_element("id", f"vi-pham-{violation_id}")
    assert "numerator = 120" in article.text and "denominator = 100" in article.text
    check_page(driver, "07_vi_pham")
    article.find_element("tag name", "textarea").send_keys("Số liệu tiếp nhận gồm cả hồ sơ tháng trước chuyển sang")
    article.find_element("tag name", "button").click()
    wait_for(lambda: driver.find_elements("id", "da-giai-trinh"), "the explanation recorded")
    status = driver.find_element("css selector", f"#vi-pham-{violation_id} .trang-thai").text
    assert status == "đã giải trình"
    check_page(driver, "07b_da_giai_trinh")
    with psycopg.connect(site["dsn"]) as conn:
        row = conn.execute(
            "select status, status_by, status_comment from audit.violation where violation_id = %s", (violation_id,)
        ).fetchone()
    assert row == ("explained", f"cong-nop:{UNIT_A}", "Số liệu tiếp nhận gồm cả hồ sơ tháng trước chuyển sang")
