"""A unit's work in the portal, in process (TestClient) on a fresh warehouse: sign in by e-mail,
download its template, upload files through the landing path and read the result at once, its
history, its violations; a file of another unit's rows is refused; the province sees its units.

Every expected figure comes from the files written here: the CSV of ``GOOD`` has 4 data rows,
2 valid (rows 2, 3), one with ``abc`` as its numerator (row 4) and one with an indicator code
that does not exist (row 5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import io
import tracemalloc
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from openpyxl import load_workbook
from psycopg.types.json import Jsonb
from starlette.datastructures import Headers

from ingest.portal.uploads import receive_upload
from ingest.reporting.smtp_sink import SmtpSink

from .conftest import (
    HEADER,
    OTHER_PROVINCE_UNIT,
    PROVINCE,
    UNIT_A,
    UNIT_B,
    client_for,
    csrf_of,
    make_app,
    page_csrf,
    previous_period,
    reporting_period,
    sign_in,
    upload,
)

pytestmark = pytest.mark.warehouse
PERIOD = reporting_period()
GOOD = (
    HEADER
    + f"{UNIT_A},{PERIOD},HT_SCANNED,NA,90,100\n"
    + f"{UNIT_A},{PERIOD},HT_ENTERED,NA,80,100\n"
    + f"{UNIT_A},{PERIOD},HT_SYNCED,NA,abc,100\n"
    + f"{UNIT_A},{PERIOD},KHONG_CO,NA,5,10\n"
).encode()


@pytest.fixture(scope="module")
def app(warehouse: str) -> Any:
    return make_app()


def ledger(dsn: str, file_id: int) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        row = cur.execute("select * from audit.load_ledger where file_id = %s", (file_id,)).fetchone()
    assert row is not None
    return row


def last_upload(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        row = cur.execute("select * from portal.upload order by upload_id desc limit 1").fetchone()
    assert row is not None
    return row


def test_a_unit_uploads_and_sees_rows_loaded_and_quarantined_at_once(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    before = dt.datetime.now(dt.UTC)
    response = upload(client, UNIT_A, f"{UNIT_A}_{PERIOD}.csv", GOOD, PERIOD)
    after = dt.datetime.now(dt.UTC)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    html = page.text
    assert 'id="so-dong-doc">4<' in html and 'id="so-dong-nap">2<' in html and 'id="so-dong-cach-ly">2<' in html
    assert "<tr><td>4</td><td>Tử số</td><td>abc</td><td>Giá trị ở cột “Tử số” phải là số nguyên không âm" in html
    assert "<tr><td>5</td><td>Mã chỉ tiêu</td><td>KHONG_CO</td><td>Mã chỉ tiêu không có trong danh mục chỉ tiêu" in html

    # the receipt time is the server's time of upload, and the ledger row has it
    record = last_upload(warehouse)
    row = ledger(warehouse, record["file_id"])
    assert before <= record["received_at"] <= after
    assert row["received_at"] == record["received_at"] and row["received_at_source"] == "supplied"
    assert (row["unit_code"], row["period"], row["status"]) == (UNIT_A, PERIOD, "loaded")
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (4, 2, 2)


def test_the_same_bytes_again_are_a_duplicate_and_load_nothing(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    page = client.get(upload(client, UNIT_A, "lan_hai.csv", GOOD, PERIOD).headers["location"])
    assert 'data-status="duplicate"' in page.text and "giống hệt một tệp đã nhận" in page.text


def test_a_file_with_another_units_rows_is_refused_whole_with_a_bilingual_reason(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    content = (HEADER + f"{UNIT_A},{PERIOD},HT_SCANNED,NA,91,100\n{UNIT_B},{PERIOD},HT_SCANNED,NA,50,100\n").encode()
    page = client.get(upload(client, UNIT_A, "hai_don_vi.csv", content, PERIOD).headers["location"])
    assert 'data-status="refused"' in page.text
    assert f"Tệp có dòng số liệu của đơn vị khác ({UNIT_B}); đơn vị {UNIT_A} chỉ được nộp số liệu của mình" in page.text
    assert f"the file has rows of another unit ({UNIT_B}); unit {UNIT_A} may submit only its own rows" in page.text
    record = last_upload(warehouse)
    assert (record["status"], record["file_id"], record["reason_code"]) == ("refused", None, "portal_other_unit")
    with psycopg.connect(warehouse) as conn:
        landed = conn.execute("select count(*) from audit.load_ledger where file_name = 'hai_don_vi.csv'").fetchone()
        rows_b = conn.execute("select count(*) from raw.submission_row where unit_code = %s", (UNIT_B,)).fetchone()
    assert landed == (0,) and rows_b == (0,)


def test_the_template_of_the_month_downloads_with_the_units_rows(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    response = client.get(f"/don-vi/{UNIT_A}/mau-bieu", params={"ky": PERIOD})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="{UNIT_A}_{PERIOD}.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content))["du_lieu"]
    assert (sheet["A1"].value, sheet["B1"].value) == ("ma_don_vi", "ky_bao_cao")
    assert (sheet["A2"].value, sheet["B2"].value) == (UNIT_A, PERIOD)
    refused = client.get(f"/don-vi/{UNIT_A}/mau-bieu", params={"ky": "1999-01"})
    assert refused.status_code == 400 and "Kỳ báo cáo không hợp lệ" in refused.text


def test_history_lists_each_month_with_receipt_times_and_statuses(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    earlier = previous_period(PERIOD)
    upload(client, UNIT_A, "thang_truoc.csv", (HEADER + f"{UNIT_A},{earlier},HT_SCANNED,NA,70,100\n").encode(), earlier)
    html = client.get(f"/don-vi/{UNIT_A}/lich-su").text
    assert f'id="ky-{PERIOD}"' in html and f'id="ky-{earlier}"' in html
    assert html.index(f'id="ky-{PERIOD}"') < html.index(f'id="ky-{earlier}"'), "newest month first"
    this_month = html[html.index(f'id="ky-{PERIOD}"') : html.index(f'id="ky-{earlier}"')]
    for name, status in (
        (f"{UNIT_A}_{PERIOD}.csv", "Đã nạp"),
        ("lan_hai.csv", "Trùng tệp đã nhận"),
        ("hai_don_vi.csv", "Cổng từ chối"),
    ):
        assert name in this_month and status in this_month
    assert "thang_truoc.csv" in html[html.index(f'id="ky-{earlier}"') :]
    record = last_upload(warehouse)
    local = record["received_at"].astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert f"{local:%d/%m/%Y %H:%M}" in html


def insert_violation(dsn: str, unit: str, values: dict[str, int]) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            """insert into audit.violation (check_code, severity, unit_code, indicator_code, service_code, period,
                                            "values", first_run_id, last_run_id)
               values ('numerator_exceeds_denominator', 'error', %s, 'HT_SCANNED', 'NA', %s, %s, 't', 't')
               returning violation_id""",
            (unit, PERIOD, Jsonb(values)),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_unit_sees_its_open_violations_and_explains_one(app: Any, warehouse: str) -> None:
    own = insert_violation(warehouse, UNIT_A, {"numerator": 120, "denominator": 100})
    other = insert_violation(warehouse, UNIT_B, {"numerator": 300, "denominator": 200})
    client = sign_in(client_for(app), warehouse, UNIT_A)
    html = client.get(f"/don-vi/{UNIT_A}/vi-pham").text
    assert f'id="vi-pham-{own}"' in html and f'id="vi-pham-{other}"' not in html
    assert "numerator = 120; denominator = 100" in html

    empty = client.post(f"/don-vi/{UNIT_A}/vi-pham/{own}", data={"csrf": csrf_of(html), "comment": "  "})
    assert empty.status_code == 400 and "cần ghi rõ" in empty.text
    done = client.post(
        f"/don-vi/{UNIT_A}/vi-pham/{own}", data={"csrf": csrf_of(html), "comment": "Số liệu đúng, đã xác minh"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/don-vi/{UNIT_A}/vi-pham?da={own}"
    assert f"Đã ghi nhận giải trình cho vi phạm số {own}" in client.get(done.headers["location"]).text
    with psycopg.connect(warehouse) as conn:
        row = conn.execute(
            "select status, status_by, status_comment from audit.violation where violation_id = %s", (own,)
        ).fetchone()
    assert row == ("explained", f"cong-nop:{UNIT_A}", "Số liệu đúng, đã xác minh")


def test_the_province_sees_every_unit_of_its_province_and_no_other(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, PROVINCE)
    units = client.get("/don-vi").text
    assert f'href="/don-vi/{UNIT_A}"' in units and f'href="/don-vi/{UNIT_B}"' in units
    assert OTHER_PROVINCE_UNIT not in units
    assert client.get(f"/don-vi/{UNIT_B}").status_code == 200
    assert client.get(f"/don-vi/{OTHER_PROVINCE_UNIT}").status_code == 404
    # on a unit's page, the province submits that unit's rows only
    content = (HEADER + f"{UNIT_A},{PERIOD},HT_SCANNED,NA,1,2\n").encode()
    page = client.get(upload(client, UNIT_B, "nham_don_vi.csv", content, PERIOD).headers["location"])
    assert 'data-status="refused"' in page.text and f"đơn vị {UNIT_B} chỉ được nộp" in page.text


def test_signing_in_by_email_sends_a_link_that_works_once(app: Any, warehouse: str, smtp_sink: SmtpSink) -> None:
    client = client_for(app)
    form = client.get("/dang-nhap").text
    sent = client.post("/dang-nhap", data={"email": " STP@AnGiang.d06.example ", "csrf": csrf_of(form)})
    assert sent.status_code == 200 and "một liên kết đăng nhập đã được gửi" in sent.text
    messages = sorted(Path(smtp_sink.outbox).glob("*.eml"))
    assert len(messages) == 1
    message = email.message_from_bytes(messages[0].read_bytes(), policy=policy.default)
    assert message["To"] == "stp@angiang.d06.example"
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = next(line for line in body.splitlines() if "/dang-nhap/lien-ket?t=" in line).strip()
    parts = urlsplit(link)
    assert parts.path == "/dang-nhap/lien-ket"
    confirm = client.get(f"{parts.path}?{parts.query}")
    token = parse_qs(parts.query)["t"][0]
    signed = client.post("/dang-nhap/lien-ket", data={"token": token, "csrf": csrf_of(confirm.text)})
    assert signed.status_code == 303 and client.get("/don-vi").headers["location"] == f"/don-vi/{UNIT_A}"

    # an address nobody registered gets the same answer, and no e-mail
    stranger = client_for(app)
    form = stranger.get("/dang-nhap")
    unknown = stranger.post("/dang-nhap", data={"email": "ai.do@example.com", "csrf": csrf_of(form.text)})
    assert unknown.status_code == 200 and "một liên kết đăng nhập đã được gửi" in unknown.text
    assert len(list(Path(smtp_sink.outbox).glob("*.eml"))) == 1


def test_an_upload_is_streamed_to_disk_not_held_in_memory(tmp_path: Path) -> None:
    size = 16 * 1024 * 1024
    boundary = "d06-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nx\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="tep"; filename="lon.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> Any:
        yield head
        chunk = b"x" * 65536
        for _ in range(size // len(chunk)):
            yield chunk
        yield tail

    headers = Headers({"content-type": f"multipart/form-data; boundary={boundary}"})
    tracemalloc.start()
    try:
        received = asyncio.run(receive_upload(headers, body(), tmp_path, max_bytes=20 * 1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received.path == tmp_path / "lon.csv" and received.path.stat().st_size == size
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte upload"


def test_the_overview_page_offers_the_template_and_the_upload_form(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    html = client.get(f"/don-vi/{UNIT_A}").text
    assert f'action="/don-vi/{UNIT_A}/mau-bieu"' in html and f'action="/don-vi/{UNIT_A}/nop"' in html
    assert page_csrf(client, UNIT_A) == csrf_of(html)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    assert f'id="han-nop">10/{today.month:02d}/{today.year}<' in html, "due on the 10th of this month"
