"""The portal's security model, tested on a real warehouse.

* Isolation: signed in as unit A (AG.STP), every route of the application is tried against
  unit B's (AG.CAT) upload, file, quarantined rows and violation.  The routes are enumerated
  from ``app.routes``: a route added without an entry in ``ATTACKS`` fails the test.
* Sign-in links expire and work once; only hashes are stored.
* Every POST needs the session's (or visitor's) CSRF token.
* File names are sanitised; an upload over the limit is refused, before it is read whole.
* Cookies are HttpOnly, SameSite=Lax, and Secure over TLS (directly, behind a trusted proxy,
  or by the switch).  Errors are Vietnamese pages without a traceback.  Logs hold no address,
  token or client address.
"""

from __future__ import annotations

import logging
import secrets
import select
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import environment
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from ingest.portal import auth

from .conftest import (
    HEADER,
    REGISTRY,
    UNIT_A,
    UNIT_B,
    client_for,
    csrf_of,
    link_token,
    make_app,
    page_csrf,
    redeem,
    reporting_period,
    served,
    sign_in,
    upload,
)

pytestmark = pytest.mark.warehouse
PERIOD = reporting_period()
B_FILE = "bi_mat_cua_don_vi_B.csv"
B_VALUE = "GIATRI_B_BI_MAT"
B_COMMENT = "GIAI_TRINH_RIENG_CUA_B"
SECRETS_OF_B = (B_FILE, B_VALUE, B_COMMENT, REGISTRY.units[UNIT_B].name_vi)


@pytest.fixture(scope="module")
def app(warehouse: str) -> Any:
    return make_app()


@pytest.fixture(scope="module")
def unit_b(app: Any, warehouse: str) -> dict[str, int]:
    """Unit B's data: an upload with a quarantined row, and an explained violation."""
    client = sign_in(client_for(app), warehouse, UNIT_B)
    content = (
        HEADER + f"{UNIT_B},{PERIOD},HT_SCANNED,NA,50,100\n{UNIT_B},{PERIOD},HT_SYNCED,NA,{B_VALUE},9\n"
    ).encode()
    location = upload(client, UNIT_B, B_FILE, content, PERIOD).headers["location"]
    upload_id = int(location.rsplit("/", 1)[1])
    with psycopg.connect(warehouse) as conn:
        (file_id,) = conn.execute("select file_id from portal.upload where upload_id = %s", (upload_id,)).fetchone()  # type: ignore[misc]
        (violation_id,) = conn.execute(  # type: ignore[misc]
            """insert into audit.violation (check_code, severity, unit_code, indicator_code, service_code, period,
                   "values", status, status_by, status_comment, first_run_id, last_run_id)
               values ('numerator_exceeds_denominator', 'error', %s, 'HT_SCANNED', 'NA', %s, '{}', 'explained',
                       'cong-nop:AG.CAT', %s, 't', 't') returning violation_id""",
            (UNIT_B, PERIOD, B_COMMENT),
        ).fetchone()
    assert B_VALUE in client.get(location).text, "B sees its own quarantined row"
    return {"upload_id": upload_id, "file_id": int(file_id), "violation_id": int(violation_id)}


# --- isolation: every route, as unit A, against unit B ------------------------------------------

Attack = Callable[[TestClient, dict[str, int]], list[Any]]


def _public(path: str) -> Attack:
    return lambda client, b: [client.get(path)]


def _post_anonymous(path: str, data: dict[str, str]) -> Attack:
    def attack(client: TestClient, b: dict[str, int]) -> list[Any]:
        visitor = client_for(client.app)
        token = csrf_of(visitor.get("/dang-nhap/lien-ket?t=x").text)
        return [visitor.post(path, data={**data, "csrf": token})]

    return attack


def _upload_for_b(client: TestClient, b: dict[str, int]) -> list[Any]:
    content = (HEADER + f"{UNIT_B},{PERIOD},HT_SCANNED,NA,1,2\n").encode()
    return [upload(client, UNIT_B, "gia_mao.csv", content, PERIOD, csrf=page_csrf(client, UNIT_A))]


def _explain_b(client: TestClient, b: dict[str, int]) -> list[Any]:
    data = {"csrf": page_csrf(client, UNIT_A), "comment": "A sửa giải trình của B"}
    return [
        client.post(f"/don-vi/{UNIT_B}/vi-pham/{b['violation_id']}", data=data),
        client.post(f"/don-vi/{UNIT_A}/vi-pham/{b['violation_id']}", data=data),
    ]


ATTACKS: dict[tuple[str, str], tuple[Attack, set[int]]] = {
    ("GET", "/"): (_public("/"), {303}),
    ("GET", "/dang-nhap"): (_public("/dang-nhap"), {303}),
    ("POST", "/dang-nhap"): (_post_anonymous("/dang-nhap", {"email": "khong.co@example.org"}), {200}),
    ("GET", "/dang-nhap/lien-ket"): (_public("/dang-nhap/lien-ket?t=abc"), {200}),
    ("POST", "/dang-nhap/lien-ket"): (_post_anonymous("/dang-nhap/lien-ket", {"token": "abc"}), {400}),
    ("POST", "/dang-xuat"): (lambda c, b: [c.post("/dang-xuat", data={"csrf": page_csrf(c, UNIT_A)})], {303}),
    ("GET", "/don-vi"): (_public("/don-vi"), {303}),
    ("GET", "/don-vi/{unit}"): (_public(f"/don-vi/{UNIT_B}"), {404}),
    ("GET", "/don-vi/{unit}/mau-bieu"): (_public(f"/don-vi/{UNIT_B}/mau-bieu"), {404}),
    ("POST", "/don-vi/{unit}/nop"): (_upload_for_b, {404}),
    ("GET", "/don-vi/{unit}/tep/{upload_id}"): (
        lambda c, b: [c.get(f"/don-vi/{UNIT_B}/tep/{b['upload_id']}"), c.get(f"/don-vi/{UNIT_A}/tep/{b['upload_id']}")],
        {404},
    ),
    ("GET", "/don-vi/{unit}/lich-su"): (_public(f"/don-vi/{UNIT_B}/lich-su"), {404}),
    ("GET", "/don-vi/{unit}/vi-pham"): (_public(f"/don-vi/{UNIT_B}/vi-pham"), {404}),
    ("POST", "/don-vi/{unit}/vi-pham/{violation_id}"): (_explain_b, {404}),
    ("GET", "/tai-nguyen/{name}"): (
        lambda c, b: [c.get("/tai-nguyen/portal.css"), c.get("/tai-nguyen/logo.svg"), c.get("/tai-nguyen/..%2fapp.py")],
        {200, 404},
    ),
    ("GET", "/suc-khoe"): (_public("/suc-khoe"), {200}),
}
"""Each route of the application: how unit A tries to reach unit B's data through it, and the
statuses it may get.  A route missing here fails the enumeration test."""


def _routes(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        assert isinstance(route, APIRoute), f"unexpected kind of route {route!r}: add it to ATTACKS"
        found |= {(method, route.path) for method in route.methods if method != "HEAD"}
    return found


def test_every_route_is_covered_by_an_attack(app: Any) -> None:
    assert _routes(app) == set(ATTACKS)


@pytest.mark.parametrize("route", sorted(ATTACKS), ids=lambda r: f"{r[0]} {r[1]}")
def test_unit_a_cannot_read_unit_b_data_through_any_route(
    app: Any, warehouse: str, unit_b: dict[str, int], route: tuple[str, str]
) -> None:
    attack, statuses = ATTACKS[route]
    client = sign_in(client_for(app), warehouse, UNIT_A)
    for response in attack(client, unit_b):
        assert response.status_code in statuses, (route, response.status_code, response.text[:300])
        body = response.content.decode("utf-8", "replace")
        leaked = [s for s in SECRETS_OF_B if s in body]
        assert not leaked, f"{route} showed unit B's {leaked}"
    with psycopg.connect(warehouse) as conn:
        uploads_b = conn.execute("select count(*) from portal.upload where unit_code = %s", (UNIT_B,)).fetchone()
        comment = conn.execute(
            "select status_comment from audit.violation where violation_id = %s", (unit_b["violation_id"],)
        ).fetchone()
    assert uploads_b == (1,) and comment == (B_COMMENT,), "nothing of B's changed"


# --- sign-in links ------------------------------------------------------------------------------


def test_a_link_works_once_and_only_its_hash_is_stored(app: Any, warehouse: str) -> None:
    token = link_token(warehouse, UNIT_A)
    with psycopg.connect(warehouse) as conn:
        stored = conn.execute(
            """select token_hash, extract(epoch from expires_at - created_at) from portal.signin_link
               where token_hash = %s""",
            (auth.digest("token", token),),
        ).fetchone()
        dump = conn.execute("select string_agg(t::text, ' ') from portal.signin_link t").fetchone()
    assert stored is not None and float(stored[1]) == 15 * 60, "valid 15 minutes by default"
    assert dump is not None and token not in dump[0]
    client = client_for(app)
    assert redeem(client, token).status_code == 303
    again = redeem(client_for(app), token)
    assert again.status_code == 400 and "Liên kết không còn hiệu lực" in again.text


def test_an_expired_link_does_not_sign_in(app: Any, warehouse: str) -> None:
    token = link_token(warehouse, UNIT_A)
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "update portal.signin_link set expires_at = now() - interval '1 second' where token_hash = %s",
            (auth.digest("token", token),),
        )
    response = redeem(client_for(app), token)
    assert response.status_code == 400 and "đã hết hạn" in response.text
    assert "d06_phien" not in response.cookies


def test_opening_a_link_does_not_use_it(app: Any, warehouse: str) -> None:
    """A mail scanner that follows the link (GET) must not use it up: only the button (POST) does."""
    token = link_token(warehouse, UNIT_A)
    client_for(app).get("/dang-nhap/lien-ket", params={"t": token})
    assert redeem(client_for(app), token).status_code == 303


def test_signing_out_ends_the_session(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    session = client.cookies["d06_phien"]
    assert client.post("/dang-xuat", data={"csrf": page_csrf(client, UNIT_A)}).status_code == 303
    stale = client_for(app)
    stale.cookies.set("d06_phien", session)
    assert stale.get(f"/don-vi/{UNIT_A}").headers["location"] == "/dang-nhap"


# --- CSRF ---------------------------------------------------------------------------------------


def _post_routes(app: Any) -> list[str]:
    return sorted(path for method, path in _routes(app) if method == "POST")


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    good = page_csrf(client, UNIT_A)
    other = sign_in(client_for(app), warehouse, UNIT_A)
    paths = {
        "/dang-nhap": "/dang-nhap",
        "/dang-nhap/lien-ket": "/dang-nhap/lien-ket",
        "/dang-xuat": "/dang-xuat",
        "/don-vi/{unit}/nop": f"/don-vi/{UNIT_A}/nop",
        "/don-vi/{unit}/vi-pham/{violation_id}": f"/don-vi/{UNIT_A}/vi-pham/1",
    }
    assert sorted(paths) == _post_routes(app)
    wrong = page_csrf(other, UNIT_A)  # a real token, of another session
    for path in paths.values():
        for token in (None, "", "0" * 64, wrong):
            data = {"email": "stp@angiang.d06.example", "token": "x", "comment": "c", "ky": PERIOD}
            if token is not None:
                data["csrf"] = token
            files = {"tep": ("a.csv", HEADER.encode(), "text/csv")} if path.endswith("/nop") else None
            response = client.post(path, data=data, files=files)
            assert response.status_code == 403 and "Biểu mẫu không hợp lệ" in response.text, (path, token)
    assert client.get(f"/don-vi/{UNIT_A}").status_code == 200, "still signed in: sign-out needs the token too"
    assert good != wrong


# --- uploads: names and sizes -------------------------------------------------------------------


def test_file_names_are_sanitised(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    page = client.get(upload(client, UNIT_A, "../../etc/passwd", b"root:x:0:0\n", PERIOD).headers["location"])
    assert 'id="ten-tep">passwd<' in page.text and "../" not in page.text
    assert "Cổng chỉ nhận tệp CSV, XLSX, JSON, DOCX hoặc PDF" in page.text
    escape = f"d06_escape_{secrets.token_hex(4)}.csv"
    content = (HEADER + f"{UNIT_A},{PERIOD},HT_SCANNED,NA,3,4\n").encode()
    page = client.get(upload(client, UNIT_A, f"../../../../tmp/{escape}", content, PERIOD).headers["location"])
    assert f'id="ten-tep">{escape}<' in page.text and 'data-status="loaded"' in page.text
    assert not (Path("/tmp") / escape).exists()
    with psycopg.connect(warehouse) as conn:
        names = {r[0] for r in conn.execute("select file_name from portal.upload").fetchall()}
        ledger = conn.execute("select count(*) from audit.load_ledger where file_name = %s", (escape,)).fetchone()
    assert "passwd" in names and not any("/" in n or "\\" in n for n in names)
    assert ledger == (1,)


def test_what_a_file_holds_is_shown_escaped(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    content = (HEADER + f"{UNIT_A},{PERIOD},HT_SCANNED,NA,<b id=chen>5</b>,6\n").encode()
    page = client.get(upload(client, UNIT_A, "<i>ten.csv", content, PERIOD).headers["location"]).text
    assert "&lt;b id=chen&gt;5&lt;/b&gt;" in page and "<b id=chen>" not in page
    assert 'id="ten-tep">_i_ten.csv<' in page, "< and > are not kept in a file name"


def test_an_upload_over_the_limit_is_refused_and_nothing_is_recorded(warehouse: str) -> None:
    small = make_app(max_upload_bytes=100_000)
    client = sign_in(client_for(small), warehouse, UNIT_A)
    with psycopg.connect(warehouse) as conn:
        (before,) = conn.execute("select count(*) from portal.upload").fetchone()  # type: ignore[misc]
    big = HEADER.encode() + b"x" * 300_000
    response = upload(client, UNIT_A, "qua_lon.csv", big, PERIOD)
    assert response.status_code == 413 and "Tệp quá lớn" in response.text
    with psycopg.connect(warehouse) as conn:
        (after,) = conn.execute("select count(*) from portal.upload").fetchone()  # type: ignore[misc]
    assert after == before


def _raw_request(base: str, head: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head.encode())
    return sock


def test_an_upload_declared_too_large_is_refused_before_its_body_is_read(warehouse: str) -> None:
    small = make_app(max_upload_bytes=100_000)
    session = sign_in(client_for(small), warehouse, UNIT_A).cookies["d06_phien"]
    with served(small) as base:
        sock = _raw_request(
            base,
            f"POST /don-vi/{UNIT_A}/nop HTTP/1.1\r\nHost: x\r\nCookie: d06_phien={session}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 50000000\r\n\r\n--b\r\n",
        )
        with sock:
            answer = sock.recv(65536).decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "Tệp quá lớn" in answer


def test_a_streamed_upload_is_stopped_once_it_passes_the_limit(warehouse: str) -> None:
    small = make_app(max_upload_bytes=100_000)
    session = sign_in(client_for(small), warehouse, UNIT_A).cookies["d06_phien"]
    total, sent, answer = 50_000_000, 0, b""
    chunk = b"x" * 65536
    with served(small) as base:
        sock = _raw_request(
            base,
            f"POST /don-vi/{UNIT_A}/nop HTTP/1.1\r\nHost: x\r\nCookie: d06_phien={session}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        with sock:
            part = b'--b\r\nContent-Disposition: form-data; name="tep"; filename="a.csv"\r\n\r\n'
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            try:
                while sent < total and not select.select([sock], [], [], 0)[0]:
                    sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    sent += len(chunk)
                answer = sock.recv(65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
    assert sent < total / 5, f"the server read {sent} bytes of a refused upload"
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


# --- cookies, headers, error pages, logs --------------------------------------------------------


def _session_cookie_header(client: TestClient, token: str) -> str:
    page = client.get("/dang-nhap/lien-ket", params={"t": token})
    visitor = page.headers["set-cookie"].split(";", 1)[0]  # sent by hand: a Secure cookie over http is not
    response = client.post(
        "/dang-nhap/lien-ket", data={"token": token, "csrf": csrf_of(page.text)}, headers={"cookie": visitor}
    )
    assert response.status_code == 303
    return next(v for v in response.headers.get_list("set-cookie") if v.startswith("d06_phien="))


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_tls(warehouse: str) -> None:
    plain = _session_cookie_header(client_for(make_app()), link_token(warehouse, UNIT_A)).lower()
    assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
    tls = _session_cookie_header(client_for(make_app(), "https://testserver"), link_token(warehouse, UNIT_A))
    assert "secure" in tls.lower()
    behind = client_for(make_app(trusted_proxies="*"))
    behind.headers["x-forwarded-proto"] = "https"
    assert "secure" in _session_cookie_header(behind, link_token(warehouse, UNIT_A)).lower()
    untrusted = client_for(make_app(trusted_proxies="10.9.9.9"))
    untrusted.headers["x-forwarded-proto"] = "https"
    assert "secure" not in _session_cookie_header(untrusted, link_token(warehouse, UNIT_A)).lower()
    forced = _session_cookie_header(client_for(make_app(secure_cookies="1")), link_token(warehouse, UNIT_A))
    assert "secure" in forced.lower()


def test_pages_carry_security_headers(app: Any) -> None:
    response = client_for(app).get("/dang-nhap")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_errors_are_vietnamese_pages_without_a_traceback(app: Any, warehouse: str) -> None:
    client = sign_in(client_for(app), warehouse, UNIT_A)
    missing = client.get("/khong-co-trang-nay")
    assert missing.status_code == 404 and "Không tìm thấy trang" in missing.text
    invalid = client.get(f"/don-vi/{UNIT_A}/tep/khong-phai-so")
    assert invalid.status_code == 400 and "Yêu cầu không hợp lệ" in invalid.text
    method = client.put(f"/don-vi/{UNIT_A}")
    assert method.status_code == 405 and "Thao tác không được phép" in method.text
    with environment(WAREHOUSE_DSN="postgresql://nobody:x@127.0.0.1:9/none"):
        down = client.get(f"/don-vi/{UNIT_A}")
    assert down.status_code == 500 and "Lỗi hệ thống" in down.text
    for page in (missing, invalid, method, down):
        assert page.headers["content-type"].startswith("text/html")
        assert "Traceback" not in page.text and "psycopg" not in page.text and 'lang="vi"' in page.text


def test_logs_hold_no_address_token_or_client_address(
    app: Any, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxied = make_app(trusted_proxies="*")
    client = client_for(proxied)
    client.headers["x-forwarded-for"] = "198.51.100.77"
    token = link_token(warehouse, UNIT_A)
    with caplog.at_level(logging.DEBUG, logger="ingest"):
        form = client.get("/dang-nhap")
        client.post("/dang-nhap", data={"email": "khong.ai@example.org", "csrf": csrf_of(form.text)})
        redeem(client, "sai-" + token)
        redeem(client, token)
        upload(client, UNIT_A, "nhat_ky.csv", (HEADER + f"{UNIT_A},{PERIOD},HT_SCANNED,NA,5,6\n").encode(), PERIOD)
    text = caplog.text
    assert "signed in: AG.STP" in text, "the log says what happened"
    for personal in ("khong.ai@example.org", "stp@angiang.d06.example", token, "198.51.100.77", "testclient"):
        assert personal not in text
