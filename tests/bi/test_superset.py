"""The dashboards as an official uses them (issue 14): a real Superset over real marts.

Two demo months of one province are loaded and published (``d06 run``); Superset is set up from
its own virtual environment (``make bi`` installs it) with its metadata in a throw-away database,
the bundle is imported twice, and the server runs on a free port until the module ends.  Every
chart's data from the REST API is compared with a query of the marts written here; a unit login
(``d06 grant reader --unit``) sees only its unit; each dashboard opens in headless Chromium and
every chart renders.  Screenshots: ``${D06_TEST_ARTIFACTS:-.warehouse/test-artifacts}/bi/``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import secrets
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
import yaml
from conftest import environment
from psycopg import sql

from ingest.cli import main as d06
from ingest.demo import write_demo_inbox
from ingest.warehouse.db import scratch_database

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # bi/ is tooling beside the package, not installed
from bi import superset_service as svc  # noqa: E402
from bi.build_bundle import BUNDLE  # noqa: E402

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

PERIODS = ("2026-02", "2026-03")
PROVINCE = "AG"
UNIT = "AG.STP"
UNIT_LOGIN = "bi_test_ag_stp"
UNIT_USER = "don_vi_ag_stp"
PASSWORD = secrets.token_urlsafe(16)  # throw-away, for this module's logins only
STATUS_VI = {
    "achieved": "Đã đạt", "on_track": "Đúng tiến độ", "at_risk": "Có nguy cơ không đạt",
    "missed": "Quá hạn, chưa đạt", "no_target": "Không có mục tiêu", "no_data": "Chưa có số liệu",
    "done": "Hoàn thành", "in_progress": "Đang thực hiện", "behind": "Chậm tiến độ", "overdue": "Quá hạn",
    "not_started": "Chưa bắt đầu", "recurring": "Thường xuyên",
}  # fmt: skip
NAMES = (
    "join marts.dim_indicator i on i.indicator_code = s.indicator_code "
    "join marts.dim_service v on v.service_code = s.service_code"
)
# Each chart's rows, by an independent query of the marts, in the chart's order.
EXPECTED_SQL = {
    "ty_le_bao_cao_theo_thang": "select period, province_code, reporting_rate_pct "
    "from marts.mart_reporting_timeliness order by period, province_code",
    "ty_le_dung_han_theo_thang": "select period, province_code, on_time_rate_pct "
    "from marts.mart_reporting_timeliness order by period, province_code",
    "chi_tieu_so_voi_muc_tieu": "select s.period, s.province_code, i.indicator_name_vi, v.service_name_vi, s.rate_pct, "
    "s.target_pct, s.gap_to_target_pp, s.previous_rate_pct, s.change_pp "
    f"from marts.mart_province_scorecard_monthly s {NAMES} "
    "order by s.period desc, s.province_code, s.indicator_code, s.service_code",
    "tien_do_muc_tieu": "select s.period, s.province_code, i.indicator_name_vi, s.rate_pct, s.expected_rate_pct, "
    "s.target_pct, s.target_date, s.progress_status from marts.mart_target_progress s "
    "join marts.dim_indicator i on i.indicator_code = s.indicator_code "
    "order by s.period desc, s.province_code, s.indicator_code",
    "chat_luong_theo_thang": "select period, sum(open_errors), sum(open_warnings) "
    "from marts.mart_unit_quality_monthly group by period order by period",
    "chi_tieu_don_vi_theo_thang": "select s.period, i.indicator_name_vi, "
    "round(100.0 * sum(s.numerator) / nullif(sum(s.denominator), 0), 2) from marts.mart_unit_scorecard_monthly s "
    "join marts.dim_indicator i on i.indicator_code = s.indicator_code {where} group by 1, 2 order by 1, 2",
    "thu_hang_don_vi": "select s.period, u.unit_name_vi, i.indicator_name_vi, v.service_name_vi, s.rate_pct, "
    f"s.change_pp, s.rank_in_province, s.units_ranked from marts.mart_unit_scorecard_monthly s {NAMES} "
    "join marts.dim_unit u on u.unit_code = s.unit_code {where} "
    "order by s.period desc, s.unit_code, s.indicator_code, s.service_code",
    "giu_lai_va_vi_pham": "select q.period, u.unit_name_vi, case when q.is_held then 'Có' else 'Không' end, "
    "q.held_reason_vi, q.open_errors, "
    "q.open_warnings, q.quality_score from marts.mart_unit_quality_monthly q "
    "join marts.dim_unit u on u.unit_code = q.unit_code "
    "where (q.open_errors + q.open_warnings > 0 or q.is_held) order by q.period desc, q.unit_code",
    "nhiem_vu_don_vi": "select t.period, u.unit_name_vi, t.task_id, t.title_vi, t.deadline, t.status, "
    "case when t.is_overdue then 'Có' else 'Không' end "
    "from marts.fct_plan_task t left join marts.dim_unit u on u.unit_code = t.lead_unit_code "
    "order by t.period desc, t.lead_unit_code, t.task_id",
}


def artifacts() -> Path:
    base = Path(os.environ.get("D06_TEST_ARTIFACTS") or REPO / ".warehouse" / "test-artifacts")
    folder = base / "bi"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def marts(warehouse_dsn: str, smtp_sink: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Two demo months of one province, published; a unit login of ``d06 grant reader``."""
    inbox = tmp_path_factory.mktemp("inbox")
    target = tmp_path_factory.mktemp("dbt")
    with environment(D06_INBOX=str(inbox), DBT_TARGET_PATH=str(target), D06_READER_PASSWORD=PASSWORD):
        assert d06(["db", "init"]) == 0
        for period in PERIODS:
            write_demo_inbox(inbox, period, provinces=[PROVINCE])
            d06(["run", "--period", period])  # exits 1 when the gate holds a unit: still published
        assert d06(["grant", "reader", "--unit", UNIT, "--login", UNIT_LOGIN]) == 0
    yield warehouse_dsn
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(UNIT_LOGIN)))
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(UNIT_LOGIN)))


@pytest.fixture(scope="module")
def superset(marts: str, server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Superset set up on a throw-away metadata database, the bundle imported twice; its address."""
    svc.install()
    log = artifacts() / "superset.log"
    log.write_text("", encoding="utf-8")
    with scratch_database(server_dsn, "d06_superset_test") as metadata_dsn:
        metadata = svc.database_uri(metadata_dsn, urlsplit(metadata_dsn).path.lstrip("/"))
        env = svc.superset_env(marts, metadata, secrets.token_urlsafe(32), tmp_path_factory.mktemp("superset-home"))
        env.update(D06_READER_PASSWORD=PASSWORD, D06_BI_USER_PASSWORD=PASSWORD)
        svc.set_up(env, PASSWORD, log)
        svc.import_bundle(env, log)  # a second import changes nothing (test_the_import_is_idempotent)
        svc.add_scope(env, UNIT_LOGIN, UNIT_USER, log)
        with svc.running(env, log) as server:
            yield server.url


def _session(base: str, user: str) -> requests.Session:
    s = requests.Session()
    answer = s.post(f"{base}/api/v1/security/login", timeout=30,
                    json={"username": user, "password": PASSWORD, "provider": "db", "refresh": False})  # fmt: skip
    assert answer.status_code == 200, answer.text
    s.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return s


def _listing(s: requests.Session, base: str, kind: str) -> list[dict[str, Any]]:
    answer = s.get(f"{base}/api/v1/{kind}/", params={"q": "(page_size:100)"}, timeout=30)
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["result"]
    return result


def _bundle(kind: str) -> dict[str, dict[str, Any]]:
    """The bundle's charts (or dashboards) by UUID."""
    files = sorted((BUNDLE / kind).glob("*.yaml"))
    return {(d := yaml.safe_load(p.read_text(encoding="utf-8")))["uuid"]: {**d, "key": p.stem} for p in files}


def _chart_rows(s: requests.Session, base: str) -> dict[str, list[dict[str, Any]]]:
    """Every chart's data, by the chart's key in the bundle."""
    keys = {u: c["key"] for u, c in _bundle("charts").items()}
    ids = {c["id"]: keys[c["uuid"]] for c in _charts_with_uuid(s, base)}
    rows = {}
    for chart_id, key in ids.items():
        answer = s.get(f"{base}/api/v1/chart/{chart_id}/data/", timeout=120)
        assert answer.status_code == 200, f"{key}: {answer.text[:500]}"
        rows[key] = answer.json()["result"][0]["data"]
    return rows


def _charts_with_uuid(s: requests.Session, base: str) -> list[dict[str, Any]]:
    q = "(columns:!(id,uuid,slice_name),page_size:100)"
    answer = s.get(f"{base}/api/v1/chart/", params={"q": q}, timeout=30)
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["result"]
    return result


def _norm(value: Any) -> Any:
    """A value as the REST API and psycopg give it, made comparable."""
    if isinstance(value, Decimal | float):
        return round(float(value), 2)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _epoch_month(ms: float) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m")


def _epoch_day(value: Any) -> Any:
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date().isoformat()
    return value[:10] if isinstance(value, str) else value


def _query(dsn: str, text: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return [tuple(_norm(v) for v in row) for row in conn.execute(text.replace("{where}", "")).fetchall()]


def _as_rows(key: str, data: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The chart's rows as tuples in the columns of EXPECTED_SQL."""
    out = []
    for r in data:
        row: tuple[Any, ...]
        if key == "ty_le_bao_cao_theo_thang":
            row = (_epoch_month(r["thang"]), r["province_code"], r["Tỷ lệ báo cáo (%)"])
        elif key == "ty_le_dung_han_theo_thang":
            row = (_epoch_month(r["thang"]), r["province_code"], r["Tỷ lệ đúng hạn (%)"])
        elif key == "chat_luong_theo_thang":
            row = (_epoch_month(r["thang"]), r["Lỗi chưa xử lý"], r["Cảnh báo chưa xử lý"])
        elif key == "chi_tieu_don_vi_theo_thang":
            row = (_epoch_month(r["thang"]), r["indicator_name_vi"], r["Tỷ lệ (%)"])
        else:
            row = tuple(_epoch_day(v) if k in {"deadline", "target_date"} else v for k, v in r.items())
        out.append(tuple(_norm(v) for v in row))
    return out


def test_the_import_is_idempotent(superset: str) -> None:
    s = _session(superset, svc.ADMIN)
    charts, dashboards = _bundle("charts"), _bundle("dashboards")
    assert sorted(c["uuid"] for c in _charts_with_uuid(s, superset)) == sorted(charts)
    assert sorted(d["dashboard_title"] for d in _listing(s, superset, "dashboard")) == sorted(
        d["dashboard_title"] for d in dashboards.values()
    )
    assert len(_listing(s, superset, "dataset")) == len(list((BUNDLE / "datasets").rglob("*.yaml")))


def test_every_chart_matches_a_query_of_the_marts(superset: str, marts: str) -> None:
    s = _session(superset, svc.ADMIN)
    rows = _chart_rows(s, superset)
    assert set(rows) == set(EXPECTED_SQL) | {"bieu_do_pheu", "don_vi_bat_thuong"}
    for key, text in EXPECTED_SQL.items():
        expected = _query(marts, text)
        if key in {"tien_do_muc_tieu", "nhiem_vu_don_vi"}:
            expected = [(*r[:-2], STATUS_VI[r[-2]], r[-1]) if key == "nhiem_vu_don_vi" else (*r[:-1], STATUS_VI[r[-1]])
                        for r in expected]  # fmt: skip
        assert expected, f"{key}: the marts have no rows for it"
        assert _as_rows(key, rows[key]) == expected, key
    assert {_epoch_month(r["thang"]) for r in rows["ty_le_bao_cao_theo_thang"]} >= set(PERIODS)
    funnel = _funnel(marts)
    table = sorted((r["period"], r["unit_name_vi"], r["denominator"], r["danh_gia_vi"], r["rate_pct"], r["lower_pct"],
                    r["upper_pct"]) for r in rows["don_vi_bat_thuong"])  # fmt: skip
    hand = sorted((p["period"], p["unit"], p["denominator"], p["verdict"], p["rate"], p["lower"], p["upper"])
                  for p in funnel)  # fmt: skip
    assert [r[:4] for r in table] == [h[:4] for h in hand]
    assert all(_close(a[4:], b[4:]) for a, b in zip(table, hand, strict=True))
    by_size: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in funnel:
        by_size[p["denominator"]].append(p)
    scatter = {
        r["denominator"]: (r["Tỷ lệ của đơn vị (%)"], r["Giới hạn trên 99,8% (%)"], r["Giới hạn dưới 99,8% (%)"])
        for r in rows["bieu_do_pheu"]
    }
    assert set(scatter) == set(by_size)
    for n, ps in by_size.items():
        assert _close(
            scatter[n], (max(p["rate"] for p in ps), max(p["upper"] for p in ps), min(p["lower"] for p in ps))
        )


def _close(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal to the cent (PostgreSQL rounds half away from zero, Python to even)."""
    return all(abs(float(x) - float(y)) <= 0.011 for x, y in zip(a, b, strict=True))


def _percentile(values: list[float], q: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between order statistics."""
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _funnel(dsn: str, z: float = 3.0902, winsorise: float = 0.10) -> list[dict[str, Any]]:
    """Spiegelhalter (2005) funnel limits with additive overdispersion, computed here from the facts."""
    with psycopg.connect(dsn) as conn:
        facts = conn.execute(
            "select f.period, u.unit_name_vi, u.unit_kind, f.indicator_code, f.service_code, f.numerator, "
            "f.denominator "
            "from marts.fct_indicator_monthly f join marts.dim_indicator i using (indicator_code) "
            "join marts.dim_unit u using (unit_code) "
            "where i.denominator_kind = 'total' and f.denominator > 0 and f.numerator <= f.denominator"
        ).fetchall()
    groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for f in facts:
        groups[(f[0], f[2], f[3], f[4])].append(f)
    out = []
    for members in groups.values():
        p0 = sum(m[5] for m in members) / sum(m[6] for m in members)
        tau2 = 0.0
        if 0 < p0 < 1:
            zs = [(m[5] / m[6] - p0) / math.sqrt(p0 * (1 - p0) / m[6]) for m in members]
            lo, hi = _percentile(zs, winsorise), _percentile(zs, 1 - winsorise)
            phi = sum(min(max(v, lo), hi) ** 2 for v in zs) / len(zs)
            w = [m[6] / (p0 * (1 - p0)) for m in members]
            n = len(members)
            tau2 = (n * phi - (n - 1)) / (sum(w) - sum(x * x for x in w) / sum(w)) if n * phi > n - 1 else 0.0
        for m in members:
            p, se = m[5] / m[6], math.sqrt(p0 * (1 - p0) / m[6] + tau2)
            verdict = ("Không đủ đơn vị để so sánh" if len(members) < 10 or se == 0
                       else "Cao bất thường" if p > p0 + z * se else "Thấp bất thường" if p < p0 - z * se
                       else "Trong giới hạn")  # fmt: skip
            out.append({"period": m[0], "unit": m[1], "denominator": m[6], "rate": round(100 * p, 2),
                        "lower": round(100 * max(p0 - z * se, 0), 2), "upper": round(100 * min(p0 + z * se, 1), 2),
                        "verdict": verdict})  # fmt: skip
    return out


def test_a_unit_login_sees_only_its_unit(superset: str, marts: str) -> None:
    with psycopg.connect(marts) as conn:
        row = conn.execute("select unit_name_vi from marts.dim_unit where unit_code = %s", (UNIT,)).fetchone()
    assert row is not None
    own = row[0]
    rows = _chart_rows(_session(superset, UNIT_USER), superset)
    for key in ("thu_hang_don_vi", "don_vi_bat_thuong"):
        assert rows[key] and {r["unit_name_vi"] for r in rows[key]} == {own}, key
    assert {r["unit_name_vi"] for r in rows["giu_lai_va_vi_pham"]} <= {own}
    assert {r["lead_unit_name_vi"] for r in rows["nhiem_vu_don_vi"]} <= {own}
    for key in ("chi_tieu_so_voi_muc_tieu", "tien_do_muc_tieu"):
        assert rows[key] and {r["province_code"] for r in rows[key]} == {PROVINCE}, key
    # Aggregates too: the unit's own series, not the province's.
    expected = _query(
        marts, EXPECTED_SQL["chi_tieu_don_vi_theo_thang"].replace("{where}", f"where s.unit_code = '{UNIT}'")
    )
    assert _as_rows("chi_tieu_don_vi_theo_thang", rows["chi_tieu_don_vi_theo_thang"]) == expected
    everything = _chart_rows(_session(superset, svc.ADMIN), superset)
    assert len(everything["thu_hang_don_vi"]) > len(rows["thu_hang_don_vi"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("Chromium is not installed: run `make browser` (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,3200", "--lang=vi",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]:  # fmt: skip
        options.add_argument(arg)
    # An explicit driver path: Selenium Manager never runs, nothing is downloaded.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(driver: Any, base: str, user: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(f"{base}/login/")
    wait = WebDriverWait(driver, 60)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input#username, input[name=username]")))
    driver.find_element(By.CSS_SELECTOR, "input#username, input[name=username]").send_keys(user)
    driver.find_element(By.CSS_SELECTOR, "input#password, input[name=password]").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
    wait.until(lambda d: "/login" not in d.current_url)


CHART = "[data-test=chart-grid-component]"
ERROR = "[data-test=alert], .alert-danger, .ant-alert-error, [role=alert]"
RENDERED = "canvas, table, svg.echarts"


def _rendered(driver: Any, expected: int) -> tuple[int, int, int, int]:
    """(charts, rendered, error panels, empty charts) on the page now."""
    from selenium.webdriver.common.by import By

    charts = driver.find_elements(By.CSS_SELECTOR, CHART)
    drawn = [c for c in charts if c.find_elements(By.CSS_SELECTOR, RENDERED)]
    errors = driver.find_elements(By.CSS_SELECTOR, ERROR)
    empty = [c for c in charts if "No results" in c.text or c.find_elements(By.CSS_SELECTOR, ".ant-empty")]
    return len(charts), len(drawn), len(errors), len(empty)


APPLY = "[data-test=filterbar-action-buttons] button[type=submit]"
FUNNEL_TABLE = "Các đơn vị và lý do"


def _funnel_on_load(driver: Any) -> tuple[bool, int, set[str], set[str]]:
    """(Apply button enabled, records in the funnel's table, its months, its indicators) on the page now."""
    from selenium.webdriver.common.by import By

    apply = driver.find_elements(By.CSS_SELECTOR, APPLY)
    pending = any(b.is_enabled() for b in apply)
    (table,) = [c for c in driver.find_elements(By.CSS_SELECTOR, CHART) if FUNNEL_TABLE in c.text]
    search = table.find_elements(By.CSS_SELECTOR, ".dt-global-filter input")
    records = int(search[0].get_attribute("placeholder").split()[0].replace(".", "").replace(",", "")) if search else -1
    cells = [[" ".join(td.text.split()) for td in tr.find_elements(By.CSS_SELECTOR, "td")]
             for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]  # fmt: skip
    return pending, records, {r[0] for r in cells if r}, {r[1] for r in cells if len(r) > 1}


def _funnel_rows(dsn: str, period: str, indicator: str, unit: str | None) -> int:
    """The funnel's rows of one month and indicator (of one unit), counted from the facts."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select count(*) from marts.fct_indicator_monthly f join marts.dim_indicator i using (indicator_code) "
            "join marts.dim_unit u using (unit_code) "
            "where i.denominator_kind = 'total' and f.denominator > 0 and f.numerator <= f.denominator "
            "and f.period = %s and i.indicator_name_vi = %s and (%s::text is null or f.unit_code = %s)",
            (period, indicator, unit, unit),
        ).fetchone()
    return int(row[0]) if row else 0


def _assert_the_funnel_is_one_month_and_indicator(driver: Any, dsn: str, user: str) -> None:
    """The latest month and the first indicator are applied on load, without pressing "Apply"."""
    unit = UNIT if user == UNIT_USER else None
    deadline, state, expected = time.monotonic() + 30, (True, -1, set[str](), set[str]()), -2
    while time.monotonic() < deadline:
        state = _funnel_on_load(driver)
        if not state[0] and len(state[2]) == len(state[3]) == 1:
            expected = _funnel_rows(dsn, next(iter(state[2])), next(iter(state[3])), unit)
            if state[1] == expected:
                break
        time.sleep(1)
    pending, records, months, indicators = state
    assert not pending, "the funnel's default filters wait for Apply"
    assert months == {max(PERIODS)} and len(indicators) == 1, (months, indicators)
    assert records == expected > 0, f"the funnel's table has {records} rows, not {expected}"
    with psycopg.connect(dsn) as conn:
        units = dict(conn.execute(
            "select i.indicator_name_vi, count(distinct f.unit_code) from marts.fct_indicator_monthly f "
            "join marts.dim_indicator i using (indicator_code) join marts.dim_unit u using (unit_code) "
            "where i.denominator_kind = 'total' and f.denominator > 0 and f.numerator <= f.denominator "
            "and (%s::text is null or f.unit_code = %s) group by 1",
            (unit, unit),
        ).fetchall())  # fmt: skip
    assert units[next(iter(indicators))] == max(units.values()), "the default indicator is not the most compared"


@pytest.mark.parametrize("user", [svc.ADMIN, UNIT_USER])
def test_every_dashboard_renders_every_chart_in_chromium(superset: str, marts: str, browser: Any, user: str) -> None:
    from selenium.webdriver.common.by import By

    _sign_in(browser, superset, user)
    for dashboard in _bundle("dashboards").values():
        expected = sum(1 for v in dashboard["position"].values() if isinstance(v, dict) and v.get("type") == "CHART")
        browser.get(f"{superset}/superset/dashboard/{dashboard['slug']}/")
        deadline, state = time.monotonic() + 90, (0, 0, 0, 0)
        while time.monotonic() < deadline:
            state = _rendered(browser, expected)
            if state[0] == expected and (state[1] == expected or state[2]):
                break
            time.sleep(1)
        time.sleep(2)  # let the last chart finish drawing before the screenshot
        shot = artifacts() / f"{dashboard['slug']}-{user}.png"
        assert browser.save_screenshot(str(shot))
        charts, drawn, errors, empty = _rendered(browser, expected)
        assert dashboard["dashboard_title"] in browser.page_source
        assert (charts, drawn, errors, empty) == (expected, expected, 0, 0), f"{dashboard['slug']}: see {shot}"
        texts = [c.text for c in browser.find_elements(By.CSS_SELECTOR, CHART)]
        assert not [t for t in texts if "00:00:00" in t], f"{dashboard['slug']}: a date shows its time, see {shot}"
        if dashboard["slug"] == "tong-quan-tinh":
            assert re.search(r"\b\d\d/\d\d/20\d\d\b", "\n".join(texts)), f"no dd/mm/yyyy date, see {shot}"
        if dashboard["slug"] == "bieu-do-pheu":
            _assert_the_funnel_is_one_month_and_indicator(browser, marts, user)


def test_every_mart_column_has_its_description_as_a_database_comment(marts: str) -> None:
    """``+persist_docs``: what a BI tool reading the catalogue shows, in Vietnamese and English."""
    with psycopg.connect(marts) as conn:
        columns = conn.execute(
            "select c.relname, a.attname, col_description(c.oid, a.attnum) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid "
            "where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p') and a.attnum > 0 and not a.attisdropped"
        ).fetchall()
    assert len({t for t, _, _ in columns}) >= 17 and len(columns) >= 200
    assert [f"{t}.{c}" for t, c, text in columns if " — EN: " not in (text or "")] == []
